"""Which dead letters were re-driven, recorded where the re-drive takes effect.

A dead letter names the consumer that gave up on it (`x-dlq-consumer: xiaoer-<service>`).
The ledger lives in that service's own inbox table, under the consumer name
`xiaoer-dlq-redrive` and the dead letter's position (`<dlq topic>:<partition>:<offset>`):

1. `released:<position>` is written in the same transaction that deletes the inbox row with
   which the Dispatcher absorbed a failed handler's event (else the re-driven copy, which
   keeps its `ce_id`, would be skipped as a duplicate);
2. the event is published back to its topic;
3. `done:<position>` is written.

A re-run after a crash between 1 and 3 publishes again but never releases again: if the
first copy was handled, the service's inbox drops the second. So each dead letter is handled
at most once more, and exactly once when its cause was fixed. A Kafka consumer-group commit
cannot be made atomic with step 1, which is why the ledger is in PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ops.topology import REDRIVE_GROUP
from shared.db import create_engine

PENDING, RELEASED, REDRIVEN = "pending", "released", "redriven"


class Ledger:
    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._engines: dict[str, AsyncEngine] = {}

    def _engine(self, consumer: str) -> AsyncEngine:
        schema = consumer.removeprefix("xiaoer-")
        if not schema.isidentifier():
            raise ValueError(f"unexpected consumer name {consumer!r}")
        if schema not in self._engines:
            self._engines[schema] = create_engine(self._url, schema, pool_size=1)
        return self._engines[schema]

    async def status(self, consumer: str, position: str) -> str:
        async with self._engine(consumer).connect() as conn:
            rows = await conn.execute(
                text("SELECT event_id FROM inbox WHERE consumer = :c AND event_id IN (:r, :d)"),
                {"c": REDRIVE_GROUP, "r": f"released:{position}", "d": f"done:{position}"},
            )
            ids = {row[0] for row in rows}
        if f"done:{position}" in ids:
            return REDRIVEN
        return RELEASED if f"released:{position}" in ids else PENDING

    async def release(self, consumer: str, position: str, topic: str, event_id: str | None) -> None:
        """Step 1: mark released and (for a failed handler) drop the event's inbox claim."""
        async with self._engine(consumer).begin() as conn:
            claimed = await conn.execute(
                text(
                    "INSERT INTO inbox (consumer, event_id, topic) VALUES (:c, :e, :t) "
                    "ON CONFLICT DO NOTHING"
                ),
                {"c": REDRIVE_GROUP, "e": f"released:{position}", "t": topic},
            )
            if claimed.rowcount == 1 and event_id is not None:
                await conn.execute(
                    text("DELETE FROM inbox WHERE consumer = :c AND event_id = :e"),
                    {"c": consumer, "e": event_id},
                )

    async def mark_done(self, consumer: str, position: str, topic: str) -> None:
        async with self._engine(consumer).begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO inbox (consumer, event_id, topic) VALUES (:c, :e, :t) "
                    "ON CONFLICT DO NOTHING"
                ),
                {"c": REDRIVE_GROUP, "e": f"done:{position}", "t": topic},
            )

    async def close(self) -> None:
        for engine in self._engines.values():
            await engine.dispose()


@asynccontextmanager
async def opened(database_url: str) -> AsyncIterator[Ledger]:
    ledger = Ledger(database_url)
    try:
        yield ledger
    finally:
        await ledger.close()
