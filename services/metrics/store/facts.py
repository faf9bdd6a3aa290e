"""Facts: inserted in bulk, deduplicated on their identity, and loaded as domain types.

A fact is one consumed event reduced to one row of a fact table (`Fact`, built by
`handlers/facts.py`). `insert` keeps the new ones — a known fact (a redelivery, a replayed
event) is a no-op — and says which conversations, orders and refunds they touch; the loaders
give the projection each entity's facts as the dataclasses of `domain/`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from services.metrics.domain.hours import ConvKey, Key
from services.metrics.domain.model import Assignment, Message, Rating
from services.metrics.domain.quality.inspection import RiskFact, ViolationFact
from services.metrics.domain.trade import OrderEvent, RefundEvent
from services.metrics.store import fact_tables as t
from services.metrics.store.sql import insert_new, select_of

RISK_FLAGS = ("scam_attempt", "abuse", "threat")


@dataclass(frozen=True)
class Fact:
    """One row of a fact table (no free text: facts hold no personal data)."""

    table: Table
    row: dict[str, Any]


@dataclass
class Inserted:
    """What a batch's new facts touch."""

    fresh: int = 0
    """New facts of consumed events (what inspection found in them is not counted)."""
    conversations: set[ConvKey] = field(default_factory=set)
    orders: set[Key] = field(default_factory=set)
    refunds: set[Key] = field(default_factory=set)


async def insert(conn: AsyncConnection, facts: Sequence[Fact]) -> Inserted:
    """Insert a batch of facts, one statement per table; known facts change nothing."""
    out = Inserted()
    by_table: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    for f in facts:
        by_table[f.table].append(f.row)
    for table, rows in by_table.items():
        for row in await insert_new(conn, table, rows):
            out.fresh += table is not t.fact_quality_violations
            if "conversation_id" in row:
                out.conversations.add((row["shop_id"], row["conversation_id"]))
            if table is t.fact_order_events:
                out.orders.add((row["shop_id"], row["order_id"]))
            if table is t.fact_refund_events:
                out.refunds.add((row["shop_id"], row["refund_id"]))
    return out


@dataclass
class ConversationFacts:
    """Every fact of some conversations, by conversation."""

    messages: dict[ConvKey, list[Message]] = field(default_factory=lambda: defaultdict(list))
    assignments: dict[ConvKey, list[Assignment]] = field(default_factory=lambda: defaultdict(list))
    ratings: list[Rating] = field(default_factory=list)
    violations: dict[ConvKey, list[ViolationFact]] = field(
        default_factory=lambda: defaultdict(list)
    )
    risks: dict[ConvKey, list[RiskFact]] = field(default_factory=lambda: defaultdict(list))
    buyers: set[Key] = field(default_factory=set)
    """(shop, buyer) of the conversations' messages."""


async def conversations(conn: AsyncConnection, keys: Iterable[ConvKey]) -> ConversationFacts:
    """The conversations' messages (system ones aside, see `derive`), assignments, ratings,
    quality findings and risky buyer messages."""
    out = ConversationFacts()
    fm = t.fact_messages
    for r in await select_of(conn, fm, "conversation_id", keys, fm.c.sender_kind != "system"):
        out.messages[(r.shop_id, r.conversation_id)].append(
            Message(r.sent_at, r.sender_kind, r.message_id, r.responder, r.buyer_id)
        )
        out.buyers.add((r.shop_id, r.buyer_id))
    for r in await select_of(conn, t.fact_assignments, "conversation_id", keys):
        out.assignments[(r.shop_id, r.conversation_id)].append(
            Assignment(r.assigned_at, r.agent_id, r.event_id, r.event_source)
        )
    out.ratings = [
        Rating(r.event_id, r.event_source, r.shop_id, r.conversation_id, r.submitted_at, r.rating)
        for r in await select_of(conn, t.fact_csat, "conversation_id", keys)
    ]
    for r in await select_of(conn, t.fact_quality_violations, "conversation_id", keys):
        out.violations[(r.shop_id, r.conversation_id)].append(
            ViolationFact(r.message_id, r.agent_id, r.rule_id, r.category, r.severity,
                          r.span_start, r.span_end, r.suggestion, r.rules_version, r.sent_at)
        )  # fmt: skip
    for r in await select_of(conn, t.fact_risk_messages, "conversation_id", keys):
        flags = tuple(f for f in RISK_FLAGS if getattr(r, f))
        out.risks[(r.shop_id, r.conversation_id)].append(RiskFact(r.message_id, flags, r.sent_at))
    return out


async def orders_of_buyers(conn: AsyncConnection, buyers: Iterable[Key]) -> set[Key]:
    """(shop, order id) of every order of these (shop, buyer)s."""
    fo = t.fact_order_events
    return {(r.shop_id, r.order_id) for r in await select_of(conn, fo, "buyer_id", buyers)}


async def order_events(conn: AsyncConnection, orders: Iterable[Key]) -> dict[Key, list[OrderEvent]]:
    out: dict[Key, list[OrderEvent]] = defaultdict(list)
    for r in await select_of(conn, t.fact_order_events, "order_id", orders):
        out[(r.shop_id, r.order_id)].append(
            OrderEvent(r.event_id, r.buyer_id, r.total_fee, r.created_at, r.paid_at,
                       r.changed_at, r.event_source)
        )  # fmt: skip
    return out


async def refund_events(
    conn: AsyncConnection, refunds: Iterable[Key]
) -> dict[Key, list[RefundEvent]]:
    out: dict[Key, list[RefundEvent]] = defaultdict(list)
    for r in await select_of(conn, t.fact_refund_events, "refund_id", refunds):
        out[(r.shop_id, r.refund_id)].append(
            RefundEvent(r.event_id, r.kind, r.at, r.status, r.cs_status)
        )
    return out
