"""A buyer's latest conversation with a shop: where messages to the buyer go (insale's
system messages, aftersale's replies about a case, presale's hand-offs). Pure: the rule of
which conversation is kept, and the id used while none is known. The table behind it is
`shared/conversation_store.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

BuyerKey = tuple[str, str]
"""(shop_id, buyer_id): buyers are known per shop."""


@dataclass(frozen=True)
class BuyerConversation:
    shop_id: str
    buyer_id: str
    conversation_id: str
    at: datetime
    """When the buyer last wrote in it."""

    @property
    def buyer(self) -> BuyerKey:
        return (self.shop_id, self.buyer_id)


def remember(known: BuyerConversation | None, heard: BuyerConversation) -> BuyerConversation | None:
    """The conversation to keep after a message in `heard`: the later one (a tie goes to the
    new one); None when the known one stays."""
    if known is None or known.at <= heard.at:
        return heard
    return None


def fallback_conversation(shop_id: str, buyer_id: str) -> str:
    """The conversation id when none is known yet (the same convention in every service)."""
    return f"{shop_id}:{buyer_id}"


def conversation_id(known: BuyerConversation | None, shop_id: str, buyer_id: str) -> str:
    """Where a message to the buyer goes: the latest conversation, else the fallback id."""
    return known.conversation_id if known is not None else fallback_conversation(shop_id, buyer_id)
