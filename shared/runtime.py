"""A service's process: broker subscriber, outbox relay, timer runner and HTTP, wired once.

Each service builds one `ServiceRuntime` with its handlers and gets back an ASGI app whose
lifespan starts and stops everything. The broker and database are connected in the
background with retries, so `/healthz` answers at once and `/readyz` tells when it is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiokafka import TopicPartition
from fastapi import APIRouter, FastAPI, Response
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from opentelemetry import trace
from opentelemetry.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData, delete, func, or_
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.broker import make_broker
from shared.clock import Clock, clock_from_settings
from shared.cloudevents import Record, read_headers
from shared.commit_pacing import CHUNK_OVERHEAD_S, ChunkPacer, rewind, run_in_chunks
from shared.consumer import Dispatcher, Handler, RawRecord, dead_letter
from shared.context import Plumbing
from shared.db import create_engine, ping
from shared.faststream_parsing import skip_body_decoding, tolerant_headers
from shared.http_auth import AuthMiddleware, TokenAuth
from shared.http_limits import BodyLimitMiddleware
from shared.observability import (
    BATCH_FAILURES,
    CONSUMER_LAG,
    EVENTS,
    OUTBOX_BACKLOG,
    OUTBOX_PARKED_ROWS,
    OUTBOX_PUBLISHED,
    REGISTRY,
    TIMERS_DUE,
    topic_label,
)
from shared.outbox import OutboxRelay
from shared.publishing import KafkaPublisher
from shared.relay import CommitNotifier
from shared.settings import CommonSettings
from shared.startup import connect_with_retry
from shared.timer_runner import TimerHandler, TimerRunner

log = logging.getLogger(__name__)
BATCH_ATTEMPTS = 3
"""Failures of one batch outside the consume path's own fallbacks before it is dead-lettered."""


def _batch_key(batch: Sequence[RawRecord]) -> tuple[str, int, int]:
    first = batch[0]
    return first.topic, first.partition, first.offset


class ConsumePath(Protocol):
    """What the subscriber hands each consumed batch to. The shared `Dispatcher` (one handler
    per event) is the default; a service may bring a set-based one (metrics does)."""

    consumer: str

    @property
    def topics(self) -> list[str]: ...

    async def process(self, records: Sequence[RawRecord]) -> None: ...


PruneHook = Callable[[AsyncConnection, datetime], Awaitable[None]]
"""A service's own housekeeping (e.g. old case history): `(conn, now)`, run with `prune`."""


class ServiceRuntime:
    def __init__(
        self,
        settings: CommonSettings,
        metadata: MetaData,
        handlers: Mapping[str, Handler],
        *,
        timer_handlers: Mapping[str, TimerHandler] | None = None,
        routers: Sequence[APIRouter] = (),
        consume_path: Callable[[ServiceRuntime], ConsumePath] | None = None,
        clock: Clock | None = None,
        tracer_provider: TracerProvider | None = None,
        title: str | None = None,
        prune_hooks: Sequence[PruneHook] = (),
    ) -> None:
        self.settings = settings
        self.prune_hooks = list(prune_hooks)
        self.name = settings.db_schema
        self.clock = clock or clock_from_settings(settings.clock_speed, settings.clock_epoch)
        self.plumbing = Plumbing(
            service=self.name,
            inbox=metadata.tables["inbox"],
            outbox=metadata.tables["outbox"],
            timers=metadata.tables["timers"],
            outbox_shards=settings.outbox_shards,
        )
        self.engine = create_engine(settings.database_url, self.name, settings.db_pool_size)
        self.broker: KafkaBroker = make_broker(settings, tracer_provider)
        # RELAY_MODE=separate: a `python -m shared.relay` process publishes the outbox; this
        # process only tells it when a commit added rows.
        self.notifier = (
            CommitNotifier(settings.database_url, self.name)
            if settings.relay_mode == "separate"
            else None
        )
        self.publisher = KafkaPublisher(
            self.broker,
            trace.get_tracer("xiaoer.relay", tracer_provider=tracer_provider),
            settings.kafka_max_request_bytes,
        )
        self.relay = OutboxRelay(
            self.engine,
            self.plumbing.outbox,
            self._publish,
            lock_space=f"{self.name}.outbox",
            shards=settings.outbox_shards,
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_s,
            service=self.name,
            unknown_topic_attempts=settings.outbox_unknown_topic_attempts,
            publish_many=self.publisher.publish_many,
            on_wake=self.notifier.wake if self.notifier else None,
        )
        self.timer_runner = TimerRunner(
            self.engine, self.plumbing.timers, timer_handlers or {}, self.clock, self.plumbing,
            batch_size=settings.timer_batch_size,
            poll_interval_s=settings.timer_poll_interval_s,
            lock_wait_ms=settings.timer_lock_wait_ms,
            on_committed=self.relay.wake,
        )  # fmt: skip
        self.dispatcher: ConsumePath = (
            consume_path(self)
            if consume_path
            else Dispatcher(
                self.engine,
                self.plumbing,
                self.clock,
                handlers,
                on_committed=self.relay.wake,
                lanes=settings.consumer_lanes,
            )
        )
        self._failed_batches: dict[tuple[str, int, int], int] = {}
        self._pacer = ChunkPacer(settings.consume_commit_budget_s, overhead_s=CHUNK_OVERHEAD_S)
        self._subscriber = self._subscribe() if self.dispatcher.topics else None
        self._routers = routers
        self._title = title or f"xiaoer {self.name}"
        self._tasks: list[asyncio.Task[Any]] = []
        self.ready = asyncio.Event()
        self.state: dict[str, Any] = {}
        self.on_ready: list[Callable[[], Any]] = []
        self._background: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = []

    def add_background(self, name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """A loop of the service's own (gauges, snapshots...): started once the service is
        ready, cancelled on stop."""
        self._background.append((name, run))

    # -- consume ---------------------------------------------------------------------------
    def _subscribe(self) -> Any:
        s = self.settings

        subscriber = self.broker.subscriber(
            *self.dispatcher.topics,
            batch=True,
            group_id=s.consumer_group,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset=s.kafka_auto_offset_reset,
            session_timeout_ms=s.kafka_session_timeout_ms,
            heartbeat_interval_ms=s.kafka_heartbeat_interval_ms,
            max_records=s.kafka_max_poll_records,
            batch_timeout_ms=s.kafka_batch_timeout_ms,
            decoder=skip_body_decoding,
            parser=tolerant_headers,
            title=f"{self.name} consumer",
            fetch_max_wait_ms=s.kafka_fetch_max_wait_ms,
        )

        async def on_batch(msg: KafkaMessage) -> None:
            raw = msg.raw_message
            records = raw if isinstance(raw, tuple) else (raw,)
            if not records:
                return  # FastStream also calls on an empty poll: nothing to handle or commit
            batch = [
                RawRecord(r.topic, r.partition, r.offset, r.key, r.value, r.headers)
                for r in records
            ]
            done, exc = await run_in_chunks(self._pacer, batch, self.dispatcher.process, msg)
            if exc is not None:
                # Not transient and not bad input: a bug in the consume path itself. Rewind and
                # retry a few times; then the rest of the batch goes to the dead-letter topics
                # as it is, so that no bug can hold a partition for ever (a re-drive replays it
                # once fixed). Chunks already committed are not run again.
                rest = batch[done:]
                if not await self._give_up_on(rest, exc):
                    if not (done and rewind(msg, rest)):
                        await msg.nack()
                    return
            self._failed_batches.pop(_batch_key(batch), None)
            await msg.ack()

        subscriber(on_batch)
        return subscriber

    async def _give_up_on(self, batch: list[RawRecord], exc: Exception) -> bool:
        """After `BATCH_ATTEMPTS` failures of the same batch, publish every record of it to its
        dead-letter topic directly (the database path is what fails) and say so: the caller
        then commits the offsets. Before that, wait a little longer each time and say not."""
        key = _batch_key(batch)
        attempts = self._failed_batches.get(key, 0) + 1
        self._failed_batches[key] = attempts
        BATCH_FAILURES.labels(self.name).inc()
        if attempts < BATCH_ATTEMPTS:
            log.exception("batch failed (attempt %d); rewinding to retry it", attempts)
            await asyncio.sleep(0.5 * 2**attempts)
            return False
        log.error("batch failed %d times; dead-lettering its %d records", attempts, len(batch))
        reason = f"consume path failed {attempts} times: {type(exc).__name__}: {exc}"
        consumer = self.dispatcher.consumer
        try:
            for r in batch:
                headers, _ = read_headers(r.headers)
                await self._publish_confirmed(dead_letter(r, headers, reason, consumer))
        except Exception:
            log.exception("could not dead-letter the failed batch; rewinding")
            await asyncio.sleep(1)
            return False
        self._failed_batches.pop(key, None)
        for r in batch:
            EVENTS.labels(self.name, topic_label(r.topic), "dead_lettered").inc()
        return True

    async def _publish_confirmed(self, record: Record) -> None:
        await self.broker.publish(
            record.value,
            record.topic,
            key=record.key.encode() if record.key else None,
            headers=record.headers,
        )

    # -- publish ---------------------------------------------------------------------------
    async def _publish(self, record: Record) -> Awaitable[object]:
        """Send one outbox record (`shared.publishing.KafkaPublisher.publish`)."""
        return await self.publisher.publish(record)

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect to database and broker (retrying), then start consuming and relaying."""
        await connect_with_retry(self.engine, self.broker, "service")
        for hook in self.on_ready:
            result = hook()
            if asyncio.iscoroutine(result):
                await result
        self._tasks += [
            asyncio.create_task(
                self.notifier.run() if self.notifier else self.relay.run(), name="outbox-relay"
            ),
            asyncio.create_task(self.timer_runner.run(), name="timers"),
            asyncio.create_task(self._gauges(), name="gauges"),
            *(asyncio.create_task(run(), name=name) for name, run in self._background),
        ]
        self.ready.set()
        log.info("%s ready", self.name)

    async def stop(self) -> None:
        self.ready.clear()
        with contextlib.suppress(Exception):
            await self.broker.stop()
        self.relay.stop()
        self.timer_runner.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.relay.relay_once()  # flush what the last batches emitted
        await self.engine.dispose()

    async def prune(self) -> None:
        """Forget inbox rows past retention, outbox rows long since sent, timers long since
        fired or cancelled; then run the service's own prune hooks, each in its transaction."""
        s, p = self.settings, self.plumbing
        timers_before = self.clock.now() - timedelta(days=s.timer_retention_days)
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(p.inbox).where(
                    p.inbox.c.handled_at < func.now() - timedelta(days=s.inbox_retention_days)
                )
            )
            await conn.execute(
                delete(p.outbox).where(
                    p.outbox.c.sent_at < func.now() - timedelta(hours=s.outbox_retention_hours)
                )
            )
            await conn.execute(
                delete(p.timers).where(
                    or_(
                        p.timers.c.fired_at < timers_before, p.timers.c.cancelled_at < timers_before
                    )
                )
            )
        for hook in self.prune_hooks:
            async with self.engine.begin() as conn:
                await hook(conn, self.clock.now())

    async def _gauges(self) -> None:
        last_prune = 0.0
        while True:
            if time.monotonic() - last_prune > 600:
                last_prune = time.monotonic()
                try:
                    await self.prune()
                except Exception:
                    log.exception("housekeeping failed")
            with contextlib.suppress(Exception):
                OUTBOX_BACKLOG.labels(self.name).set(await self.relay.backlog())
                OUTBOX_PARKED_ROWS.labels(self.name).set(await self.relay.parked())
                TIMERS_DUE.labels(self.name).set(await self.timer_runner.due_count())
                OUTBOX_PUBLISHED.labels(self.name).inc(self.relay.stats.published)
                self.relay.stats.published = 0
                await self._consumer_lag()
            await asyncio.sleep(5)

    async def _consumer_lag(self) -> None:
        consumer = getattr(self._subscriber, "consumer", None) if self._subscriber else None
        if consumer is None:
            return
        for tp in consumer.assignment():
            assert isinstance(tp, TopicPartition)
            high = consumer.highwater(tp)
            if high is None:
                continue
            position = await consumer.position(tp)
            CONSUMER_LAG.labels(self.name, topic_label(tp.topic), str(tp.partition)).set(
                max(high - position, 0)
            )

    async def is_ready(self) -> tuple[bool, str]:
        if not self.ready.is_set():
            return False, "starting"
        try:
            await asyncio.wait_for(ping(self.engine), timeout=2)
        except Exception as exc:
            return False, f"database unreachable: {type(exc).__name__}"
        if not await self.broker.ping(timeout=2):
            return False, "broker unreachable"
        return True, "ok"

    # -- HTTP ------------------------------------------------------------------------------
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

        app = FastAPI(title=self._title, lifespan=lifespan)
        app.state.runtime = self
        # Added last, so it runs first: no body is read before the caller is known.
        app.add_middleware(BodyLimitMiddleware, max_bytes=self.settings.http_max_body_bytes)
        app.add_middleware(AuthMiddleware, auth=TokenAuth(self.settings))

        @app.get("/healthz", include_in_schema=False)
        async def healthz() -> dict[str, str]:
            return {"status": "alive"}

        @app.get("/readyz", include_in_schema=False)
        async def readyz(response: Response) -> dict[str, str]:
            ok, why = await self.is_ready()
            response.status_code = 200 if ok else 503
            return {"status": why}

        @app.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

        for router in self._routers:
            app.include_router(router)
        return app
