"""Aftersale's tables (schema `aftersale`) and the queries its handlers and API need.

Nothing here stores what buyers typed: cases keep the platform's reason text and the
decisions; the risk profile keeps counts and matched keywords against the pseudonymous id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.domain.facts import OrderFacts
from services.aftersale.domain.risk import REFUND_WINDOW_DAYS, BuyerHistory
from shared.db import new_metadata
from shared.plumbing import plumbing_tables

metadata = new_metadata()
inbox, outbox, timers = plumbing_tables(metadata)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(100), primary_key=True),
    Column("shop_id", String(100), nullable=False),
    Column("buyer_id", String(200), nullable=False),
    Column("status", String(40), nullable=False),
    Column("total_fee", BigInteger, nullable=False),
    Column("item_ids", ARRAY(String(100)), nullable=False),
    Column("consign_time", DateTime(timezone=True), nullable=True),
    Column("signed_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Index("ix_orders_shop_buyer", "shop_id", "buyer_id", "created_at"),
)

item_categories = Table(
    "item_categories",
    metadata,
    Column("shop_id", String(100), nullable=False),
    Column("item_id", String(100), nullable=False),
    Column("category", String(100), nullable=False),
    PrimaryKeyConstraint("shop_id", "item_id"),
)

cases = Table(
    "cases",
    metadata,
    Column("case_id", String(100), primary_key=True),
    Column("shop_id", String(100), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("state", String(20), nullable=False),  # open | resolved
    Column("order_id", String(100), nullable=False, index=True),
    Column("buyer_id", String(200), nullable=False),
    Column("refund_id", String(100), nullable=True, unique=True),
    Column("review_id", String(100), nullable=True, unique=True),
    Column("reason", String(200), nullable=True),
    Column("refund_phase", String(20), nullable=True),
    Column("good_status", String(30), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=True),
    Column("refund_fee", BigInteger, nullable=True),
    Column("order_total_fee", BigInteger, nullable=True),
    Column("has_good_return", Boolean, nullable=True),
    Column("item_category", String(100), nullable=True),
    Column("refund_status", String(40), nullable=True),
    Column("cs_status", Integer, nullable=True),
    Column("status_changed_at", DateTime(timezone=True), nullable=True),
    Column("deadline", DateTime(timezone=True), nullable=True),
    Column("decision", String(20), nullable=True),
    Column("rule_id", String(100), nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("risk_score", Integer, nullable=True),
    Column("risk_level", String(10), nullable=True),
    Column("risk_reasons", JSONB, nullable=True),
    Column("handed_off_at", DateTime(timezone=True), nullable=True),
    Column("handed_off_for", DateTime(timezone=True), nullable=True),
    Column("alerted_for", DateTime(timezone=True), nullable=True),
    Column("dispute_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(40), nullable=True),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_cases_shop_opened", "shop_id", "opened_at"),
    Index("ix_cases_resolved_at", "resolved_at", postgresql_where=text("resolved_at IS NOT NULL")),
)

case_history = Table(
    "case_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", String(100), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("event", String(40), nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
)

buyer_signals = Table(
    "buyer_signals",
    metadata,
    Column("shop_id", String(100), nullable=False),
    Column("buyer_id", String(200), nullable=False),
    Column("kind", String(30), nullable=False),  # refund | not_received_signed | threat
    Column("ref_id", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("detail", String(100), nullable=False, server_default=""),
    PrimaryKeyConstraint("shop_id", "buyer_id", "kind", "ref_id"),
)

early_refund_changes = Table(
    "early_refund_changes",
    metadata,
    Column("refund_id", String(100), primary_key=True),
    Column("status", String(40), nullable=False),
    Column("cs_status", Integer, nullable=False),
    Column("timeout", DateTime(timezone=True), nullable=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Index("ix_early_refund_changes_changed_at", "changed_at"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("review_id", String(100), primary_key=True),
    Column("shop_id", String(100), nullable=False),
    Column("order_id", String(100), nullable=False),
    Column("buyer_id", String(200), nullable=False),
    Column("result", String(10), nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    Index("ix_reviews_shop_result", "shop_id", "result"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("shop_id", String(100), nullable=False),
    Column("buyer_id", String(200), nullable=False),
    Column("conversation_id", String(200), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("shop_id", "buyer_id"),
)


# -- orders -------------------------------------------------------------------------------
async def upsert_order(conn: AsyncConnection, **values: Any) -> None:
    """Keep the latest state of an order; an older change never overwrites a newer one."""
    stmt = insert(orders).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["order_id"],
        set_={
            "status": stmt.excluded.status,
            "total_fee": stmt.excluded.total_fee,
            "item_ids": stmt.excluded.item_ids,
            "consign_time": func.coalesce(stmt.excluded.consign_time, orders.c.consign_time),
            "signed_at": func.coalesce(orders.c.signed_at, stmt.excluded.signed_at),
            "changed_at": stmt.excluded.changed_at,
        },
        where=orders.c.changed_at <= stmt.excluded.changed_at,
    )
    await conn.execute(stmt)


def _order(row: Row[Any] | None) -> OrderFacts | None:
    if row is None:
        return None
    return OrderFacts(
        row.order_id, row.buyer_id, row.status, row.total_fee, row.consign_time, row.signed_at
    )


async def get_order(conn: AsyncConnection, shop_id: str, order_id: str) -> OrderFacts | None:
    """The shop's order (an order id a buyer typed may name another shop's order: none)."""
    stmt = select(orders).where(orders.c.order_id == order_id, orders.c.shop_id == shop_id)
    row = (await conn.execute(stmt)).first()
    return _order(row)


async def latest_order_of(conn: AsyncConnection, shop_id: str, buyer_id: str) -> OrderFacts | None:
    row = (
        await conn.execute(
            select(orders)
            .where(orders.c.shop_id == shop_id, orders.c.buyer_id == buyer_id)
            .order_by(orders.c.created_at.desc())
            .limit(1)
        )
    ).first()
    return _order(row)


async def remember_category(
    conn: AsyncConnection, shop_id: str, item_id: str, category: str
) -> None:
    stmt = insert(item_categories).values(shop_id=shop_id, item_id=item_id, category=category)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["shop_id", "item_id"], set_={"category": stmt.excluded.category}
        )
    )


async def categories_of_order(conn: AsyncConnection, shop_id: str, order_id: str) -> list[str]:
    """Categories of the order's items, as learned from refund requests (orders carry none)."""
    items = select(func.unnest(orders.c.item_ids)).where(
        orders.c.order_id == order_id, orders.c.shop_id == shop_id
    )
    rows = (
        await conn.execute(
            select(item_categories.c.category).where(
                item_categories.c.shop_id == shop_id, item_categories.c.item_id.in_(items)
            )
        )
    ).all()
    return sorted({r.category for r in rows})


# -- cases ---------------------------------------------------------------------------------
async def insert_case(conn: AsyncConnection, **values: Any) -> bool:
    """Create a case once; False when it already exists (a replayed or re-sent event)."""
    stmt = insert(cases).values(**values).on_conflict_do_nothing()
    return (await conn.execute(stmt)).rowcount == 1


async def case_by_refund(
    conn: AsyncConnection, shop_id: str, refund_id: str, *, lock: bool = False
) -> Row[Any] | None:
    """The shop's case of that refund; the shop is part of the lookup, so another shop's row
    is neither returned nor locked."""
    stmt = select(cases).where(cases.c.refund_id == refund_id, cases.c.shop_id == shop_id)
    return (await conn.execute(stmt.with_for_update() if lock else stmt)).first()


async def get_case(
    conn: AsyncConnection, case_id: str, *, shop_id: str | None = None, lock: bool = False
) -> Row[Any] | None:
    """A case by id; with `shop_id` (any caller-named id) only if it is that shop's."""
    stmt = select(cases).where(cases.c.case_id == case_id)
    if shop_id is not None:
        stmt = stmt.where(cases.c.shop_id == shop_id)
    return (await conn.execute(stmt.with_for_update() if lock else stmt)).first()


async def open_refund_case_for(
    conn: AsyncConnection, shop_id: str, order_id: str
) -> Row[Any] | None:
    return (
        await conn.execute(
            select(cases)
            .where(
                cases.c.shop_id == shop_id,
                cases.c.order_id == order_id,
                cases.c.state == "open",
                cases.c.refund_id.is_not(None),
            )
            .order_by(cases.c.opened_at.desc())
            .limit(1)
        )
    ).first()


async def undecided_refund_cases(conn: AsyncConnection, shop_id: str, order_id: str) -> list[str]:
    """Open refund cases of the order still waiting for its facts to be decided."""
    rows = await conn.execute(
        select(cases.c.case_id).where(
            cases.c.shop_id == shop_id,
            cases.c.order_id == order_id,
            cases.c.state == "open",
            cases.c.refund_id.is_not(None),
            cases.c.decision.is_(None),
        )
    )
    return [r.case_id for r in rows]


async def update_case(conn: AsyncConnection, case_id: str, **values: Any) -> Row[Any]:
    """Change a case; returns it as it is now."""
    return (
        await conn.execute(
            update(cases)
            .where(cases.c.case_id == case_id)
            .values(updated_at=func.now(), **values)
            .returning(*cases.c)
        )
    ).one()


async def add_history(
    conn: AsyncConnection, case_id: str, at: datetime, event: str, detail: str = ""
) -> None:
    await conn.execute(
        insert(case_history).values(case_id=case_id, at=at, event=event, detail=detail)
    )


async def history(conn: AsyncConnection, case_id: str) -> list[Row[Any]]:
    return list(
        (
            await conn.execute(
                select(case_history)
                .where(case_history.c.case_id == case_id)
                .order_by(case_history.c.at, case_history.c.id)
            )
        ).all()
    )


async def list_cases(
    conn: AsyncConnection,
    shop_id: str,
    *,
    state: str | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> list[Row[Any]]:
    stmt = select(cases).where(cases.c.shop_id == shop_id)
    if state:
        stmt = stmt.where(cases.c.state == state)
    if kind:
        stmt = stmt.where(cases.c.kind == kind)
    stmt = stmt.order_by(cases.c.opened_at.desc(), cases.c.case_id).limit(limit).offset(offset)
    return list((await conn.execute(stmt)).all())


# -- early refund changes (a change consumed before its request) ----------------------------
async def save_early_change(conn: AsyncConnection, **values: Any) -> None:
    stmt = insert(early_refund_changes).values(**values)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["refund_id"],
            set_={k: stmt.excluded[k] for k in values if k != "refund_id"},
            where=early_refund_changes.c.changed_at <= stmt.excluded.changed_at,
        )
    )


async def take_early_change(conn: AsyncConnection, refund_id: str) -> Row[Any] | None:
    return (
        await conn.execute(
            delete(early_refund_changes)
            .where(early_refund_changes.c.refund_id == refund_id)
            .returning(*early_refund_changes.c)
        )
    ).first()


# -- buyer risk ----------------------------------------------------------------------------
async def add_signal(
    conn: AsyncConnection,
    *,
    shop_id: str,
    buyer_id: str,
    kind: str,
    ref_id: str,
    at: datetime,
    detail: str = "",
) -> None:
    stmt = insert(buyer_signals).values(
        shop_id=shop_id, buyer_id=buyer_id, kind=kind, ref_id=ref_id, at=at, detail=detail
    )
    await conn.execute(stmt.on_conflict_do_nothing())


async def buyer_history(
    conn: AsyncConnection, shop_id: str, buyer_id: str, at: datetime, exclude_ref: str = ""
) -> BuyerHistory:
    """Counts for the risk profile as of `at` (business time), not counting `exclude_ref`."""
    s = buyer_signals
    rows = (
        await conn.execute(
            select(s.c.kind, s.c.ref_id, s.c.at, s.c.detail).where(
                s.c.shop_id == shop_id, s.c.buyer_id == buyer_id, s.c.at <= at
            )
        )
    ).all()
    since = at - timedelta(days=REFUND_WINDOW_DAYS)
    refunds = [r for r in rows if r.kind == "refund" and r.ref_id != exclude_ref]
    refunded_orders = {r.detail for r in rows if r.kind == "refund"}
    n_orders = (
        await conn.execute(
            select(func.count())
            .select_from(orders)
            .where(orders.c.shop_id == shop_id, orders.c.buyer_id == buyer_id)
        )
    ).scalar_one()
    return BuyerHistory(
        refunds_30d=sum(1 for r in refunds if r.at >= since),
        orders=int(n_orders),
        refunded_orders=len(refunded_orders),
        not_received_on_signed=sum(1 for r in rows if r.kind == "not_received_signed"),
        threat_words=tuple(sorted({r.detail for r in rows if r.kind == "threat"})),
    )


# -- reviews and conversations --------------------------------------------------------------
async def record_review(conn: AsyncConnection, **values: Any) -> bool:
    return (
        await conn.execute(insert(reviews).values(**values).on_conflict_do_nothing())
    ).rowcount == 1


async def review_counts(conn: AsyncConnection, shop_id: str) -> dict[str, int]:
    rows = (
        await conn.execute(
            select(reviews.c.result, func.count())
            .where(reviews.c.shop_id == shop_id)
            .group_by(reviews.c.result)
        )
    ).all()
    return {"good": 0, "neutral": 0, "bad": 0, **{r[0]: int(r[1]) for r in rows}}


async def remember_conversation(
    conn: AsyncConnection, shop_id: str, buyer_id: str, conversation_id: str, at: datetime
) -> None:
    stmt = insert(conversations).values(
        shop_id=shop_id, buyer_id=buyer_id, conversation_id=conversation_id, seen_at=at
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["shop_id", "buyer_id"],
            set_={
                "conversation_id": stmt.excluded.conversation_id,
                "seen_at": stmt.excluded.seen_at,
            },
            where=conversations.c.seen_at <= stmt.excluded.seen_at,
        )
    )


async def conversation_of(conn: AsyncConnection, shop_id: str, buyer_id: str) -> str | None:
    row = (
        await conn.execute(
            select(conversations.c.conversation_id).where(
                conversations.c.shop_id == shop_id, conversations.c.buyer_id == buyer_id
            )
        )
    ).first()
    return row.conversation_id if row else None


# -- housekeeping --------------------------------------------------------------------------
EARLY_CHANGE_RETENTION = timedelta(days=30)


async def prune(conn: AsyncConnection, now: datetime, history_retention: timedelta) -> None:
    """Delete the history of cases resolved before `now - history_retention`, and buffered
    refund changes whose refund request never came."""
    old = select(cases.c.case_id).where(cases.c.resolved_at < now - history_retention)
    await conn.execute(delete(case_history).where(case_history.c.case_id.in_(old)))
    await conn.execute(
        delete(early_refund_changes).where(
            early_refund_changes.c.changed_at < now - EARLY_CHANGE_RETENTION
        )
    )
