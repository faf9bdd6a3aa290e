"""Set membership for a batch's ids, written so PostgreSQL joins instead of filtering.

`column = ANY($1)` with a few hundred ids is planned well on an analysed table, but on a table
whose statistics lag (a fresh deployment, a bulk load, a partition that just grew) the planner
falls back to a sequential scan that compares every row with every id, and an `OR` of several
of them never uses an index. `column IN (SELECT unnest($1))` is a semi-join: an index probe per
id on a large table, a hash on a small one, linear either way. One array parameter keeps one
cached plan whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ARRAY, Text, bindparam, func, select, tuple_
from sqlalchemy.sql.elements import ColumnElement


def _array(values: Collection[str]) -> Any:
    return bindparam(None, sorted(values), type_=ARRAY(Text))


def among(column: Any, values: Collection[str]) -> ColumnElement[bool]:
    """`column IN (SELECT unnest($1))`, the values as one text array."""
    return column.in_(select(func.unnest(_array(values))))  # type: ignore[no-any-return]


def pairs_among(left: Any, right: Any, pairs: Collection[tuple[str, str]]) -> ColumnElement[bool]:
    """`(left, right) IN (SELECT unnest($1), unnest($2))`: pairs as two text arrays."""
    ordered = sorted(pairs)
    firsts = bindparam(None, [p[0] for p in ordered], type_=ARRAY(Text))
    seconds = bindparam(None, [p[1] for p in ordered], type_=ARRAY(Text))
    return tuple_(left, right).in_(select(func.unnest(firsts), func.unnest(seconds)))
