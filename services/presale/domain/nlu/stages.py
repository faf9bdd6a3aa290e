"""Which stage of the sale each intent belongs to, and which presale intents a bot may answer."""

from __future__ import annotations

from typing import get_args

from shared.contracts.emitted import Intent, Stage

INTENTS: tuple[Intent, ...] = get_args(Intent)
INSALE: frozenset[Intent] = frozenset(
    {"logistics_status", "urge_shipping", "address_change", "payment_issue", "order_modify",
     "cancel_order"}
)  # fmt: skip
AFTERSALE: frozenset[Intent] = frozenset(
    {"refund", "return_exchange", "quality_issue", "missing_or_wrong_item", "complaint"}
)
# Presale questions a knowledge base can answer without a human.
AUTO_ANSWERABLE: frozenset[Intent] = frozenset(
    {"greeting", "product_spec", "size_advice", "stock", "price_promotion", "free_shipping",
     "shipping_time", "courier", "invoice", "usage_help"}
)  # fmt: skip
# Secondary intents worth reporting: everything but conversational filler.
_FILLER: frozenset[Intent] = frozenset({"greeting", "acknowledgement", "other"})


def stage_of(intent: Intent) -> Stage:
    if intent in INSALE:
        return "insale"
    if intent in AFTERSALE:
        return "aftersale"
    return "presale"


def is_substantive(intent: Intent) -> bool:
    return intent not in _FILLER


STAGE_OF: dict[Intent, Stage] = {i: stage_of(i) for i in INTENTS}
