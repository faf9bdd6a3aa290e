"""The outbox relay as a process of its own: `python -m shared.relay` (`RELAY_MODE=separate`).

Inline (the default), each service process runs its relay on its own event loop, woken right
after each commit. Separate, the service only writes its outbox; a relay Deployment publishes
it. `SERVICE_NAME` names the service whose outbox it relays (its schema) and it reads the same
settings (`DATABASE_URL`, `KAFKA_*`, `OUTBOX_*`). Any number of relay replicas and service
processes may run side by side: shards are locked per pass (shared/outbox.py), so each key's
events still leave in order and no row is published twice.

The wake-up crosses processes through PostgreSQL: the service's `CommitNotifier` sends
`NOTIFY xiaoer_outbox_<schema>` after each commit (coalesced: one in flight, another only if a
commit came meanwhile), the relay `LISTEN`s on it and passes at once; it polls every
`OUTBOX_POLL_INTERVAL_S` otherwise, so a lost notification (a reconnect) delays, never loses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Response
from opentelemetry import trace
from opentelemetry.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.engine import make_url

from shared.broker import make_broker
from shared.db import async_url, create_engine, new_metadata, ping
from shared.observability import OUTBOX_BACKLOG, OUTBOX_PARKED_ROWS, OUTBOX_PUBLISHED, REGISTRY
from shared.outbox import OutboxRelay
from shared.plumbing import plumbing_tables
from shared.publishing import KafkaPublisher
from shared.settings import CommonSettings
from shared.startup import connect_with_retry

log = logging.getLogger(__name__)


def channel(schema: str) -> str:
    """The notification channel of a service's outbox."""
    return f"xiaoer_outbox_{schema}"


def plain_dsn(database_url: str) -> str:
    """The database URL as asyncpg itself takes it (no SQLAlchemy driver suffix)."""
    return make_url(async_url(database_url)).set(drivername="postgresql").render_as_string(False)


class CommitNotifier:
    """In a service with `RELAY_MODE=separate`: `wake()` after each commit (the relay hook the
    consume path and timer runner already call) sends one `NOTIFY` on a connection of its own.
    Never blocks the caller; a failure is logged and the relay's poll covers it."""

    def __init__(self, database_url: str, schema: str) -> None:
        self._dsn = plain_dsn(database_url)
        self._sql = f"NOTIFY {channel(schema)}"
        self._pending = asyncio.Event()
        self._conn: Any = None

    def wake(self) -> None:
        self._pending.set()

    async def run(self) -> None:
        try:
            while True:
                await self._pending.wait()
                self._pending.clear()
                try:
                    if self._conn is None or self._conn.is_closed():
                        self._conn = await asyncpg.connect(self._dsn)
                    await self._conn.execute(self._sql)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("outbox notify failed (%r); the relay's poll will find it", exc)
                    self._conn = None
                    await asyncio.sleep(1)
        finally:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await self._conn.close()


class RelayProcess:
    """One service's outbox relay on its own: database, broker, LISTEN, relay loop, HTTP."""

    def __init__(
        self, settings: CommonSettings, tracer_provider: TracerProvider | None = None
    ) -> None:
        self.settings = settings
        self.name = settings.db_schema
        _, outbox, _ = plumbing_tables(new_metadata())
        self.engine = create_engine(settings.database_url, self.name, pool_size=2)
        self.broker = make_broker(settings, tracer_provider)
        self.publisher = KafkaPublisher(
            self.broker,
            trace.get_tracer("xiaoer.relay", tracer_provider=tracer_provider),
            settings.kafka_max_request_bytes,
        )
        self.relay = OutboxRelay(
            self.engine,
            outbox,
            self.publisher.publish,
            lock_space=f"{self.name}.outbox",
            shards=settings.outbox_shards,
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_s,
            service=self.name,
            unknown_topic_attempts=settings.outbox_unknown_topic_attempts,
            publish_many=self.publisher.publish_many,
        )
        self.ready = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        await connect_with_retry(self.engine, self.broker, "relay")
        self._tasks += [
            asyncio.create_task(self._listen(), name="outbox-listen"),
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
            asyncio.create_task(self._gauges(), name="gauges"),
        ]
        self.ready.set()
        log.info("%s outbox relay ready", self.name)

    async def stop(self) -> None:
        self.ready.clear()
        self.relay.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.relay.relay_once()
        with contextlib.suppress(Exception):
            await self.broker.stop()
        await self.engine.dispose()

    async def _listen(self) -> None:
        """LISTEN for the service's commits; reconnect for ever (the poll covers the gaps)."""
        dsn = plain_dsn(self.settings.database_url)
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(dsn)
                await conn.add_listener(channel(self.name), lambda *_: self.relay.wake())
                self.relay.wake()  # whatever was committed while not listening
                while True:  # a connection that died quietly fails this: reconnect
                    await asyncio.sleep(10)
                    await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout=5)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox LISTEN failed (%r); retrying", exc)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(1)

    async def _gauges(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                OUTBOX_BACKLOG.labels(self.name).set(await self.relay.backlog())
                OUTBOX_PARKED_ROWS.labels(self.name).set(await self.relay.parked())
                OUTBOX_PUBLISHED.labels(self.name).inc(self.relay.stats.published)
                self.relay.stats.published = 0
            await asyncio.sleep(5)

    def app(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            starter = asyncio.create_task(self.start(), name="start")
            try:
                yield
            finally:
                starter.cancel()
                with contextlib.suppress(BaseException):
                    await starter
                await self.stop()

        app = FastAPI(title=f"xiaoer {self.name} outbox relay", lifespan=lifespan)

        @app.get("/healthz", include_in_schema=False)
        async def healthz() -> dict[str, str]:
            return {"status": "alive"}

        @app.get("/readyz", include_in_schema=False)
        async def readyz(response: Response) -> dict[str, str]:
            ok = self.ready.is_set()
            if ok:
                try:
                    await asyncio.wait_for(ping(self.engine), timeout=2)
                except Exception:
                    ok = False
            response.status_code = 200 if ok else 503
            return {"status": "ok" if ok else "not ready"}

        @app.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

        return app


def build_app(settings: CommonSettings, tracer_provider: TracerProvider) -> FastAPI:
    return RelayProcess(settings, tracer_provider).app()


if __name__ == "__main__":
    from shared.serve import serve

    serve(CommonSettings(), build_app, fast_loop=True)
