"""`shared.bulk.BulkInsert` against the real PostgreSQL (asyncpg): plain, JSONB and array
columns, empty and NULL arrays, NULL elements, big integers, order, upserts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.bulk import BulkInsert, upsert
from shared.db import create_engine

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("key", String(50), nullable=False, unique=True),
    Column("doc", JSONB, nullable=True),
    Column("tags", ARRAY(String(100)), nullable=True),
    Column("words", ARRAY(Text), nullable=True),
    Column("nums", ARRAY(BigInteger), nullable=True),
    Column("small", ARRAY(Integer), nullable=True),
    Column("at", DateTime(timezone=True), nullable=True),
)
COLUMNS = ["key", "doc", "tags", "words", "nums", "small", "at"]


@pytest.fixture
async def db(infra) -> AsyncIterator[AsyncEngine]:  # type: ignore[no-untyped-def]
    schema = f"bulk_{uuid.uuid4().hex[:10]}"
    engine = create_engine(infra.database_url, schema, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
        await conn.run_sync(metadata.create_all)
    yield engine
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    await engine.dispose()


async def test_arrays_round_trip_exactly(db: AsyncEngine) -> None:
    at = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    rows = [
        ("a", {"x": [1, "二"]}, ("i1", "i2", "i3"), ["退款", "it's \"quoted\"", "a,b{c}"],
         [2**63 - 1, -(2**63), 0], [1, None, 3], at),
        ("b", None, (), [], [], [], None),
        ("c", [], None, None, None, None, at),
        ("d", "s", ("NULL",), ["", " ", "\\", "\n"], [12345678901234567], [None], at),
    ]  # fmt: skip
    bulk = BulkInsert(things, COLUMNS, returning="id, key")
    async with db.begin() as conn:
        returned = (await bulk.execute(conn, rows)).all()
        got = {r.key: r for r in await conn.execute(select(things))}
    assert [r.key for r in sorted(returned)] == ["a", "b", "c", "d"]  # ids follow row order
    a, b, c, d = got["a"], got["b"], got["c"], got["d"]
    assert a.doc == {"x": [1, "二"]}
    assert a.tags == ["i1", "i2", "i3"]
    assert a.words == ["退款", 'it\'s "quoted"', "a,b{c}"]
    assert a.nums == [2**63 - 1, -(2**63), 0]
    assert a.small == [1, None, 3]
    assert a.at == at
    assert (b.doc, b.tags, b.words, b.nums, b.small, b.at) == (None, [], [], [], [], None)
    assert (c.doc, c.tags, c.words, c.nums, c.small) == ([], None, None, None, None)
    assert d.doc == "s"
    assert d.tags == ["NULL"]
    assert d.words == ["", " ", "\\", "\n"]
    assert d.nums == [12345678901234567]
    assert d.small == [None]


async def test_one_prepared_statement_for_any_batch_size_and_empty_batches(
    db: AsyncEngine,
) -> None:
    bulk = BulkInsert(things, ["key", "tags"])
    async with db.begin() as conn:
        assert (await bulk.execute(conn, [])).rowcount == 0
        await bulk.execute(conn, [("k1", ["x"])])
        await bulk.execute(conn, [(f"k{i}", [f"t{i}"] * i) for i in range(2, 300)])
        tags = dict((await conn.execute(select(things.c.key, things.c.tags))).all())
    assert len(tags) == 299
    assert tags["k1"] == ["x"]
    assert tags["k7"] == ["t7"] * 7


async def test_upsert_overwrites_arrays_unless_guarded(db: AsyncEngine) -> None:
    t0, t1 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    save = BulkInsert(
        things,
        ["key", "tags", "at"],
        on_conflict=upsert(["key"], ["tags", "at"], where="things.at <= EXCLUDED.at"),
    )
    async with db.begin() as conn:
        await save.execute(conn, [("k", ["old"], t1)])
        await save.execute(conn, [("k", ["older"], t0)])  # older: kept out by the guard
        assert (await conn.execute(select(things.c.tags))).scalar_one() == ["old"]
        await save.execute(conn, [("k", [], t1)])
        assert (await conn.execute(select(things.c.tags))).scalar_one() == []


async def test_an_over_long_string_is_refused_not_cut(db: AsyncEngine) -> None:
    """As SQLAlchemy's executemany did: `varchar(n)` rejects a longer value (an explicit cast of
    the arrays to `varchar(n)` would silently cut it)."""
    for columns, row in ((["key"], ("k" * 51,)), (["key", "tags"], ("k", ["t" * 101]))):
        with pytest.raises(DBAPIError, match="too long"):
            async with db.begin() as conn:
                await BulkInsert(things, columns).execute(conn, [row])
    async with db.begin() as conn:
        await BulkInsert(things, ["key", "tags"]).execute(conn, [("k" * 50, ["t" * 100])])
        assert (await conn.execute(select(things.c.tags))).scalar_one() == ["t" * 100]
