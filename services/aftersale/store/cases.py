"""Cases and their history: loaded locked for a batch, saved in bulk; read by the API."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.domain.model import Case, HistoryEntry
from services.aftersale.store.tables import case_history, cases
from shared.bulk import BulkInsert, upsert
from shared.sql_arrays import among

CASE_FIELDS = [f.name for f in fields(Case)]
_case_values = attrgetter(*CASE_FIELDS)
"""A case as one tuple in `CASE_FIELDS` order (risk reasons, a tuple, travel as JSON)."""


def _case(row: Row[Any]) -> Case:
    values = {name: getattr(row, name) for name in CASE_FIELDS}
    if values["risk_reasons"] is not None:
        values["risk_reasons"] = tuple(values["risk_reasons"])
    return Case(**values)


def _row(case: Case) -> dict[str, Any]:
    row = {name: getattr(case, name) for name in CASE_FIELDS}
    if case.risk_reasons is not None:
        row["risk_reasons"] = list(case.risk_reasons)
    return row


async def lock_cases(
    conn: AsyncConnection,
    *,
    case_ids: Collection[str] = (),
    refund_ids: Collection[str] = (),
    order_ids: Collection[str] = (),
) -> dict[str, Case]:
    """Every case with one of these ids, refunds or orders, locked in id order.

    One indexed lookup per kind of id, their union, then the rows locked in case-id order: an
    `OR` of the three would read the whole table on every batch."""
    lookups = [
        select(cases.c.case_id).where(among(column, ids))
        for column, ids in (
            (cases.c.case_id, case_ids),
            (cases.c.refund_id, refund_ids),
            (cases.c.order_id, order_ids),
        )
        if ids
    ]
    if not lookups:
        return {}
    wanted = lookups[0] if len(lookups) == 1 else union(*lookups)
    rows = await conn.execute(
        select(cases).where(cases.c.case_id.in_(wanted)).order_by(cases.c.case_id).with_for_update()
    )
    return {r.case_id: _case(r) for r in rows}


_SAVE_CASES = BulkInsert(
    cases,
    CASE_FIELDS,
    on_conflict=upsert(
        ["case_id"], [n for n in CASE_FIELDS if n != "case_id"], extra="updated_at = now()"
    ),
)
_APPEND_HISTORY = BulkInsert(case_history, ["case_id", "at", "event", "detail"])
"""Fixed statements over column arrays (`shared.bulk`), whatever the batch size."""


async def save_cases(conn: AsyncConnection, changed: Sequence[Case]) -> None:
    """Insert or overwrite these cases, one statement."""
    if changed:
        await _SAVE_CASES.execute(conn, [_case_values(c) for c in changed])


async def insert_case(
    conn: AsyncConnection,
    *,
    case_id: str,
    shop_id: str,
    kind: str,
    state: str,
    order_id: str,
    buyer_id: str,
    opened_at: datetime,
    refund_id: str | None = None,
    reason: str | None = None,
    requested_at: datetime | None = None,
    cs_status: int | None = None,
    status_changed_at: datetime | None = None,
    deadline: datetime | None = None,
    resolved_at: datetime | None = None,
) -> bool:
    """Create one case unless it exists (fixtures and tools; handlers save in bulk)."""
    case = Case(
        case_id=case_id, shop_id=shop_id, kind=kind, state=state, order_id=order_id,
        buyer_id=buyer_id, opened_at=opened_at, refund_id=refund_id, reason=reason,
        requested_at=requested_at, cs_status=cs_status, status_changed_at=status_changed_at,
        deadline=deadline, resolved_at=resolved_at,
    )  # fmt: skip
    stmt = insert(cases).values(_row(case)).on_conflict_do_nothing()
    return (await conn.execute(stmt)).rowcount == 1


async def get_case(
    conn: AsyncConnection, case_id: str, *, shop_id: str | None = None
) -> Case | None:
    """A case by id; with `shop_id` (any caller-named id) only if it is that shop's."""
    stmt = select(cases).where(cases.c.case_id == case_id)
    if shop_id is not None:
        stmt = stmt.where(cases.c.shop_id == shop_id)
    row = (await conn.execute(stmt)).first()
    return _case(row) if row is not None else None


async def case_by_refund(conn: AsyncConnection, shop_id: str, refund_id: str) -> Case | None:
    """The shop's case of that refund (another shop's is not returned)."""
    stmt = select(cases).where(cases.c.refund_id == refund_id, cases.c.shop_id == shop_id)
    row = (await conn.execute(stmt)).first()
    return _case(row) if row is not None else None


async def list_cases(
    conn: AsyncConnection,
    shop_id: str,
    *,
    state: str | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> list[Case]:
    stmt = select(cases).where(cases.c.shop_id == shop_id)
    if state:
        stmt = stmt.where(cases.c.state == state)
    if kind:
        stmt = stmt.where(cases.c.kind == kind)
    stmt = stmt.order_by(cases.c.opened_at.desc(), cases.c.case_id).limit(limit).offset(offset)
    return [_case(r) for r in await conn.execute(stmt)]


# -- history -------------------------------------------------------------------------------
def _entry(row: Row[Any]) -> HistoryEntry:
    return HistoryEntry(row.case_id, row.at, row.event, row.detail)


async def histories(
    conn: AsyncConnection, case_ids: Collection[str]
) -> dict[str, list[HistoryEntry]]:
    """The history of each of these cases, oldest first."""
    if not case_ids:
        return {}
    h = case_history
    rows = await conn.execute(
        select(h).where(among(h.c.case_id, case_ids)).order_by(h.c.case_id, h.c.at, h.c.id)
    )
    out: dict[str, list[HistoryEntry]] = {}
    for r in rows:
        out.setdefault(r.case_id, []).append(_entry(r))
    return out


async def history(conn: AsyncConnection, case_id: str) -> list[HistoryEntry]:
    return (await histories(conn, [case_id])).get(case_id, [])


async def append_history(conn: AsyncConnection, entries: Sequence[HistoryEntry]) -> None:
    """In order: entries of one case keep the order they were written in (ids ascend)."""
    if entries:
        await _APPEND_HISTORY.execute(conn, [(e.case_id, e.at, e.event, e.detail) for e in entries])


async def add_history(
    conn: AsyncConnection, case_id: str, at: datetime, event: str, detail: str = ""
) -> None:
    await append_history(conn, [HistoryEntry(case_id, at, event, detail)])
