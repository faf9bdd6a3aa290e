"""The insight loop's gaps (buyer questions the bot did not answer, `domain.gaps.Unanswered`):
saved in bulk by the message batch, answered by agents' replies, read as `domain.suggestions.Gap`
by the suggestion job, pruned after PRESALE_GAP_RETENTION_DAYS."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain.gaps import Unanswered
from services.presale.domain.suggestions import Gap
from services.presale.store.tables import kb_gaps
from shared.bulk import BulkInsert
from shared.masking import mask

_GAP_COLUMNS = ["message_id", "shop_id", "conversation_id", "buyer_id", "item_id", "intent",
                "confidence", "reason", "entities", "text_masked", "asked_at"]  # fmt: skip
_SAVE_GAPS = BulkInsert(kb_gaps, _GAP_COLUMNS, on_conflict="(message_id) DO NOTHING")


async def save_gaps(conn: AsyncConnection, gaps: Sequence[Unanswered]) -> None:
    """One statement for a batch's gaps (`shared.bulk`); a redelivered message's gap is
    already there. The answer columns are filled later by `link_reply`."""
    if gaps:
        await _SAVE_GAPS.execute(conn, [_row(g) for g in gaps])


def _row(g: Unanswered) -> tuple[object, ...]:
    return (g.message_id, g.shop_id, g.conversation_id, g.buyer_id, g.item_id, g.intent,
            g.confidence, g.reason, dict(g.entities), g.text_masked, g.asked_at)  # fmt: skip


async def link_reply(
    conn: AsyncConnection,
    conversation_id: str,
    answer: str,
    agent_id: str,
    at: datetime,
    within: timedelta,
) -> bool:
    """An agent's message answers the conversation's latest question before it, if that one
    is a gap nobody has answered yet (an agent answers a burst of questions at its last one).
    True when a gap got its answer."""
    result = await conn.execute(
        text(
            "UPDATE kb_gaps SET answer_masked = :answer, answered_by = :agent, answered_at = :at"
            " WHERE message_id = (SELECT message_id FROM kb_gaps WHERE conversation_id = :c"
            "   AND asked_at <= :at AND asked_at > :since"
            "   ORDER BY asked_at DESC, message_id DESC LIMIT 1)"
            " AND answer_masked IS NULL"
        ),
        {"answer": mask(answer), "agent": agent_id[:100], "at": at, "c": conversation_id,
         "since": at - within},
    )  # fmt: skip
    return result.rowcount == 1


async def gaps_since(conn: AsyncConnection, shop_id: str, since: datetime) -> list[Gap]:
    rows = await conn.execute(
        select(kb_gaps)
        .where(kb_gaps.c.shop_id == shop_id, kb_gaps.c.asked_at >= since)
        .order_by(kb_gaps.c.asked_at, kb_gaps.c.message_id)
    )
    return [
        Gap(r.message_id, r.buyer_id, r.text_masked, r.intent, r.reason, r.item_id,
            r.answer_masked)
        for r in rows
    ]  # fmt: skip


async def shops_with_gaps(conn: AsyncConnection, since: datetime) -> list[str]:
    rows = await conn.execute(
        select(kb_gaps.c.shop_id).where(kb_gaps.c.asked_at >= since).distinct()
    )
    return sorted(r.shop_id for r in rows)


async def prune_gaps(conn: AsyncConnection, before: datetime) -> int:
    return (await conn.execute(delete(kb_gaps).where(kb_gaps.c.asked_at < before))).rowcount
