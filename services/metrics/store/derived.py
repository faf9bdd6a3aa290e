"""The derived tables: what the projection derives from an entity's facts replaces what was
there, in bulk (one delete and one COPY per table), and the cells whose figures that changed.

Saved from the domain's types: a conversation's `Derived` (sessions, rounds, first
responses, touches) with its quality flags, session scores and exposures; ratings with
their responder; orders with the touch they are attributed to; refunds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from services.metrics.domain.hours import Cell, ConvKey, Key, hour_of
from services.metrics.domain.model import Derived, Rating, Touch
from services.metrics.domain.quality.inspection import Exposure, Flag, SessionScore
from services.metrics.domain.trade import Order, Refund
from services.metrics.store import derived_tables as t
from services.metrics.store.sql import delete_of, insert_all, select_of


@dataclass(frozen=True)
class ConversationState:
    """Everything derived from one conversation's facts."""

    derived: Derived
    flags: Sequence[Flag]
    scores: Sequence[SessionScore]
    exposures: Sequence[Exposure]


@dataclass(frozen=True)
class AttributedRating:
    rating: Rating
    responder: str | None  # who last touched the conversation before the rating


@dataclass(frozen=True)
class AttributedOrder:
    shop_id: str
    order_id: str
    order: Order
    touch: Touch | None  # the touch the order is attributed to (ATTRIBUTION_WINDOW)


@dataclass(frozen=True)
class NewFlag:
    shop_id: str
    conversation_id: str
    flag: Flag


async def touches_of_buyers(conn: AsyncConnection, buyers: Iterable[Key]) -> dict[Key, list[Touch]]:
    """Every agent or bot touch of these (shop, buyer)s, for order attribution."""
    out: dict[Key, list[Touch]] = defaultdict(list)
    for r in await select_of(conn, t.conv_touches, "buyer_id", buyers):
        out[(r.shop_id, r.buyer_id)].append(
            Touch(r.at, r.message_id, r.responder, r.session_start, r.buyer_id)
        )
    return out


# Where a row's hour is read from, for the tables snapshots depend on.
_WHEN = {
    t.conv_rounds: "opened_at",
    t.conv_responders: "session_start",
    t.csat_attributed: "submitted_at",
}


async def save_conversations(
    conn: AsyncConnection,
    states: Mapping[ConvKey, ConversationState],
    ratings: Sequence[AttributedRating],
    cells: set[Cell],
) -> list[NewFlag]:
    """Replace the conversations' derived rows; add the cells that changed to `cells`; return
    the quality flags that did not exist before."""
    rows: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    for (shop, conv), s in sorted(states.items()):
        _conversation_rows(rows, {"shop_id": shop, "conversation_id": conv}, s)
    rows[t.csat_attributed] = [
        {"event_id": a.rating.event_id, "shop_id": a.rating.shop_id,
         "conversation_id": a.rating.conversation_id, "submitted_at": a.rating.submitted_at,
         "rating": a.rating.rating, "responder": a.responder,
         "event_source": a.rating.event_source}
        for a in ratings
    ]  # fmt: skip
    for table in (
        t.conv_sessions,
        t.conv_rounds,
        t.conv_responders,
        t.conv_touches,
        t.csat_attributed,
        t.quality_scores,
        t.risk_exposures,
    ):
        when = _WHEN.get(table)
        old = await delete_of(conn, table, "conversation_id", states, returning=when is not None)
        await insert_all(conn, table, rows[table])
        if when is not None:
            cells |= changed_cells(table, old, rows[table], when)
    qf = t.quality_flags
    old_flags = await delete_of(conn, qf, "conversation_id", states, returning=True)
    await insert_all(conn, qf, rows[qf])
    shop_i, id_i = _index(qf, "shop_id"), _index(qf, "flag_id")
    known = {(r[shop_i], r[id_i]) for r in old_flags}
    return [
        NewFlag(shop, conv, f)
        for (shop, conv), s in sorted(states.items())
        for f in s.flags
        if (shop, f.flag_id) not in known
    ]


def _conversation_rows(
    rows: dict[Table, list[dict[str, Any]]], base: dict[str, Any], s: ConversationState
) -> None:
    d = s.derived
    bot_resolved = {x.start for x in d.sessions if x.bot_resolved}
    buyer_of = {x.start: x.buyer_id for x in d.sessions}
    rows[t.conv_sessions] += [
        {**base, "session_start": x.start, "buyer_id": x.buyer_id, "last_at": x.last_at,
         "has_bot": x.has_bot, "has_agent": x.has_agent,
         "assignment_inside": x.assignment_inside}
        for x in d.sessions
    ]  # fmt: skip
    rows[t.conv_rounds] += [
        {**base, "opened_at": r.opened_at, "session_start": r.session_start,
         "session_last_at": r.session_last_at, "responder": r.responder, "answered": r.answered,
         "closed_at": r.closed_at, "response_us": r.response_us}
        for r in d.rounds
    ]  # fmt: skip
    rows[t.conv_responders] += [
        {**base, "session_start": p.session_start, "responder": p.responder,
         "buyer_id": buyer_of[p.session_start], "first_at": p.first_at,
         "clock_start": p.clock_start, "first_response_us": p.first_response_us,
         "bot_resolved": p.session_start in bot_resolved}
        for p in d.session_responders
    ]  # fmt: skip
    rows[t.conv_touches] += [
        {**base, "message_id": x.message_id, "buyer_id": x.buyer_id, "at": x.at,
         "responder": x.responder, "session_start": x.session_start}
        for x in d.touches
    ]  # fmt: skip
    rows[t.quality_flags] += [
        {**base, "flag_id": f.flag_id, "agent_id": f.agent_id, "message_id": f.message_id,
         "category": f.category, "rule_id": f.rule_id, "severity": f.severity,
         "span_start": f.start, "span_end": f.end, "suggestion": f.suggestion,
         "rules_version": f.rules_version[:100], "response_us": f.response_us, "at": f.at,
         "session_start": f.session_start}
        for f in s.flags
    ]  # fmt: skip
    rows[t.quality_scores] += [
        {**base, "session_start": x.session_start, "agent_id": x.agent_id,
         "replies": x.replies, "flags": x.flags, "score": x.score, "failed": x.failed}
        for x in s.scores
    ]  # fmt: skip
    rows[t.risk_exposures] += [
        {**base, "message_id": e.message_id, "flag": e.flag, "agent_id": e.agent_id,
         "at": e.at}
        for e in s.exposures
    ]  # fmt: skip


async def save_orders(
    conn: AsyncConnection, keys: Iterable[Key], orders: Sequence[AttributedOrder], cells: set[Cell]
) -> None:
    """Replace these orders' rows (an order without events is only deleted)."""
    rows = [
        {"shop_id": o.shop_id, "order_id": o.order_id, "buyer_id": o.order.buyer_id,
         "created_at": o.order.created_at, "paid_at": o.order.paid_at,
         "total_fee": o.order.total_fee,
         "responder": o.touch.responder if o.touch else None,
         "touch_session_start": o.touch.session_start if o.touch else None}
        for o in orders
    ]  # fmt: skip
    old = await delete_of(conn, t.orders, "order_id", keys, returning=True)
    await insert_all(conn, t.orders, rows)
    cells |= changed_cells(t.orders, old, rows, "touch_session_start")


async def save_refunds(conn: AsyncConnection, refunds: Mapping[Key, Refund]) -> None:
    rows = [
        {"shop_id": shop, "refund_id": refund_id, "requested_at": r.requested_at,
         "succeeded_at": r.succeeded_at, "finished_at": r.finished_at, "disputed": r.disputed}
        for (shop, refund_id), r in refunds.items()
    ]  # fmt: skip
    await delete_of(conn, t.refunds, "refund_id", refunds)
    await insert_all(conn, t.refunds, rows)


def _index(table: Table, column: str) -> int:
    return [c.name for c in table.c].index(column)


def changed_cells(
    table: Table, old: Iterable[tuple[Any, ...]], new: Iterable[dict[str, Any]], when: str
) -> set[Cell]:
    """Cells of rows that appeared or disappeared: their hour's figures may have changed."""
    columns = [c.name for c in table.c]
    at_i, who_i, shop_i = columns.index(when), columns.index("responder"), columns.index("shop_id")
    before = set(old)  # rows come back in table column order
    after = {tuple(r[c] for c in columns) for r in new}
    out: set[Cell] = set()
    for row in before ^ after:
        at, responder = row[at_i], row[who_i]
        if at is not None and responder is not None:
            out.add((row[shop_i], responder, hour_of(at)))
    return out
