"""KPI totals per window, added up in SQL over the derived tables.

Every query is bounded by a shop and a time range on an index. What is counted is exactly
`domain.kpis.responder_totals` (nearest-rank percentiles are PostgreSQL's `percentile_disc`);
the final ratios and units come from `domain.kpis`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ARRAY, ColumnElement, Float, and_, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.metrics.domain.kpis import (
    RESPONSE_TARGET_US,
    SATISFIED_RATING,
    ResponderTotals,
)
from services.metrics.store import tables

Bucket = Literal["hour", "day"]
GroupKey = tuple[str, datetime | None]  # (responder, bucket start or None)


@dataclass(frozen=True)
class Window:
    shop_id: str
    start: datetime
    end: datetime
    now: datetime
    gap: timedelta
    bucket: Bucket | None = None
    timezone: str = "UTC"
    responders: Sequence[str] | None = None


def _bucket(w: Window, col: Any) -> Any:
    if w.bucket is None:
        return literal(None).label("bucket")
    return func.date_trunc(w.bucket, col, w.timezone).label("bucket")


def _scope(w: Window, table: Any, when: Any, who: Any) -> list[ColumnElement[bool]]:
    out = [table.c.shop_id == w.shop_id, when >= w.start, when < w.end]
    if w.responders is not None:
        out.append(who.in_(list(w.responders)))
    return out


def _rounds_query(w: Window) -> Any:
    r = tables.conv_rounds
    b = _bucket(w, r.c.opened_at)
    ended = r.c.session_last_at + w.gap <= w.now
    return (
        select(
            r.c.responder,
            b,
            func.count().filter(r.c.answered).label("answered"),
            func.count().filter(and_(~r.c.answered, ended)).label("unanswered"),
            func.count().filter(r.c.response_us <= RESPONSE_TARGET_US).label("fast"),
            func.avg(r.c.response_us).label("avg"),
            _percentiles(r.c.response_us),
        )
        .where(*_scope(w, r, r.c.opened_at, r.c.responder))
        .group_by(*_groups(r.c.responder, b, w))
    )


def _sessions_query(w: Window) -> Any:
    s = tables.conv_responders
    b = _bucket(w, s.c.session_start)
    return (
        select(
            s.c.responder,
            b,
            func.count().label("sessions"),
            func.avg(s.c.first_response_us).label("avg"),
            _percentiles(s.c.first_response_us),
            func.count().filter(s.c.bot_resolved).label("resolved"),
        )
        .where(*_scope(w, s, s.c.session_start, s.c.responder))
        .group_by(*_groups(s.c.responder, b, w))
    )


def _buyers_query(w: Window) -> Any:
    """Distinct buyers per responder: a hash of (responder, buyer), not a sort."""
    s = tables.conv_responders
    b = _bucket(w, s.c.session_start)
    pairs = (
        select(s.c.responder, b, s.c.buyer_id)
        .where(*_scope(w, s, s.c.session_start, s.c.responder))
        .distinct()
        .subquery()
    )
    return select(pairs.c.responder, pairs.c.bucket, func.count().label("buyers")).group_by(
        pairs.c.responder, pairs.c.bucket
    )


def _orders_query(w: Window) -> Any:
    o = tables.orders
    b = _bucket(w, o.c.touch_session_start)
    paid = o.c.paid_at.is_not(None)
    return (
        select(
            o.c.responder,
            b,
            func.count(o.c.buyer_id.distinct()).label("buyers"),
            func.coalesce(func.sum(o.c.total_fee), 0).label("sales"),
        )
        .where(*_scope(w, o, o.c.touch_session_start, o.c.responder), paid)
        .group_by(*_groups(o.c.responder, b, w))
    )


def _csat_query(w: Window) -> Any:
    c = tables.csat_attributed
    b = _bucket(w, c.c.submitted_at)
    return (
        select(
            c.c.responder,
            b,
            func.count().label("n"),
            func.count().filter(c.c.rating >= SATISFIED_RATING).label("ok"),
        )
        .where(*_scope(w, c, c.c.submitted_at, c.c.responder), c.c.responder.is_not(None))
        .group_by(*_groups(c.c.responder, b, w))
    )


def _percentiles(col: Any) -> Any:
    """Nearest-rank p50 and p90 from one sort: PostgreSQL's percentile_disc."""
    return func.percentile_disc(literal([0.5, 0.9], ARRAY(Float))).within_group(col).label("pct")


def _apply_rounds(t: ResponderTotals, row: Any) -> None:
    t.rounds_answered, t.rounds_unanswered = row.answered, row.unanswered
    t.answered_within_target = row.fast
    t.response_avg_us = float(row.avg) if row.avg is not None else None
    t.response_p50_us, t.response_p90_us = row.pct or (None, None)


def _apply_sessions(t: ResponderTotals, row: Any) -> None:
    t.sessions, t.bot_resolved_sessions = row.sessions, row.resolved
    t.first_response_avg_us = float(row.avg) if row.avg is not None else None
    t.first_response_p50_us, t.first_response_p90_us = row.pct or (None, None)


def _apply_buyers(t: ResponderTotals, row: Any) -> None:
    t.inquiry_buyers = row.buyers


def _apply_orders(t: ResponderTotals, row: Any) -> None:
    t.paid_buyers, t.sales_fen = row.buyers, int(row.sales)


def _apply_csat(t: ResponderTotals, row: Any) -> None:
    t.csat_responses, t.csat_satisfied = row.n, row.ok


PARTS = (
    (_rounds_query, _apply_rounds),
    (_sessions_query, _apply_sessions),
    (_buyers_query, _apply_buyers),
    (_orders_query, _apply_orders),
    (_csat_query, _apply_csat),
)
WORK_MEM = text("SET LOCAL work_mem = '64MB'")  # the percentile sorts stay in memory


async def responder_totals(
    source: AsyncConnection | AsyncEngine, w: Window
) -> dict[GroupKey, ResponderTotals]:
    """Totals per responder (and bucket) of a window.

    Given a connection (inside a transaction), the five queries run one after the other on
    it. Given an engine, they run at once on five connections that share one exported
    snapshot (REPEATABLE READ), so the figures are as consistent as one query's.
    """
    results: list[Sequence[Any]]
    if isinstance(source, AsyncConnection):
        results = [(await source.execute(q(w))).all() for q, _ in PARTS]
    else:
        results = await _concurrently(source, [q(w) for q, _ in PARTS])
    out: dict[GroupKey, ResponderTotals] = {}
    for (_, apply), rows in zip(PARTS, results, strict=True):
        for row in rows:
            key = (row.responder, row.bucket)
            if key not in out:
                out[key] = ResponderTotals(row.responder)
            apply(out[key], row)
    return {k: v for k, v in out.items() if not v.is_empty()}


async def _concurrently(engine: AsyncEngine, statements: list[Any]) -> list[Sequence[Any]]:
    async with engine.connect() as first:
        await first.execution_options(isolation_level="REPEATABLE READ")
        await first.begin()
        await first.execute(WORK_MEM)
        snapshot = (await first.execute(text("SELECT pg_export_snapshot()"))).scalar_one()

        async def run(stmt: Any) -> Sequence[Any]:
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="REPEATABLE READ")
                await conn.begin()
                await conn.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
                await conn.execute(WORK_MEM)
                rows = (await conn.execute(stmt)).all()
                await conn.rollback()
                return rows

        async def run_first(stmt: Any) -> Sequence[Any]:
            return (await first.execute(stmt)).all()

        tasks = [asyncio.ensure_future(run_first(statements[0]))]
        tasks += [asyncio.ensure_future(run(s)) for s in statements[1:]]
        try:
            results = await asyncio.gather(*tasks)
        finally:  # never leave a query running on a connection that is being closed
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await first.rollback()
        return list(results)


def _groups(who: Any, bucket: Any, w: Window) -> list[Any]:
    return [who, bucket.element] if w.bucket else [who]
