"""The buyers' latest conversations table (`shop_id`, `buyer_id`, `conversation_id` and the
time of the last message; each service names that column its own way), loaded many at a time
and saved in one statement, an older conversation never replacing a newer one."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.bulk import BulkInsert, upsert
from shared.conversations import BuyerConversation, BuyerKey, conversation_id
from shared.sql_arrays import pairs_among


class ConversationStore:
    def __init__(self, table: Table, at_column: str) -> None:
        self.table = table
        self._at = table.c[at_column]
        self._save = BulkInsert(
            table,
            ["shop_id", "buyer_id", "conversation_id", at_column],
            on_conflict=upsert(
                ["shop_id", "buyer_id"],
                ["conversation_id", at_column],
                where=f"{table.name}.{at_column} <= EXCLUDED.{at_column}",
            ),
        )

    async def load(
        self, conn: AsyncConnection, buyers: Collection[BuyerKey]
    ) -> dict[BuyerKey, BuyerConversation]:
        """The known conversations of these buyers, one statement (the pairs as two array
        parameters: one plan for any number of buyers)."""
        if not buyers:
            return {}
        t = self.table
        rows = await conn.execute(
            select(t.c.shop_id, t.c.buyer_id, t.c.conversation_id, self._at).where(
                pairs_among(t.c.shop_id, t.c.buyer_id, buyers)
            )
        )
        return {(r[0], r[1]): BuyerConversation(r[0], r[1], r[2], r[3]) for r in rows}

    async def save(self, conn: AsyncConnection, heard: Sequence[BuyerConversation]) -> None:
        """Keep each buyer's latest conversation (at most one per buyer), one statement."""
        if heard:
            await self._save.execute(
                conn,
                [
                    (c.shop_id, c.buyer_id, c.conversation_id, c.at)
                    for c in sorted(heard, key=lambda c: c.buyer)
                ],
            )

    async def conversation_id(self, conn: AsyncConnection, shop_id: str, buyer_id: str) -> str:
        """The buyer's conversation with the shop; the fallback id when none is known yet."""
        found = (await self.load(conn, [(shop_id, buyer_id)])).get((shop_id, buyer_id))
        return conversation_id(found, shop_id, buyer_id)
