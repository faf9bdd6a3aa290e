"""What the services know about the buyer, used to read questions whose meaning depends on it.

今天发货吗 before an order asks how fast the shop ships (shipping_time); after paying it is an
urge (urge_shipping); once shipped, 几天能到 asks where the parcel is (logistics_status). The
text alone cannot tell these apart, the order's state can. `resolve` moves the probability
of an intent that cannot be meant in the buyer's situation to the intent it then means, so
the confidence stays a probability. Unknown context (None) changes nothing.

Where the context comes from: `cs.message.received.v1` carries the `order_id` the buyer wrote
from (the IM gateway attaches it), which says the buyer has an order; the order's phase is
known to insale from `trade.order.changed.v1` (see docs/architecture.md, "Buyer context").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from shared.contracts.emitted import Stage

OrderPhase = Literal["none", "unpaid", "paid", "shipped", "received"]
ORDER_PHASES: tuple[OrderPhase, ...] = ("none", "unpaid", "paid", "shipped", "received")

# Platform order statuses (trade.order.changed.v1) → the phase the classifier reasons with.
_PHASE_OF_STATUS: dict[str, OrderPhase] = {
    "WAIT_BUYER_PAY": "unpaid",
    "TRADE_NO_CREATE_PAY": "unpaid",
    "WAIT_SELLER_SEND_GOODS": "paid",
    "SELLER_CONSIGNED_PART": "shipped",
    "WAIT_BUYER_CONFIRM_GOODS": "shipped",
    "TRADE_BUYER_SIGNED": "received",
    "TRADE_FINISHED": "received",
}


def phase_of_status(status: str | None) -> OrderPhase | None:
    """The phase of a platform order status; None for closed or unknown statuses."""
    return _PHASE_OF_STATUS.get(status or "")


@dataclass(frozen=True)
class BuyerContext:
    """`order`: the phase of the buyer's current order ("none" = known to have none; None =
    unknown). `stage`: the conversation's stage so far (from earlier messages or an open case)."""

    order: OrderPhase | None = None
    stage: Stage | None = None


# (phase, intent the text seems to be) → the intent it means in that phase.
_MEANS: dict[OrderPhase, dict[str, str]] = {
    # No order yet: questions about shipping are about the shop's shipping times.
    "none": {"urge_shipping": "shipping_time", "logistics_status": "shipping_time"},
    "unpaid": {"urge_shipping": "shipping_time", "logistics_status": "shipping_time"},
    # Paid, not shipped: asking when it ships or arrives is an urge.
    "paid": {"shipping_time": "urge_shipping", "logistics_status": "urge_shipping"},
    # On its way: when will it arrive / has it shipped is a logistics question.
    "shipped": {"shipping_time": "logistics_status", "urge_shipping": "logistics_status"},
    # Received: "cancel" can only mean sending it back.
    "received": {"cancel_order": "return_exchange"},
}
# Without an order phase, an open after-sale conversation still tells a cancel from a return.
_MEANS_IN_STAGE: dict[Stage, dict[str, str]] = {
    "aftersale": {"cancel_order": "return_exchange"},
}


def resolve(
    classes: Sequence[str], probs: list[float], context: BuyerContext | None
) -> list[float]:
    """Probabilities after moving each impossible intent's mass to what it means here."""
    if context is None:
        return probs
    if context.order is not None:
        means = _MEANS[context.order]
    elif context.stage is not None:
        means = _MEANS_IN_STAGE.get(context.stage, {})
    else:
        return probs
    if not means:
        return probs
    index = {c: i for i, c in enumerate(classes)}
    out = list(probs)
    for seems, meant in means.items():
        out[index[meant]] += out[index[seems]]
        out[index[seems]] = 0.0
    return out
