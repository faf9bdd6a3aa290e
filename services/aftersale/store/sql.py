"""Small SQL helpers the stores share."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ARRAY, Text, any_, bindparam, func, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from services.aftersale.domain.model import BuyerKey


def any_of(values: Collection[str]) -> Any:
    """`= ANY($1)` with the ids as one array parameter (one plan for any batch size)."""
    return any_(bindparam(None, sorted(values), type_=ARRAY(Text)))


def pair_in(left: Any, right: Any, pairs: Collection[BuyerKey]) -> ColumnElement[bool]:
    """`(left, right) IN (SELECT unnest($1), unnest($2))`: pairs as two array parameters."""
    ordered = sorted(pairs)
    firsts = bindparam(None, [p[0] for p in ordered], type_=ARRAY(Text))
    seconds = bindparam(None, [p[1] for p in ordered], type_=ARRAY(Text))
    wanted = select(func.unnest(firsts), func.unnest(seconds))
    return tuple_(left, right).in_(wanted)
