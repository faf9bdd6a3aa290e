"""Bulk writes as one statement over column arrays: `INSERT … SELECT … FROM unnest($1, $2, …)`.

The hot bulk statements of the consume path (inbox claims, outbox rows, timers, a batch's
aggregates) used SQLAlchemy's executemany ("insertmanyvalues"): one cached compilation, but
every batch's SQL is re-rendered row by row, with a type cast per parameter, and every value
is bound one by one — measured at about a sixth of presale's CPU per message. Here the SQL text
is fixed (built once per table and column list; PostgreSQL and asyncpg keep one prepared
statement for it whatever the batch size) and the values travel as one array per column,
which asyncpg encodes in C.

Rows are inserted in the order given (`WITH ORDINALITY … ORDER BY`), so serial ids follow it.
JSONB values are sent as JSON text and cast row by row, exactly what SQLAlchemy's JSONB type
sent before (`json.dumps`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, TextClause, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def _array_type(table: Table, column: str) -> tuple[str, bool]:
    """The SQL array type a column's values travel as, and whether they are JSON."""
    col_type = table.c[column].type
    if isinstance(col_type, JSONB):
        return "text[]", True
    name = col_type.compile(dialect=_DIALECT)
    if "[]" in name:
        raise TypeError(f"{table.name}.{column}: array columns are not supported")
    return f"{name}[]", False


class BulkInsert:
    """`INSERT INTO table (columns) SELECT … FROM unnest(one array per column)` plus an optional
    `ON CONFLICT …` / `RETURNING …` tail (SQL text; column names as in the table)."""

    def __init__(
        self, table: Table, columns: Sequence[str], *, on_conflict: str = "", returning: str = ""
    ) -> None:
        self.columns = list(columns)
        types = [_array_type(table, c) for c in self.columns]
        self._json = [i for i, (_, is_json) in enumerate(types) if is_json]
        args = ", ".join(f"CAST(:c{i} AS {t})" for i, (t, _) in enumerate(types))
        names = ", ".join(f"v{i}" for i in range(len(types)))
        select = ", ".join(
            f"v{i}::jsonb" if is_json else f"v{i}" for i, (_, is_json) in enumerate(types)
        )
        sql = (
            f"INSERT INTO {table.name} ({', '.join(self.columns)})"
            f" SELECT {select} FROM unnest({args}) WITH ORDINALITY AS v({names}, ord)"
            " ORDER BY ord"
        )
        if on_conflict:
            sql += f" ON CONFLICT {on_conflict}"
        if returning:
            sql += f" RETURNING {returning}"
        self.statement: TextClause = text(sql)

    def params(self, rows: Iterable[Sequence[Any]]) -> dict[str, list[Any]]:
        """Rows (tuples in `columns` order) as one list per column."""
        arrays = [list(a) for a in zip(*rows, strict=True)] or [[] for _ in self.columns]
        for i in self._json:
            arrays[i] = [None if v is None else json.dumps(v) for v in arrays[i]]
        return {f"c{i}": values for i, values in enumerate(arrays)}

    async def execute(
        self, conn: AsyncConnection, rows: Sequence[Sequence[Any]]
    ) -> CursorResult[Any]:
        return await conn.execute(self.statement, self.params(rows))
