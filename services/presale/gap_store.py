"""The insight loop's storage: gaps (questions the bot did not answer) and KB suggestions."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain.nlu import Understanding
from services.presale.domain.suggestions import Draft, Gap, faq_entry
from services.presale.store import kb_gaps, kb_suggestions
from shared.bulk import BulkInsert
from shared.contracts import MessageReceived
from shared.masking import mask


def gap_row(
    m: MessageReceived, u: Understanding, reason: str, text_masked: str | None = None
) -> dict[str, Any]:
    """A buyer message the bot did not answer, as stored: masked text (`text_masked` when the
    caller has already masked it), no personal data."""
    return {
        "message_id": m.message_id,
        "shop_id": m.shop_id,
        "conversation_id": m.conversation_id,
        "buyer_id": m.buyer_id,
        "item_id": m.item_id,
        "intent": u.intent,
        "confidence": u.confidence,
        "reason": reason,
        "entities": u.entities.model_dump(mode="json", exclude_none=True),
        "text_masked": text_masked if text_masked is not None else mask(m.text),
        "asked_at": m.sent_at,
    }


_GAP_COLUMNS = ["message_id", "shop_id", "conversation_id", "buyer_id", "item_id", "intent",
                "confidence", "reason", "entities", "text_masked", "asked_at"]  # fmt: skip
_SAVE_GAPS = BulkInsert(kb_gaps, _GAP_COLUMNS, on_conflict="(message_id) DO NOTHING")


async def save_gaps(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """One statement for a batch's gaps (`shared.bulk`); a redelivered message's gap is
    already there. The answer columns are filled later by `link_reply`."""
    if rows:
        await _SAVE_GAPS.execute(conn, [tuple(r.get(c) for c in _GAP_COLUMNS) for r in rows])


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


# -- suggestions ---------------------------------------------------------------------------


def suggestion_id(shop_id: str, key: str) -> str:
    return hashlib.sha256(f"{shop_id}\x1f{key}".encode()).hexdigest()[:20]


def draft_document(d: Draft) -> dict[str, Any]:
    return {
        "key": d.key,
        "item_id": d.item_id,
        "intent": d.intent,
        "answer": d.answer,
        "answer_share": d.answer_share,
        "keywords": list(d.keywords),
        "examples": [{"text": t, "count": n} for t, n in d.examples],
        "asked": d.asked,
        "buyers": d.buyers,
        "handoffs": d.handoffs,
    }


async def replace_pending(
    conn: AsyncConnection, shop_id: str, drafts: Sequence[Draft], now: datetime
) -> None:
    """The shop's pending suggestions become `drafts` (ranked in order). A group already
    accepted or rejected keeps its decision; pending ones no longer drafted are removed."""
    ids = [suggestion_id(shop_id, d.key) for d in drafts]
    await conn.execute(
        delete(kb_suggestions).where(
            kb_suggestions.c.shop_id == shop_id,
            kb_suggestions.c.status == "pending",
            kb_suggestions.c.suggestion_id.not_in(ids),
        )
    )
    if not drafts:
        return
    rows = [
        {"suggestion_id": sid, "shop_id": shop_id, "status": "pending", "rank": rank,
         "draft": draft_document(d), "variants": list(d.variants), "created_at": now,
         "updated_at": now}
        for rank, (sid, d) in enumerate(zip(ids, drafts, strict=True), start=1)
    ]  # fmt: skip
    stmt = insert(kb_suggestions)
    stmt = stmt.on_conflict_do_update(
        index_elements=["suggestion_id"],
        set_={"rank": stmt.excluded.rank, "draft": stmt.excluded.draft,
              "variants": stmt.excluded.variants, "updated_at": stmt.excluded.updated_at},
        where=kb_suggestions.c.status == "pending",
    )  # fmt: skip
    await conn.execute(stmt, rows)


async def suggestions(
    conn: AsyncConnection, shop_id: str, status: str | None = "pending"
) -> list[Row[Any]]:
    q = select(kb_suggestions).where(kb_suggestions.c.shop_id == shop_id)
    if status is not None:
        q = q.where(kb_suggestions.c.status == status)
    return list((await conn.execute(q.order_by(kb_suggestions.c.rank,
                                               kb_suggestions.c.suggestion_id))).all())  # fmt: skip


async def suggestion(
    conn: AsyncConnection, shop_id: str, sid: str, *, lock: bool = False
) -> Row[Any] | None:
    q = select(kb_suggestions).where(
        kb_suggestions.c.shop_id == shop_id, kb_suggestions.c.suggestion_id == sid
    )
    return (await conn.execute(q.with_for_update() if lock else q)).first()


async def decide(
    conn: AsyncConnection,
    sid: str,
    status: str,
    by: str,
    at: datetime,
    kb_version: int | None = None,
) -> None:
    await conn.execute(
        update(kb_suggestions)
        .where(kb_suggestions.c.suggestion_id == sid)
        .values(status=status, decided_by=by[:100], decided_at=at, updated_at=at,
                kb_version=kb_version)
    )  # fmt: skip


async def rejected_variants(conn: AsyncConnection, shop_id: str) -> list[list[str]]:
    rows = await conn.execute(
        select(kb_suggestions.c.variants).where(
            kb_suggestions.c.shop_id == shop_id, kb_suggestions.c.status == "rejected"
        )
    )
    return [list(r.variants) for r in rows]


async def counts(conn: AsyncConnection, shop_id: str) -> dict[str, int]:
    rows = await conn.execute(
        select(kb_suggestions.c.status, func.count())
        .where(kb_suggestions.c.shop_id == shop_id)
        .group_by(kb_suggestions.c.status)
    )
    return {status: int(n) for status, n in rows}


def faq_for(row: Row[Any], answer: str | None, keywords: Sequence[str] | None) -> dict[str, Any]:
    """The FAQ an accepted suggestion adds to the KB (`faq_id`: suggested-<id>)."""
    d = row.draft
    draft = Draft(key=d["key"], item_id=d["item_id"], intent=d["intent"], answer=d["answer"],
                  answer_share=d["answer_share"], keywords=tuple(keywords or d["keywords"]),
                  examples=(), variants=(), asked=d["asked"], buyers=d["buyers"],
                  handoffs=d["handoffs"])  # fmt: skip
    return dict(faq_entry(draft, f"suggested-{row.suggestion_id[:12]}", answer))
