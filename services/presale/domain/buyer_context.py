"""What presale knows of a buyer when a message arrives: the phase of the buyer's latest order
and the conversation's stage so far, for the classifier's `BuyerContext`. Pure.

- **Order phase** — from `trade.order.changed.v1`, presale keeps each buyer's latest order
  (latest by change time) per shop. An order changed within the window gives its phase
  (`phase_of_status`; closed orders give none: unknown). No order within the window means
  "none" only once the shop's orders have been followed for the whole window — before that,
  presale cannot tell "no order" from "an order it has not heard of", and says nothing.
- **Stage** — the stage of the conversation's last substantive buyer message (greetings,
  thanks and chit-chat keep it), or `aftersale` once insale or aftersale hands over a case
  with a refund (`cs.handoff.requested.v1` with a `refund_id`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.presale.domain.nlu.context import BuyerContext, OrderPhase, phase_of_status
from services.presale.domain.nlu.stages import is_substantive, stage_of
from shared.contracts.emitted import Intent, Stage

DEFAULT_WINDOW = timedelta(days=30)

BuyerKey = tuple[str, str]
"""(shop_id, buyer_id)"""


@dataclass(frozen=True)
class LatestOrder:
    """A buyer's most recently changed order, as far as presale has heard."""

    order_id: str
    status: str
    changed_at: datetime

    def supersedes(self, known: LatestOrder | None) -> bool:
        """Latest by change time. On a tie the one already known stays, so a redelivery, a
        replay or a late older event never changes what is known."""
        return known is None or self.changed_at > known.changed_at


def order_phase(
    latest: LatestOrder | None,
    *,
    followed_since: datetime | None,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> OrderPhase | None:
    """The phase of the buyer's current order: that of the latest order changed within the
    window; "none" when there is none and the shop's orders have been followed for the whole
    window; None (unknown) otherwise."""
    if latest is not None and latest.changed_at >= now - window:
        return phase_of_status(latest.status)
    if followed_since is not None and followed_since <= now - window:
        return "none"
    return None


def next_stage(previous: Stage | None, intent: Intent) -> Stage | None:
    """The conversation's stage after a buyer message of this intent."""
    return stage_of(intent) if is_substantive(intent) else previous


def buyer_context(order: OrderPhase | None, stage: Stage | None) -> BuyerContext | None:
    """The classifier's context; None when nothing is known."""
    if order is None and stage is None:
        return None
    return BuyerContext(order=order, stage=stage)


@dataclass
class OrderBook:
    """A batch's view of the buyers' latest orders: the rows it loaded, folded with the order
    events of the batch in record order; `changed` and `new_shops` are what to save."""

    latest: dict[BuyerKey, LatestOrder] = field(default_factory=dict)
    followed_since: dict[str, datetime] = field(default_factory=dict)
    window: timedelta = DEFAULT_WINDOW
    changed: set[BuyerKey] = field(default_factory=set)
    new_shops: set[str] = field(default_factory=set)

    def phase(self, shop_id: str, buyer_id: str, now: datetime) -> OrderPhase | None:
        return order_phase(
            self.latest.get((shop_id, buyer_id)),
            followed_since=self.followed_since.get(shop_id),
            now=now,
            window=self.window,
        )

    def heard(self, shop_id: str, buyer_id: str, order: LatestOrder, now: datetime) -> None:
        """Fold one order event in: the first one of a shop starts following its orders."""
        if shop_id not in self.followed_since:
            self.followed_since[shop_id] = now
            self.new_shops.add(shop_id)
        key = (shop_id, buyer_id)
        if order.supersedes(self.latest.get(key)):
            self.latest[key] = order
            self.changed.add(key)
