"""Buyers' latest conversations with each shop (system messages go there): the shared
table access (`shared/conversation_store.py`) on insale's table."""

from __future__ import annotations

from services.insale.store.tables import conversations
from shared.conversation_store import ConversationStore

_STORE = ConversationStore(conversations, "last_message_at")

load_conversations = _STORE.load
"""The known conversations of these `(shop_id, buyer_id)` pairs, in one statement."""
remember_conversations = _STORE.save
"""Keep each buyer's latest conversation, one statement; an older one never replaces a newer
one another transaction stored meanwhile."""
conversation_of = _STORE.conversation_id
"""The buyer's conversation with the shop; the fallback id when none is known yet."""
