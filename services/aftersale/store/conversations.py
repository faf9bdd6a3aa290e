"""The buyer's latest conversation per shop (where replies about a case go)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.domain.model import BuyerKey, Conversation
from services.aftersale.store.sql import pair_in
from services.aftersale.store.tables import conversations
from shared.bulk import BulkInsert, upsert

_SAVE = BulkInsert(
    conversations,
    ["shop_id", "buyer_id", "conversation_id", "seen_at"],
    on_conflict=upsert(
        ["shop_id", "buyer_id"],
        ["conversation_id", "seen_at"],
        where="conversations.seen_at <= EXCLUDED.seen_at",
    ),
)


async def conversations_of(
    conn: AsyncConnection, buyers: Collection[BuyerKey]
) -> dict[BuyerKey, Conversation]:
    if not buyers:
        return {}
    c = conversations
    rows = await conn.execute(select(c).where(pair_in(c.c.shop_id, c.c.buyer_id, buyers)))
    return {
        (r.shop_id, r.buyer_id): Conversation(r.shop_id, r.buyer_id, r.conversation_id, r.seen_at)
        for r in rows
    }


async def save_conversations(conn: AsyncConnection, changed: Sequence[Conversation]) -> None:
    if changed:
        await _SAVE.execute(
            conn, [(c.shop_id, c.buyer_id, c.conversation_id, c.seen_at) for c in changed]
        )
