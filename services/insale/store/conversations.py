"""Buyers' latest conversations with each shop (system messages go there)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from services.insale.domain.conversations import BuyerConversation, fallback_conversation
from services.insale.store.tables import conversations
from shared.bulk import BulkInsert, upsert

_REMEMBER = BulkInsert(
    conversations,
    ["shop_id", "buyer_id", "conversation_id", "last_message_at"],
    on_conflict=upsert(
        ["shop_id", "buyer_id"],
        ["conversation_id", "last_message_at"],
        where="conversations.last_message_at <= EXCLUDED.last_message_at",
    ),
)


async def load_conversations(
    conn: AsyncConnection, buyers: Collection[tuple[str, str]]
) -> dict[tuple[str, str], BuyerConversation]:
    """The known conversations of these `(shop_id, buyer_id)` pairs, in one statement."""
    if not buyers:
        return {}
    rows = await conn.execute(
        select(conversations).where(
            tuple_(conversations.c.shop_id, conversations.c.buyer_id).in_(sorted(buyers))
        )
    )
    return {
        (r.shop_id, r.buyer_id): BuyerConversation(
            r.shop_id, r.buyer_id, r.conversation_id, r.last_message_at
        )
        for r in rows
    }


async def remember_conversations(conn: AsyncConnection, heard: Sequence[BuyerConversation]) -> None:
    """Keep each buyer's latest conversation, one statement; an older one never replaces a
    newer one another transaction stored meanwhile."""
    if heard:
        await _REMEMBER.execute(
            conn,
            [
                (c.shop_id, c.buyer_id, c.conversation_id, c.last_message_at)
                for c in sorted(heard, key=lambda c: (c.shop_id, c.buyer_id))
            ],
        )


async def conversation_of(conn: AsyncConnection, shop_id: str, buyer_id: str) -> str:
    """The buyer's conversation with the shop; the fallback id when none is known yet."""
    found = (
        await conn.execute(
            select(conversations.c.conversation_id).where(
                conversations.c.shop_id == shop_id, conversations.c.buyer_id == buyer_id
            )
        )
    ).scalar_one_or_none()
    return found or fallback_conversation(shop_id, buyer_id)
