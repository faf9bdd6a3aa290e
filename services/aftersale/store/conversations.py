"""The buyer's latest conversation per shop (where replies about a case go): the shared table
access (`shared/conversation_store.py`) on aftersale's table."""

from __future__ import annotations

from services.aftersale.store.tables import conversations
from shared.conversation_store import ConversationStore

_STORE = ConversationStore(conversations, "seen_at")

conversations_of = _STORE.load
save_conversations = _STORE.save
