"""Platform refund changes consumed before their request, kept until the case opens."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.domain.model import EarlyChange
from services.aftersale.store.sql import any_of
from services.aftersale.store.tables import early_refund_changes


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
