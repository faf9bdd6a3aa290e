"""The statements every metrics table family is read and written with: rows of many entities
of one shop at a time (`shop_id = :shop AND <id> IN (SELECT unnest(:ids))`), and bulk loads by COPY."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.metrics.domain.hours import Key
from shared.sql_arrays import among


def by_shop(keys: Iterable[Key]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for shop, key in sorted(set(keys)):
        out[shop].append(key)
    return out


def _match(table: Table, column: str, shop: str, ids: list[str]) -> list[Any]:
    """shop_id = :shop AND <column> IN (SELECT unnest(:ids)): one array parameter, one cached
    plan, a semi-join whatever the table's statistics say (`shared.sql_arrays`)."""
    return [table.c.shop_id == shop, among(table.c[column], ids)]


async def select_of(
    conn: AsyncConnection, table: Table, column: str, keys: Iterable[Key], *where: Any
) -> list[Any]:
    """The rows of these entities (`column` names the entity id)."""
    out: list[Any] = []
    for shop, ids in by_shop(keys).items():
        result = await conn.execute(select(table).where(*_match(table, column, shop, ids), *where))
        out += result.all()
    return out


async def delete_of(
    conn: AsyncConnection,
    table: Table,
    column: str,
    keys: Iterable[Key],
    *,
    returning: bool = False,
) -> list[tuple[Any, ...]]:
    """Delete the rows of these entities; with `returning`, give back what was deleted (as
    tuples in the table's column order)."""
    out: list[tuple[Any, ...]] = []
    for shop, ids in by_shop(keys).items():
        stmt = delete(table).where(*_match(table, column, shop, ids))
        if returning:
            out += [tuple(r) for r in (await conn.execute(stmt.returning(*table.c))).all()]
        else:
            await conn.execute(stmt)
    return out


async def insert_new(
    conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Insert facts; return those that were new (a known fact is a no-op).

    The batch is COPYed into a temporary twin of the table, then moved over with one
    `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`: the fast path of PostgreSQL for
    thousands of rows, and known facts fall out on the way (a key twice in the batch is kept
    once, the first: the same as when they arrive in two batches).
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
    key = [columns.index(c.name) for c in table.primary_key.columns]
    first: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for r in rows:  # a key twice in the batch: the first one counts, as across batches
        record = tuple(r[c] for c in columns)
        first.setdefault(tuple(record[i] for i in key), record)
    await raw.copy_records_to_table(staging, records=list(first.values()), columns=columns)
    cols = ", ".join(f'"{c}"' for c in columns)
    records = await raw.fetch(
        f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM "{staging}" '
        f"ON CONFLICT DO NOTHING RETURNING {cols}"
    )
    return [dict(r) for r in records]


async def insert_all(
    conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Bulk-load derived rows with COPY (binary): the refresh's largest write."""
    if not rows:
        return
    columns = [c.name for c in table.c]
    raw = await conn.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        table.name, records=[tuple(r[c] for c in columns) for r in rows], columns=columns
    )
