"""`shared.bulk.BulkInsert`: the SQL it builds and the parameters it sends (no database)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import ARRAY, BigInteger, Column, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from shared.bulk import BulkInsert, upsert

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50)),
    Column("doc", JSONB),
    Column("tags", ARRAY(String(100))),
    Column("nums", ARRAY(BigInteger)),
    Column("grid", ARRAY(Text, dimensions=2)),
)


def test_plain_and_json_columns_travel_as_one_array_each() -> None:
    bulk = BulkInsert(things, ["id", "name", "doc"])
    sql = str(bulk.statement)
    assert "unnest(CAST(:c0 AS INTEGER[]), CAST(:c1 AS TEXT[]), CAST(:c2 AS text[]))" in sql
    assert "v2::jsonb" in sql
    assert "ORDER BY ord" in sql
    params = bulk.params([(1, "a", {"k": [1, 2]}), (2, None, None)])
    assert params == {"c0": [1, 2], "c1": ["a", None], "c2": [json.dumps({"k": [1, 2]}), None]}


def test_array_columns_travel_as_json_text_and_are_rebuilt_per_row() -> None:
    bulk = BulkInsert(things, ["id", "tags", "nums"])
    sql = str(bulk.statement)
    assert "CAST(:c1 AS text[])" in sql
    assert "CAST(:c2 AS text[])" in sql
    assert "CAST(e.value AS TEXT)" in sql
    assert "CAST(e.value AS BIGINT)" in sql
    assert "WITH ORDINALITY AS e(value, n) ORDER BY e.n" in sql
    assert "CASE WHEN v1 IS NULL THEN NULL" in sql
    params = bulk.params([(1, ("a", "b"), [2**62]), (2, [], None), (3, None, [None, 1])])
    assert params["c1"] == ['["a", "b"]', "[]", None]
    assert params["c2"] == [json.dumps([2**62]), None, "[null, 1]"]


def test_no_rows_still_gives_one_empty_array_per_column() -> None:
    assert BulkInsert(things, ["id", "tags"]).params([]) == {"c0": [], "c1": []}


def test_multi_dimensional_arrays_are_refused() -> None:
    with pytest.raises(TypeError, match="one-dimensional"):
        BulkInsert(things, ["id", "grid"])


def test_upsert_tail() -> None:
    assert upsert(["id"], ["name", "doc"]) == (
        "(id) DO UPDATE SET name = EXCLUDED.name, doc = EXCLUDED.doc"
    )
    tail = upsert(["a", "b"], ["c"], where="t.at <= EXCLUDED.at", extra="updated_at = now()")
    assert (
        tail == "(a, b) DO UPDATE SET c = EXCLUDED.c, updated_at = now() WHERE t.at <= EXCLUDED.at"
    )
    bulk = BulkInsert(things, ["id", "name"], on_conflict=upsert(["id"], ["name"]), returning="id")
    assert str(bulk.statement).endswith(
        " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name RETURNING id"
    )
