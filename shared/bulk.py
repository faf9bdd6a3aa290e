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

Array columns (`text[]`, `varchar(n)[]`, `bigint[]`, …) cannot travel as a 2-D array: `unnest`
of a 2-D array flattens it, and PostgreSQL arrays must be rectangular. Each row's array travels
as JSON text instead (`["a", "b"]`, `[]` or NULL) and is rebuilt in the statement with
`jsonb_array_elements_text … WITH ORDINALITY`, each element cast to the column's element type:
element order, empty arrays, NULL arrays and NULL elements are kept; integers keep every digit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ARRAY, String, Table, TextClause, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


_PLAIN, _JSON, _ARRAY = 0, 1, 2


def _travel_type(col_type: TypeEngine[Any]) -> str:
    """The SQL type a value travels as: strings as unbounded TEXT, so that the INSERT's own
    (assignment) cast to `varchar(n)` rejects an over-long value as SQLAlchemy's executemany
    did — an explicit cast to `varchar(n)` would silently cut it to n characters."""
    if isinstance(col_type, String):
        return "TEXT"
    return str(col_type.compile(dialect=_DIALECT))


def _array_type(table: Table, column: str) -> tuple[str, int, str]:
    """The SQL array type a column's values travel as, how they are encoded (plain, JSON or an
    array as JSON), and for an array column the type of its elements."""
    col_type = table.c[column].type
    if isinstance(col_type, JSONB):
        return "text[]", _JSON, ""
    if isinstance(col_type, ARRAY):
        if col_type.dimensions not in (None, 1):
            raise TypeError(f"{table.name}.{column}: only one-dimensional arrays are supported")
        return "text[]", _ARRAY, _travel_type(col_type.item_type)
    name = _travel_type(col_type)
    if "[]" in name:  # pragma: no cover - an array type that is not ARRAY
        raise TypeError(f"{table.name}.{column}: unsupported array type {name}")
    return f"{name}[]", _PLAIN, ""


def _select(i: int, kind: int, item_type: str) -> str:
    """The value of column `i` of a row, from what travelled."""
    if kind == _JSON:
        return f"v{i}::jsonb"
    if kind == _ARRAY:
        return (
            f"CASE WHEN v{i} IS NULL THEN NULL ELSE ARRAY(SELECT CAST(e.value AS {item_type})"
            f" FROM jsonb_array_elements_text(v{i}::jsonb) WITH ORDINALITY AS e(value, n)"
            " ORDER BY e.n) END"
        )
    return f"v{i}"


class BulkInsert:
    """`INSERT INTO table (columns) SELECT … FROM unnest(one array per column)` plus an optional
    `ON CONFLICT …` / `RETURNING …` tail (SQL text; column names as in the table)."""

    def __init__(
        self, table: Table, columns: Sequence[str], *, on_conflict: str = "", returning: str = ""
    ) -> None:
        self.columns = list(columns)
        types = [_array_type(table, c) for c in self.columns]
        self._json = [i for i, (_, kind, _) in enumerate(types) if kind != _PLAIN]
        args = ", ".join(f"CAST(:c{i} AS {t})" for i, (t, _, _) in enumerate(types))
        names = ", ".join(f"v{i}" for i in range(len(types)))
        select = ", ".join(_select(i, kind, item) for i, (_, kind, item) in enumerate(types))
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
        """Rows (tuples in `columns` order) as one list per column; JSON and array values
        (any sequence; a tuple travels as a list) as JSON text."""
        arrays = [list(a) for a in zip(*rows, strict=True)] or [[] for _ in self.columns]
        for i in self._json:
            arrays[i] = [None if v is None else json.dumps(v) for v in arrays[i]]
        return {f"c{i}": values for i, values in enumerate(arrays)}

    async def execute(
        self, conn: AsyncConnection, rows: Sequence[Sequence[Any]]
    ) -> CursorResult[Any]:
        return await conn.execute(self.statement, self.params(rows))


def upsert(key: Sequence[str], update: Sequence[str], *, where: str = "", extra: str = "") -> str:
    """The `on_conflict` tail of a bulk upsert: `(key) DO UPDATE SET c = EXCLUDED.c, …`, plus
    `extra` assignments (e.g. `updated_at = now()`) and a `WHERE` guard (SQL text)."""
    sets = [f"{c} = EXCLUDED.{c}" for c in update]
    if extra:
        sets.append(extra)
    tail = f"({', '.join(key)}) DO UPDATE SET {', '.join(sets)}"
    return f"{tail} WHERE {where}" if where else tail
