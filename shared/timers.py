"""Durable timers in PostgreSQL.

A timer is a row (kind, key, due_at, payload). Scheduling is idempotent per (kind, key); the
events that make a timer moot cancel it. The runner claims due rows with FOR UPDATE SKIP
LOCKED, so across replicas each fires exactly once, and the handler's effects (state, outbox)
commit in the same transaction that marks it fired.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opentelemetry import propagate
from sqlalchemy import Table, and_, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class Timer:
    id: int
    kind: str
    key: str
    due_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)


async def schedule(
    conn: AsyncConnection,
    timers: Table,
    kind: str,
    key: str,
    due_at: datetime,
    payload: Mapping[str, Any] | None = None,
    *,
    replace: bool = False,
) -> None:
    """Create the timer once per (kind, key); with replace, (re-)arm it for the new due time.

    Without replace a timer that exists, even fired or cancelled, is left alone: that is
    what makes a reminder fire at most once. With replace it is armed again (idle timers).
    """
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    stmt = insert(timers).values(
        kind=kind,
        key=key,
        due_at=due_at,
        payload=dict(payload or {}),
        traceparent=carrier.get("traceparent"),
    )
    if replace:
        stmt = stmt.on_conflict_do_update(
            constraint="uq_timers_kind_key",
            set_={
                "due_at": due_at,
                "payload": dict(payload or {}),
                "fired_at": None,
                "cancelled_at": None,
            },
        )
    else:
        stmt = stmt.on_conflict_do_nothing(constraint="uq_timers_kind_key")
    await conn.execute(stmt)


async def cancel(conn: AsyncConnection, timers: Table, kind: str, key: str) -> bool:
    result = await conn.execute(
        update(timers)
        .where(
            timers.c.kind == kind,
            timers.c.key == key,
            pending(timers),
        )
        .values(cancelled_at=func.now())
    )
    return result.rowcount > 0


def pending(t: Table):  # type: ignore[no-untyped-def]
    """Rows neither fired nor cancelled."""
    return and_(t.c.fired_at.is_(None), t.c.cancelled_at.is_(None))
