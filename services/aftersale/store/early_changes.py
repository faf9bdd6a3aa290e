"""Platform refund changes consumed before their request, kept until the case opens."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.domain.model import EarlyChange
from services.aftersale.store.tables import early_refund_changes
from shared.bulk import BulkInsert, upsert
from shared.sql_arrays import among

_SAVE = BulkInsert(
    early_refund_changes,
    ["refund_id", "status", "cs_status", "timeout", "changed_at"],
    on_conflict=upsert(
        ["refund_id"],
        ["status", "cs_status", "timeout", "changed_at"],
        where="early_refund_changes.changed_at <= EXCLUDED.changed_at",
    ),
)


async def lock_early_changes(
    conn: AsyncConnection, refund_ids: Collection[str]
) -> dict[str, EarlyChange]:
    if not refund_ids:
        return {}
    e = early_refund_changes
    rows = await conn.execute(
        select(e).where(among(e.c.refund_id, refund_ids)).order_by(e.c.refund_id).with_for_update()
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
        await conn.execute(delete(e).where(among(e.c.refund_id, taken)))
    if saved:
        await _SAVE.execute(
            conn, [(c.refund_id, c.status, c.cs_status, c.timeout, c.changed_at) for c in saved]
        )
