"""Deleting what aftersale no longer needs (run by the runtime's housekeeping)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersale.store.tables import case_history, cases, early_refund_changes

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
