"""Where a buyer talks to the shop: insale's own messages go to the latest conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class BuyerConversation:
    shop_id: str
    buyer_id: str
    conversation_id: str
    last_message_at: datetime


def remember(known: BuyerConversation | None, heard: BuyerConversation) -> BuyerConversation | None:
    """The conversation to keep after a message in `heard`: the later one (a tie goes to the
    new one); None when the known one stays."""
    if known is None or known.last_message_at <= heard.last_message_at:
        return heard
    return None


def fallback_conversation(shop_id: str, buyer_id: str) -> str:
    """The conversation id when none is known yet (presale uses the same convention)."""
    return f"{shop_id}:{buyer_id}"
