"""The insight loop's gaps (buyer questions the bot did not answer, `domain.gaps.Unanswered`):
saved in bulk by the message batch, answered by agents' replies (linked in bulk too), read as `domain.suggestions.Gap`
by the suggestion job, pruned after PRESALE_GAP_RETENTION_DAYS."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain.gaps import GapAnswer, Unanswered
from services.presale.domain.suggestions import Gap
from services.presale.store.tables import kb_gaps
from shared.bulk import BulkInsert

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


_LINK_REPLIES = text(
    "UPDATE kb_gaps SET answer_masked = v.answer, answered_by = v.agent, answered_at = v.at"
    " FROM (SELECT DISTINCT ON (t.message_id) t.message_id, r.answer, r.agent, r.at"
    "   FROM unnest(CAST(:convs AS text[]), CAST(:answers AS text[]), CAST(:agents AS text[]),"
    "               CAST(:ats AS timestamptz[]), CAST(:sinces AS timestamptz[]))"
    "        WITH ORDINALITY AS r(conversation_id, answer, agent, at, since, seq)"
    "   CROSS JOIN LATERAL (SELECT message_id FROM kb_gaps"
    "     WHERE conversation_id = r.conversation_id AND asked_at <= r.at AND asked_at > r.since"
    "     ORDER BY asked_at DESC, message_id DESC LIMIT 1) t"
    "   ORDER BY t.message_id, r.seq) v"
    " WHERE kb_gaps.message_id = v.message_id AND kb_gaps.answer_masked IS NULL"
)


async def link_replies(conn: AsyncConnection, answers: Sequence[GapAnswer]) -> int:
    """Each agent's answer goes to its conversation's latest question before it, if that one
    is a gap nobody has answered yet; when several answers of the batch find the same gap, the
    first one (in the batch's order) has it, as if they were linked one by one. One statement;
    returns how many gaps got their answer."""
    if not answers:
        return 0
    result = await conn.execute(
        _LINK_REPLIES,
        {
            "convs": [a.conversation_id for a in answers],
            "answers": [a.answer_masked for a in answers],
            "agents": [a.agent_id for a in answers],
            "ats": [a.at for a in answers],
            "sinces": [a.since for a in answers],
        },
    )
    return result.rowcount


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
