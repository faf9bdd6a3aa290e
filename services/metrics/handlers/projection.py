"""Facts in, derived tables refreshed: the incremental half of "KPIs computed from facts".

`Projector.apply` inserts a batch of facts (a known fact is a no-op), then recomputes, with
the pure functions of `domain/`, every conversation, buyer and refund the new facts touch.
Whatever order events arrive in, the derived rows end up the same function of the same
facts: late events correct the figures and a replay equals the live state by construction.
It returns the (shop, responder, hour) cells whose figures may have changed, for snapshots,
and the quality flags that appeared (the ingest emits them as `cs.quality.flagged.v1`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, String, Table, any_, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.metrics.store import tables as store
from services.metrics.domain.attribution import attribute_order, last_touch_before
from services.metrics.domain.conversation import derive
from services.metrics.domain.model import Assignment, Derived, Message, Touch
from services.metrics.domain.quality import inspection
from services.metrics.domain.quality.inspection import RiskFact, ViolationFact
from services.metrics.domain.trade import OrderEvent, RefundEvent, fold_order, fold_refund
from services.metrics.handlers.facts import Fact
from services.metrics.quality.rulebook import RuleBook
from shared.contracts import QualityFlagged

HOUR = timedelta(hours=1)

ConvKey = tuple[str, str]  # (shop_id, conversation_id)
Cell = tuple[str, str, datetime]  # (shop_id, responder, hour_start UTC)


def hour_of(at: datetime) -> datetime:
    """The UTC hour an instant falls in (snapshot hours are UTC hours)."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass
class Changes:
    cells: set[Cell] = field(default_factory=set)
    fresh_facts: int = 0
    """New facts of consumed events (what inspection found in them is not counted)."""
    new_flags: list[dict[str, Any]] = field(default_factory=list)
    """`quality_flags` rows that did not exist before this batch."""


RISK_FLAGS = ("scam_attempt", "abuse", "threat")


class Projector:
    def __init__(
        self,
        session_gap: timedelta,
        attribution_window: timedelta,
        rules: RuleBook | None = None,
    ) -> None:
        self.gap = session_gap
        self.window = attribution_window
        self.rules = rules or RuleBook()

    async def apply(self, conn: AsyncConnection, facts: Sequence[Fact]) -> Changes:
        changes = Changes()
        by_table: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for f in facts:
            by_table[f.table.name].append(f.row)
        conversations: set[ConvKey] = set()
        buyers: set[tuple[str, str]] = set()
        refunds: set[tuple[str, str]] = set()
        touched_orders: set[tuple[str, str]] = set()
        for name, rows in by_table.items():
            table = store.metadata.tables[name]
            for row in await _insert_new(conn, table, rows):
                changes.fresh_facts += table is not store.fact_quality_violations
                if "conversation_id" in row:
                    conversations.add((row["shop_id"], row["conversation_id"]))
                if name == "fact_order_events":
                    touched_orders.add((row["shop_id"], row["order_id"]))
                if name == "fact_refund_events":
                    refunds.add((row["shop_id"], row["refund_id"]))
        if conversations:
            buyers |= await self._refresh_conversations(conn, conversations, changes)
        if buyers or touched_orders:
            await self._refresh_orders(conn, buyers, touched_orders, changes)
        if refunds:
            await self._refresh_refunds(conn, refunds)
        return changes

    # -- conversations ---------------------------------------------------------------------
    async def _refresh_conversations(
        self, conn: AsyncConnection, keys: set[ConvKey], changes: Changes
    ) -> set[tuple[str, str]]:
        """Recompute sessions, rounds, first responses, touches and CSAT of conversations."""
        keys_list = sorted(keys)
        messages: dict[ConvKey, list[Message]] = defaultdict(list)
        buyers: set[tuple[str, str]] = set()
        fm = store.fact_messages
        for r in await _select(
            conn, fm, "conversation_id", keys, fm.c.sender_kind != "system"
        ):  # see derive
            messages[(r.shop_id, r.conversation_id)].append(
                Message(r.sent_at, r.sender_kind, r.message_id, r.responder, r.buyer_id)
            )
            buyers.add((r.shop_id, r.buyer_id))
        assignments: dict[ConvKey, list[Assignment]] = defaultdict(list)
        for r in await _select(conn, store.fact_assignments, "conversation_id", keys):
            assignments[(r.shop_id, r.conversation_id)].append(
                Assignment(r.assigned_at, r.agent_id, r.event_id)
            )
        ratings = await _select(conn, store.fact_csat, "conversation_id", keys)
        violations: dict[ConvKey, list[ViolationFact]] = defaultdict(list)
        for r in await _select(conn, store.fact_quality_violations, "conversation_id", keys):
            violations[(r.shop_id, r.conversation_id)].append(
                ViolationFact(r.message_id, r.agent_id, r.rule_id, r.category, r.severity,
                              r.span_start, r.span_end, r.suggestion, r.rules_version, r.sent_at)
            )  # fmt: skip
        risks: dict[ConvKey, list[RiskFact]] = defaultdict(list)
        for r in await _select(conn, store.fact_risk_messages, "conversation_id", keys):
            flags = tuple(f for f in RISK_FLAGS if getattr(r, f))
            risks[(r.shop_id, r.conversation_id)].append(RiskFact(r.message_id, flags, r.sent_at))

        new: dict[str, list[dict[str, Any]]] = defaultdict(list)
        touches: dict[ConvKey, list[Touch]] = {}
        for key in keys_list:
            shop, conv = key
            d = derive(messages.get(key, []), assignments.get(key, []), self.gap)
            touches[key] = d.touches
            bot_resolved = {s.start for s in d.sessions if s.bot_resolved}
            buyer_of = {s.start: s.buyer_id for s in d.sessions}
            base = {"shop_id": shop, "conversation_id": conv}
            new["conv_sessions"] += [
                {
                    **base,
                    "session_start": s.start,
                    "buyer_id": s.buyer_id,
                    "last_at": s.last_at,
                    "has_bot": s.has_bot,
                    "has_agent": s.has_agent,
                    "assignment_inside": s.assignment_inside,
                }
                for s in d.sessions
            ]
            new["conv_rounds"] += [
                {
                    **base,
                    "opened_at": r.opened_at,
                    "session_start": r.session_start,
                    "session_last_at": r.session_last_at,
                    "responder": r.responder,
                    "answered": r.answered,
                    "closed_at": r.closed_at,
                    "response_us": r.response_us,
                }
                for r in d.rounds
            ]
            new["conv_responders"] += [
                {
                    **base,
                    "session_start": p.session_start,
                    "responder": p.responder,
                    "buyer_id": buyer_of[p.session_start],
                    "first_at": p.first_at,
                    "clock_start": p.clock_start,
                    "first_response_us": p.first_response_us,
                    "bot_resolved": p.session_start in bot_resolved,
                }
                for p in d.session_responders
            ]
            new["conv_touches"] += [
                {
                    **base,
                    "message_id": t.message_id,
                    "buyer_id": t.buyer_id,
                    "at": t.at,
                    "responder": t.responder,
                    "session_start": t.session_start,
                }
                for t in d.touches
            ]
            self._quality(key, d, violations.get(key, []), risks.get(key, []),
                          assignments.get(key, []), new)  # fmt: skip
        for c in ratings:
            touch = last_touch_before(
                touches.get((c.shop_id, c.conversation_id), []), c.submitted_at
            )
            new["csat_attributed"].append(
                {
                    "event_id": c.event_id,
                    "shop_id": c.shop_id,
                    "conversation_id": c.conversation_id,
                    "submitted_at": c.submitted_at,
                    "rating": c.rating,
                    "responder": touch.responder if touch else None,
                }
            )

        when = {
            "conv_rounds": "opened_at",
            "conv_responders": "session_start",
            "csat_attributed": "submitted_at",
        }
        for name in (
            "conv_sessions",
            "conv_rounds",
            "conv_responders",
            "conv_touches",
            "csat_attributed",
            "quality_scores",
            "risk_exposures",
        ):
            table = store.metadata.tables[name]
            old = await _delete(conn, table, "conversation_id", keys, returning=name in when)
            await _insert_all(conn, table, new[name])
            if name in when:
                _changed_cells(changes, table, old, new[name], when[name])
        qf = store.quality_flags
        old_flags = await _delete(conn, qf, "conversation_id", keys, returning=True)
        await _insert_all(conn, qf, new["quality_flags"])
        known = {(r.shop_id, r.flag_id) for r in old_flags}
        changes.new_flags += [
            f for f in new["quality_flags"] if (f["shop_id"], f["flag_id"]) not in known
        ]
        return buyers

    def _quality(
        self,
        key: ConvKey,
        d: Derived,
        violations: list[ViolationFact],
        risks: list[RiskFact],
        assignments: list[Assignment],
        new: dict[str, list[dict[str, Any]]],
    ) -> None:
        """The conversation's quality flags, per-agent session scores and risk exposures."""
        shop, conv = key
        base = {"shop_id": shop, "conversation_id": conv}
        rules = self.rules.for_shop(shop)
        found = inspection.flags(shop, conv, violations, d.rounds, d.touches, rules.version)
        new["quality_flags"] += [
            {
                **base,
                "flag_id": f.flag_id,
                "agent_id": f.agent_id,
                "message_id": f.message_id,
                "category": f.category,
                "rule_id": f.rule_id,
                "severity": f.severity,
                "span_start": f.start,
                "span_end": f.end,
                "suggestion": f.suggestion,
                "rules_version": f.rules_version[:100],
                "response_us": f.response_us,
                "at": f.at,
                "session_start": f.session_start,
            }
            for f in found
        ]
        new["quality_scores"] += [
            {
                **base,
                "session_start": s.session_start,
                "agent_id": s.agent_id,
                "replies": s.replies,
                "flags": s.flags,
                "score": s.score,
                "failed": s.failed,
            }
            for s in inspection.session_scores(d.touches, found, rules.weights, rules.fail)
        ]
        new["risk_exposures"] += [
            {**base, "message_id": e.message_id, "flag": e.flag, "agent_id": e.agent_id,
             "at": e.at}
            for e in inspection.exposures(risks, d.sessions, assignments, d.touches)
        ]  # fmt: skip

    # -- orders ----------------------------------------------------------------------------
    async def _refresh_orders(
        self,
        conn: AsyncConnection,
        buyers: set[tuple[str, str]],
        touched: set[tuple[str, str]],
        changes: Changes,
    ) -> None:
        """Re-attribute the touched orders and every order of buyers whose chats changed."""
        fo = store.fact_order_events
        order_keys = set(touched)
        for r in await _select(conn, fo, "buyer_id", buyers):
            order_keys.add((r.shop_id, r.order_id))
        events: dict[tuple[str, str], list[OrderEvent]] = defaultdict(list)
        for r in await _select(conn, fo, "order_id", order_keys):
            events[(r.shop_id, r.order_id)].append(
                OrderEvent(
                    r.event_id, r.buyer_id, r.total_fee, r.created_at, r.paid_at, r.changed_at
                )
            )
        folded = {key: fold_order(evs) for key, evs in events.items()}
        touches: dict[tuple[str, str], list[Touch]] = defaultdict(list)
        order_buyers = {(shop, o.buyer_id) for (shop, _), o in folded.items()}
        for r in await _select(conn, store.conv_touches, "buyer_id", order_buyers):
            touches[(r.shop_id, r.buyer_id)].append(
                Touch(r.at, r.message_id, r.responder, r.session_start, r.buyer_id)
            )
        rows = []
        for (shop, order_id), order in sorted(folded.items()):
            touch = attribute_order(
                touches.get((shop, order.buyer_id), []), order.created_at, self.window
            )
            rows.append(
                {
                    "shop_id": shop,
                    "order_id": order_id,
                    "buyer_id": order.buyer_id,
                    "created_at": order.created_at,
                    "paid_at": order.paid_at,
                    "total_fee": order.total_fee,
                    "responder": touch.responder if touch else None,
                    "touch_session_start": touch.session_start if touch else None,
                }
            )
        old = await _delete(conn, store.orders, "order_id", order_keys, returning=True)
        await _insert_all(conn, store.orders, rows)
        _changed_cells(changes, store.orders, old, rows, "touch_session_start")

    # -- refunds ---------------------------------------------------------------------------
    async def _refresh_refunds(self, conn: AsyncConnection, keys: set[tuple[str, str]]) -> None:
        events: dict[tuple[str, str], list[RefundEvent]] = defaultdict(list)
        for r in await _select(conn, store.fact_refund_events, "refund_id", keys):
            events[(r.shop_id, r.refund_id)].append(
                RefundEvent(r.event_id, r.kind, r.at, r.status, r.cs_status)
            )
        rows = []
        for (shop, refund_id), evs in events.items():
            refund = fold_refund(evs)
            rows.append(
                {
                    "shop_id": shop,
                    "refund_id": refund_id,
                    "requested_at": refund.requested_at,
                    "succeeded_at": refund.succeeded_at,
                    "finished_at": refund.finished_at,
                    "disputed": refund.disputed,
                }
            )
        await _delete(conn, store.refunds, "refund_id", keys)
        await _insert_all(conn, store.refunds, rows)


def flagged_event(row: dict[str, Any], now: datetime) -> QualityFlagged:
    """The `cs.quality.flagged.v1` event of a new `quality_flags` row."""
    us = row["response_us"]
    return QualityFlagged(
        shop_id=row["shop_id"],
        flag_id=row["flag_id"],
        conversation_id=row["conversation_id"],
        agent_id=row["agent_id"],
        message_id=row["message_id"],
        category=row["category"],
        rule_id=row["rule_id"],
        severity=row["severity"],
        start=row["span_start"],
        end=row["span_end"],
        suggestion=row["suggestion"],
        response_s=us / 1_000_000 if us is not None else None,
        rules_version=row["rules_version"],
        sent_at=row["at"],
        flagged_at=now,
    )


# -- helpers ---------------------------------------------------------------------------------
def _by_shop(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for shop, key in sorted(set(keys)):
        out[shop].append(key)
    return out


def _match(table: Table, column: str, shop: str, ids: list[str]) -> list[Any]:
    """shop_id = :shop AND <column> = ANY(:ids): one array parameter, one cached plan."""
    return [table.c.shop_id == shop, table.c[column] == any_(bindparam(None, ids, ARRAY(String)))]


async def _select(
    conn: AsyncConnection, table: Table, column: str, keys: Iterable[tuple[str, str]], *where: Any
) -> list[Any]:
    out: list[Any] = []
    for shop, ids in _by_shop(keys).items():
        result = await conn.execute(select(table).where(*_match(table, column, shop, ids), *where))
        out += result.all()
    return out


async def _delete(
    conn: AsyncConnection,
    table: Table,
    column: str,
    keys: Iterable[tuple[str, str]],
    *,
    returning: bool = False,
) -> list[Any]:
    """Delete the rows of these entities; with `returning`, give back what was deleted."""
    out: list[Any] = []
    for shop, ids in _by_shop(keys).items():
        stmt = delete(table).where(*_match(table, column, shop, ids))
        if returning:
            out += (await conn.execute(stmt.returning(*table.c))).all()
        else:
            await conn.execute(stmt)
    return out


async def _insert_new(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> list[Any]:
    """Insert facts; return those that were new (a known fact is a no-op).

    The batch is COPYed into a temporary twin of the table, then moved over with one
    `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`: the fast path of PostgreSQL for
    thousands of rows, and duplicates (known, or twice in the batch) fall out on the way.
    """
    if not rows:
        return []
    columns = [c.name for c in table.c]
    staging = f"staging_{table.name}"
    # Through SQLAlchemy first: it opens the transaction the raw COPY must run in.
    await conn.exec_driver_sql(
        f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" '
        f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS'
    )
    await conn.exec_driver_sql(f'TRUNCATE "{staging}"')
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    await raw.copy_records_to_table(
        staging, records=[tuple(r[c] for c in columns) for r in rows], columns=columns
    )
    cols = ", ".join(f'"{c}"' for c in columns)
    keys = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
    records = await raw.fetch(
        f'INSERT INTO "{table.name}" ({cols}) '
        f'SELECT DISTINCT ON ({keys}) {cols} FROM "{staging}" '
        f"ON CONFLICT DO NOTHING RETURNING {cols}"
    )
    return [dict(r) for r in records]


async def _insert_all(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Bulk-load derived rows with COPY (binary): the refresh's largest write."""
    if not rows:
        return
    columns = [c.name for c in table.c]
    raw = await conn.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        table.name, records=[tuple(r[c] for c in columns) for r in rows], columns=columns
    )


def _changed_cells(
    changes: Changes, table: Table, old: Iterable[Any], new: Iterable[dict[str, Any]], when: str
) -> None:
    """Cells of rows that appeared or disappeared: their hour's figures may have changed."""
    columns = [c.name for c in table.c]
    at_i, who_i, shop_i = columns.index(when), columns.index("responder"), columns.index("shop_id")
    before = {tuple(r) for r in old}  # rows come back in table column order
    after = {tuple(r[c] for c in columns) for r in new}
    for row in before ^ after:
        at, responder = row[at_i], row[who_i]
        if at is not None and responder is not None:
            changes.cells.add((row[shop_i], responder, hour_of(at)))
