"""Sending outbox records to Kafka: one at a time, or a relay pass's records batched per partition.

`KafkaPublisher.publish_many` is what the relay uses: it computes each record's partition the way
the producer would (the producer's own partitioner, cached per key), appends the records of each
topic-partition to one aiokafka `BatchBuilder` and submits it with `send_batch` — one future per
partition instead of a `send()` coroutine, a size estimate, a partitioner run and a future per
record. Each record still gets its own `<topic> publish` span (kind PRODUCER), whose context it
carries, so one trace runs from the buyer's message through every service; the span's parent is
read from the record's stored `traceparent` directly when it is the W3C format (the propagator is
the fallback for anything else).

Order per key: a key has one partition, and each partition gets **at most one batch per call**:
the records that do not fit in it are answered `Deferred` (the relay leaves them pending for its
next pass), and once a partition's submission fails, its later records are not sent either. So a
failed batch can never be overtaken by a later batch of the same partition from the same pass.

`publish` (one record, `send`) is the fallback the relay uses to find the culprit of a batch the
broker refused for good, and what any other caller uses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faststream.kafka import KafkaBroker
from opentelemetry import propagate, trace
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    Tracer,
    TraceState,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.cloudevents import Record
from shared.outbox import Deferred

log = logging.getLogger(__name__)

TRACE_FIELDS = ("traceparent", "tracestate")
_PARTITION_CACHE_MAX = 100_000


def aiokafka_producer(broker: KafkaBroker) -> AIOKafkaProducer | None:
    """The aiokafka producer under FastStream's broker once connected (FastStream 0.6 keeps
    it at `broker._producer._producer.producer`); None if that ever moves."""
    try:
        producer = broker._producer._producer.producer  # type: ignore[attr-defined]
    except Exception:  # not connected (FastStream raises), or moved in another version
        return None
    return producer if isinstance(producer, AIOKafkaProducer) else None


def _w3c_only() -> bool:
    """The global propagator is the default one (W3C trace context + baggage), so a record's
    `traceparent`/`tracestate` can be read and written directly."""
    textmap = propagate.get_global_textmap()
    fields = set(textmap.fields)
    return isinstance(textmap, TraceContextTextMapPropagator | CompositePropagator) and (
        fields <= {"traceparent", "tracestate", "baggage"}
    )


def parent_of(headers: dict[str, str]) -> SpanContext | None:
    """The span context a W3C `traceparent` header names (version 00), or None if the header
    is missing or not exactly that format (the caller then asks the propagator)."""
    tp = headers.get("traceparent")
    if tp is None or len(tp) != 55 or tp[:3] != "00-" or tp[35] != "-" or tp[52] != "-":
        return None
    try:
        trace_id, span_id, flags = int(tp[3:35], 16), int(tp[36:52], 16), int(tp[53:], 16)
    except ValueError:
        return None
    if not trace_id or not span_id or tp[3:].lower() != tp[3:]:
        return None
    state = headers.get("tracestate")
    return SpanContext(
        trace_id,
        span_id,
        is_remote=True,
        trace_flags=TraceFlags(flags),
        trace_state=TraceState.from_header([state]) if state else None,
    )


class KafkaPublisher:
    """Publishes outbox records straight to the broker's aiokafka producer, each under a
    `<topic> publish` span of ours (FastStream's per-message publish middlewares cost about as
    much CPU as everything else the relay does). Falls back to `broker.publish` when the
    producer is not reachable."""

    def __init__(self, broker: KafkaBroker, tracer: Tracer, max_request_bytes: int) -> None:
        self._broker = broker
        self._tracer = tracer
        self._max_request_bytes = max_request_bytes
        self._partitions: dict[tuple[str, int, bytes], int] = {}
        self._fast_trace = _w3c_only()

    # -- tracing ----------------------------------------------------------------------------
    def _start_span(self, record: Record) -> Span:
        parent = parent_of(record.headers) if self._fast_trace else None
        if parent is not None and "baggage" not in record.headers:
            context = trace.set_span_in_context(NonRecordingSpan(parent))
        else:
            context = propagate.extract(record.headers)
        return self._tracer.start_span(  # not made current: nothing runs inside it but the send
            f"{record.topic} publish",
            context=context,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": record.topic,
                "messaging.message.id": record.headers.get("ce_id", ""),
            },
        )

    def _headers(self, record: Record, span: Span) -> list[tuple[str, bytes]]:
        """The record's headers, with the trace context of its publish span (the consumer's
        parent) in place of the emitting handler's."""
        context = span.get_span_context()
        if self._fast_trace and context.is_valid and "baggage" not in record.headers:
            out = [(k, v.encode()) for k, v in record.headers.items() if k not in TRACE_FIELDS]
            flags = int(context.trace_flags)
            out.append(
                (
                    "traceparent",
                    f"00-{context.trace_id:032x}-{context.span_id:016x}-{flags:02x}".encode(),
                )
            )
            if context.trace_state:
                out.append(("tracestate", context.trace_state.to_header().encode()))
            return out
        headers = dict(record.headers)
        propagate.inject(headers, context=trace.set_span_in_context(span))
        return [(k, v.encode()) for k, v in headers.items()]

    # -- one record -------------------------------------------------------------------------
    async def publish(self, record: Record) -> Awaitable[object]:
        """Send one record; returns the broker's acknowledgement to await."""
        key = record.key.encode() if record.key else None
        producer = aiokafka_producer(self._broker)
        if producer is None:
            return await self._broker.publish(
                record.value, record.topic, key=key, headers=record.headers, no_confirm=True
            )
        span = self._start_span(record)
        try:
            sent: asyncio.Future[Any] = await producer.send(
                record.topic, record.value, key=key, headers=self._headers(record, span)
            )
            return sent
        except BaseException as exc:
            _failed(span, exc)
            raise
        finally:
            span.end()

    # -- a relay pass -----------------------------------------------------------------------
    async def publish_many(self, records: Sequence[Record]) -> list[Awaitable[object] | Exception]:
        """Send the records, one batch per topic-partition. One answer per record, in order:
        the acknowledgement to await (shared by the records of a batch), or the exception that
        kept it from being sent (`Deferred`: not tried in this call)."""
        producer = aiokafka_producer(self._broker)
        if producer is None:
            return [await self._one(r) for r in records]
        out: list[Awaitable[object] | Exception | None] = [None] * len(records)
        partitions: dict[str, list[int] | Exception] = {}
        batches: dict[tuple[str, int], Any] = {}
        members: dict[tuple[str, int], list[int]] = {}
        full: set[tuple[str, int]] = set()
        for i, record in enumerate(records):
            topic_partitions = partitions.get(record.topic)
            if topic_partitions is None:
                try:
                    topic_partitions = sorted(await producer.partitions_for(record.topic))
                except Exception as exc:
                    topic_partitions = exc
                partitions[record.topic] = topic_partitions
            if isinstance(topic_partitions, Exception):
                out[i] = topic_partitions
                continue
            key = record.key.encode() if record.key else None
            tp = (record.topic, self._partition(producer, record.topic, key, topic_partitions))
            if tp in full:
                out[i] = Deferred()
                continue
            span = self._start_span(record)
            try:
                headers = self._headers(record, span)
                size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, record.value, headers)
                if size > self._max_request_bytes:
                    raise MessageSizeTooLargeError(
                        f"The message is {size} bytes when serialized which is larger than"
                        " the maximum request size you have configured with the"
                        " max_request_size configuration"
                    )
                builder = batches.get(tp)
                if builder is None:
                    builder = batches[tp] = producer.create_batch()
                    members[tp] = []
                appended = builder.append(
                    timestamp=None, key=key, value=record.value, headers=headers
                )
                if appended is not None:
                    members[tp].append(i)
                else:  # full: this record and the later ones of its partition wait
                    full.add(tp)
                    out[i] = Deferred()
            except Exception as exc:
                _failed(span, exc)
                out[i] = exc
            finally:
                span.end()
        for tp, builder in batches.items():
            rows = members[tp]
            if not rows:
                continue
            builder.close()  # nothing else joins it: it goes out without lingering
            try:
                sent: Awaitable[object] | Exception = await producer.send_batch(
                    builder, tp[0], partition=tp[1]
                )
            except Exception as exc:
                sent = exc
            for i in rows:
                out[i] = sent
        return [answer if answer is not None else Deferred() for answer in out]

    async def _one(self, record: Record) -> Awaitable[object] | Exception:
        try:
            return await self.publish(record)
        except Exception as exc:
            return exc

    def _partition(
        self, producer: AIOKafkaProducer, topic: str, key: bytes | None, partitions: list[int]
    ) -> int:
        """The partition `producer.send` would pick: its own partitioner, remembered per key
        for the default one (murmur2 in pure Python)."""
        partitioner = producer._partitioner
        default = partitioner is DefaultPartitioner or type(partitioner) is DefaultPartitioner
        if key is None or not default:
            return int(partitioner(key, partitions, partitions))
        cache_key = (topic, len(partitions), key)
        cached = self._partitions.get(cache_key)
        if cached is None:
            if len(self._partitions) > _PARTITION_CACHE_MAX:
                self._partitions.clear()
            cached = self._partitions[cache_key] = int(partitioner(key, partitions, partitions))
        return cached


def _failed(span: Span, exc: BaseException) -> None:
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
