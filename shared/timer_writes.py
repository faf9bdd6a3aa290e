"""Timers armed, re-armed and cancelled in bulk: at most three fixed statements per batch
(`shared/bulk.py`), whatever the number of timers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.bulk import BulkInsert
from shared.effects import TimerArm

_TIMER_COLUMNS = ["kind", "key", "due_at", "payload", "traceparent"]
_TIMER_WRITES: dict[Table, tuple[BulkInsert, BulkInsert, TextClause]] = {}


def _timer_statements(timers: Table) -> tuple[BulkInsert, BulkInsert, TextClause]:
    """Create, re-arm and cancel, each one fixed statement over column arrays."""
    found = _TIMER_WRITES.get(timers)
    if found is None:
        create = BulkInsert(
            timers, _TIMER_COLUMNS, on_conflict="ON CONSTRAINT uq_timers_kind_key DO NOTHING"
        )
        rearm = BulkInsert(
            timers, _TIMER_COLUMNS,
            on_conflict="ON CONSTRAINT uq_timers_kind_key DO UPDATE SET due_at = EXCLUDED.due_at,"
            " payload = EXCLUDED.payload, traceparent = EXCLUDED.traceparent,"
            " fired_at = NULL, cancelled_at = NULL",
        )  # fmt: skip
        # `coalesce(…) IS NULL` rather than `fired_at IS NULL AND cancelled_at IS NULL`: the
        # latter matches the partial index of pending timers, which the planner, misled by
        # lagging statistics (one pending row estimated, 30,000 there), scanned in full once
        # per cancelled key. Written so, the one plan is a probe of (kind, key) per cancel.
        cancel = text(
            f"UPDATE {timers.name} AS t SET cancelled_at = now()"
            " FROM unnest(CAST(:kinds AS text[]), CAST(:keys AS text[])) AS c(kind, key)"
            " WHERE t.kind = c.kind AND t.key = c.key"
            " AND coalesce(t.fired_at, t.cancelled_at) IS NULL"
        )
        found = _TIMER_WRITES[timers] = (create, rearm, cancel)
    return found


async def write_timers(
    conn: AsyncConnection, timers: Table, arms: Sequence[tuple[TimerArm, str | None]]
) -> None:
    """Arm, re-arm and cancel timers in at most three statements; `(arm, traceparent)` pairs,
    at most one per (kind, key). A re-armed timer takes the trace of the record re-arming it."""
    create_stmt, rearm_stmt, cancel_stmt = _timer_statements(timers)
    create = [(a, tp) for a, tp in arms if a.due_at is not None and not a.replace]
    rearm = [(a, tp) for a, tp in arms if a.due_at is not None and a.replace]
    cancel = [a for a, _ in arms if a.due_at is None]

    def rows(group: list[tuple[TimerArm, str | None]]) -> list[tuple[Any, ...]]:
        return [(a.kind, a.key, a.due_at, dict(a.payload), tp) for a, tp in group]

    if create:
        await create_stmt.execute(conn, rows(create))
    if rearm:
        await rearm_stmt.execute(conn, rows(rearm))
    if cancel:
        await conn.execute(
            cancel_stmt, {"kinds": [a.kind for a in cancel], "keys": [a.key for a in cancel]}
        )
