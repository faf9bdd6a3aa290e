"""催付 recovery per shop and day, added up in SQL (`domain/recovery.py` says what is counted).

Reads the `fact_reminders` facts and the derived `orders` (first `paid_at`, `total_fee`), so it
is a function of the facts like every KPI: a replay gives the same figures.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.metrics.domain.recovery import RecoveryTotals

_SENT = text(
    """
    SELECT date_trunc('day', sent_at, :tz) AS day, count(*) AS n
    FROM fact_reminders
    WHERE shop_id = :shop AND sent_at >= :start AND sent_at < :end
    GROUP BY 1
    """
)
# Orders whose first reminder falls in the window, and whether each was recovered.
_COHORT = text(
    """
    WITH candidates AS (
        SELECT DISTINCT order_id FROM fact_reminders
        WHERE shop_id = :shop AND sent_at >= :start AND sent_at < :end
    ), firsts AS (
        SELECT r.order_id, min(r.sent_at) AS first_at
        FROM fact_reminders r JOIN candidates c USING (order_id)
        WHERE r.shop_id = :shop
        GROUP BY r.order_id
        HAVING min(r.sent_at) >= :start
    ), judged AS (
        SELECT f.first_at, o.total_fee,
               o.paid_at IS NOT NULL AND o.paid_at - (
                   SELECT max(r.sent_at) FROM fact_reminders r
                   WHERE r.shop_id = :shop AND r.order_id = f.order_id AND r.sent_at < o.paid_at
               ) <= :window AS recovered
        FROM firsts f
        LEFT JOIN orders o ON o.shop_id = :shop AND o.order_id = f.order_id
    )
    SELECT date_trunc('day', first_at, :tz) AS day,
           count(*) AS reminded,
           count(*) FILTER (WHERE recovered) AS recovered,
           coalesce(sum(total_fee) FILTER (WHERE recovered), 0) AS fen
    FROM judged GROUP BY 1
    """
)


async def recovery_by_day(
    conn: AsyncConnection,
    shop_id: str,
    start: datetime,
    end: datetime,
    window: timedelta,
    timezone: str,
) -> dict[datetime, RecoveryTotals]:
    """{start of the shop-local day: totals} for the days of [start, end) with reminders."""
    params = {"shop": shop_id, "start": start, "end": end, "tz": timezone, "window": window}
    out: dict[datetime, RecoveryTotals] = {}
    for row in (await conn.execute(_SENT, params)).all():
        out.setdefault(row.day, RecoveryTotals()).reminders_sent = row.n
    for row in (await conn.execute(_COHORT, params)).all():
        t = out.setdefault(row.day, RecoveryTotals())
        t.reminded_orders, t.recovered_orders, t.recovered_fen = (
            row.reminded,
            row.recovered,
            int(row.fen),
        )
    return out
