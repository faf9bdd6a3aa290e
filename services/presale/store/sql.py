"""Small SQL helpers the store modules share."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ARRAY, Text, any_, bindparam


def any_of(values: Collection[str]) -> Any:
    """`= ANY($1)` with the ids as one array parameter (one plan for any batch size)."""
    return any_(bindparam(None, list(values), type_=ARRAY(Text)))
