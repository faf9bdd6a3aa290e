"""Reviews seen (each counted once) and their counts per shop."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.domain.model import Review
from services.aftersale.store.tables import reviews
from shared.bulk import BulkInsert
from shared.sql_arrays import among

_ADD = BulkInsert(
    reviews,
    ["review_id", "shop_id", "order_id", "buyer_id", "result", "posted_at"],
    on_conflict="DO NOTHING",
)


async def seen_reviews(conn: AsyncConnection, review_ids: Collection[str]) -> set[str]:
    if not review_ids:
        return set()
    rows = await conn.execute(
        select(reviews.c.review_id).where(among(reviews.c.review_id, review_ids))
    )
    return {r.review_id for r in rows}


async def add_reviews(conn: AsyncConnection, new: Sequence[Review]) -> None:
    if new:
        await _ADD.execute(
            conn,
            [(r.review_id, r.shop_id, r.order_id, r.buyer_id, r.result, r.posted_at) for r in new],
        )


async def review_counts(conn: AsyncConnection, shop_id: str) -> dict[str, int]:
    rows = (
        await conn.execute(
            select(reviews.c.result, func.count())
            .where(reviews.c.shop_id == shop_id)
            .group_by(reviews.c.result)
        )
    ).all()
    return {"good": 0, "neutral": 0, "bad": 0, **{r[0]: int(r[1]) for r in rows}}
