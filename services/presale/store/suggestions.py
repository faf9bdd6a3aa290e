"""KB suggestions to review (`kb_suggestions`), loaded and saved as
`domain.suggestions.Suggestion`: the suggestion job replaces a shop's pending ones, reviewers
accept or reject them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain.suggestions import Draft, Suggestion, SuggestionStatus
from services.presale.store.tables import kb_suggestions


def suggestion_id(shop_id: str, key: str) -> str:
    return hashlib.sha256(f"{shop_id}\x1f{key}".encode()).hexdigest()[:20]


def draft_document(d: Draft) -> dict[str, Any]:
    """The draft as stored (its `variants` have a column of their own)."""
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


def _suggestion(row: Row[Any]) -> Suggestion:
    d = row.draft
    draft = Draft(key=d["key"], item_id=d["item_id"], intent=d["intent"], answer=d["answer"],
                  answer_share=d["answer_share"], keywords=tuple(d["keywords"]),
                  examples=tuple((e["text"], e["count"]) for e in d["examples"]),
                  variants=tuple(row.variants), asked=d["asked"], buyers=d["buyers"],
                  handoffs=d["handoffs"])  # fmt: skip
    return Suggestion(suggestion_id=row.suggestion_id, shop_id=row.shop_id, status=row.status,
                      rank=row.rank, draft=draft, created_at=row.created_at,
                      updated_at=row.updated_at, decided_at=row.decided_at,
                      decided_by=row.decided_by, kb_version=row.kb_version)  # fmt: skip


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
    conn: AsyncConnection, shop_id: str, status: SuggestionStatus | None = "pending"
) -> list[Suggestion]:
    """The shop's suggestions (of one status, or all), best ranked first."""
    q = select(kb_suggestions).where(kb_suggestions.c.shop_id == shop_id)
    if status is not None:
        q = q.where(kb_suggestions.c.status == status)
    q = q.order_by(kb_suggestions.c.rank, kb_suggestions.c.suggestion_id)
    return [_suggestion(r) for r in await conn.execute(q)]


async def suggestion(
    conn: AsyncConnection, shop_id: str, sid: str, *, lock: bool = False
) -> Suggestion | None:
    q = select(kb_suggestions).where(
        kb_suggestions.c.shop_id == shop_id, kb_suggestions.c.suggestion_id == sid
    )
    row = (await conn.execute(q.with_for_update() if lock else q)).first()
    return _suggestion(row) if row is not None else None


async def decide(
    conn: AsyncConnection,
    sid: str,
    status: SuggestionStatus,
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
