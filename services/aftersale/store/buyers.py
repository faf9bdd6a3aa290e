"""What aftersale knows of buyers: risk signals, conversations, reviews; early refund changes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.domain.model import BuyerKey, Conversation, EarlyChange, Review, Signal
from services.aftersale.domain.risk import BuyerHistory, buyer_history
from services.aftersale.store.sql import any_of, pair_in
from services.aftersale.store.tables import (
    buyer_signals,
    conversations,
    early_refund_changes,
    orders,
    reviews,
)


# -- risk signals --------------------------------------------------------------------------
async def signals(
    conn: AsyncConnection, buyers: Collection[BuyerKey]
) -> dict[BuyerKey, dict[tuple[str, str], Signal]]:
    """Every signal of these buyers (risk is counted over them in the domain)."""
    if not buyers:
        return {}
    s = buyer_signals
    rows = await conn.execute(select(s).where(pair_in(s.c.shop_id, s.c.buyer_id, buyers)))
    out: dict[BuyerKey, dict[tuple[str, str], Signal]] = {}
    for r in rows:
        signal = Signal(r.shop_id, r.buyer_id, r.kind, r.ref_id, r.at, r.detail)
        out.setdefault((r.shop_id, r.buyer_id), {})[signal.key] = signal
    return out


async def add_signals(conn: AsyncConnection, new: Sequence[Signal]) -> None:
    if not new:
        return
    rows = [
        {"shop_id": s.shop_id, "buyer_id": s.buyer_id, "kind": s.kind, "ref_id": s.ref_id,
         "at": s.at, "detail": s.detail}
        for s in new
    ]  # fmt: skip
    await conn.execute(insert(buyer_signals).on_conflict_do_nothing(), rows)


async def risk_history(
    conn: AsyncConnection, shop_id: str, buyer_id: str, at: datetime
) -> BuyerHistory:
    """The buyer's risk counts as of `at` (the API's view; decisions count over a batch)."""
    found = (await signals(conn, [(shop_id, buyer_id)])).get((shop_id, buyer_id), {})
    n_orders = (
        await conn.execute(
            select(func.count())
            .select_from(orders)
            .where(orders.c.shop_id == shop_id, orders.c.buyer_id == buyer_id)
        )
    ).scalar_one()
    return buyer_history(found.values(), int(n_orders), at)


# -- conversations -------------------------------------------------------------------------
async def conversations_of(
    conn: AsyncConnection, buyers: Collection[BuyerKey]
) -> dict[BuyerKey, Conversation]:
    if not buyers:
        return {}
    c = conversations
    rows = await conn.execute(select(c).where(pair_in(c.c.shop_id, c.c.buyer_id, buyers)))
    return {
        (r.shop_id, r.buyer_id): Conversation(r.shop_id, r.buyer_id, r.conversation_id, r.seen_at)
        for r in rows
    }


async def save_conversations(conn: AsyncConnection, changed: Sequence[Conversation]) -> None:
    if not changed:
        return
    rows = [
        {"shop_id": c.shop_id, "buyer_id": c.buyer_id, "conversation_id": c.conversation_id,
         "seen_at": c.seen_at}
        for c in changed
    ]  # fmt: skip
    stmt = insert(conversations)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["shop_id", "buyer_id"],
            set_={
                "conversation_id": stmt.excluded.conversation_id,
                "seen_at": stmt.excluded.seen_at,
            },
            where=conversations.c.seen_at <= stmt.excluded.seen_at,
        ),
        rows,
    )


# -- reviews -------------------------------------------------------------------------------
async def seen_reviews(conn: AsyncConnection, review_ids: Collection[str]) -> set[str]:
    if not review_ids:
        return set()
    rows = await conn.execute(
        select(reviews.c.review_id).where(reviews.c.review_id == any_of(review_ids))
    )
    return {r.review_id for r in rows}


async def add_reviews(conn: AsyncConnection, new: Sequence[Review]) -> None:
    if not new:
        return
    rows = [
        {"review_id": r.review_id, "shop_id": r.shop_id, "order_id": r.order_id,
         "buyer_id": r.buyer_id, "result": r.result, "posted_at": r.posted_at}
        for r in new
    ]  # fmt: skip
    await conn.execute(insert(reviews).on_conflict_do_nothing(), rows)


async def review_counts(conn: AsyncConnection, shop_id: str) -> dict[str, int]:
    rows = (
        await conn.execute(
            select(reviews.c.result, func.count())
            .where(reviews.c.shop_id == shop_id)
            .group_by(reviews.c.result)
        )
    ).all()
    return {"good": 0, "neutral": 0, "bad": 0, **{r[0]: int(r[1]) for r in rows}}


# -- early refund changes (a change consumed before its request) ----------------------------
async def lock_early_changes(
    conn: AsyncConnection, refund_ids: Collection[str]
) -> dict[str, EarlyChange]:
    if not refund_ids:
        return {}
    e = early_refund_changes
    rows = await conn.execute(
        select(e)
        .where(e.c.refund_id == any_of(refund_ids))
        .order_by(e.c.refund_id)
        .with_for_update()
    )
    return {
        r.refund_id: EarlyChange(r.refund_id, r.status, r.cs_status, r.timeout, r.changed_at)
        for r in rows
    }


async def save_early_changes(
    conn: AsyncConnection, saved: Sequence[EarlyChange], taken: Collection[str]
) -> None:
    e = early_refund_changes
    if taken:
        await conn.execute(delete(e).where(e.c.refund_id == any_of(taken)))
    if not saved:
        return
    rows = [
        {"refund_id": c.refund_id, "status": c.status, "cs_status": c.cs_status,
         "timeout": c.timeout, "changed_at": c.changed_at}
        for c in saved
    ]  # fmt: skip
    stmt = insert(e)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["refund_id"],
            set_={k: stmt.excluded[k] for k in ("status", "cs_status", "timeout", "changed_at")},
            where=e.c.changed_at <= stmt.excluded.changed_at,
        ),
        rows,
    )
