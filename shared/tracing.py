"""Spans of the consume path, after the OpenTelemetry messaging conventions for batches.

A consumed batch gets one `process` span (kind CONSUMER) with a link to the context of every
record that carried one, so a buyer's trace leads to the batch even where records are handled
as a set (metrics). A record decided on its own gets a child span in its own trace as well
(`record_span`), named `process <topic>`, with the attributes SREs search by: topic,
partition, offset, CloudEvents id, and the shop and conversation/order/refund ids of the
payload. Ids only: buyer text, names, phones and addresses never become attributes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from opentelemetry import propagate, trace
from opentelemetry.trace import Link, Span, SpanKind

SYSTEM = "kafka"
# Payload fields that become span attributes (`xiaoer.<field>`): pseudonymous business ids.
SEARCHABLE_IDS = ("shop_id", "conversation_id", "message_id", "order_id", "refund_id", "agent_id")
MAX_ID_LENGTH = 128


class ConsumedRecord(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...


def record_context(headers: Mapping[str, str]) -> Any:
    """The trace context a record carries in its W3C `traceparent`/`tracestate` headers."""
    return propagate.extract(dict(headers))


def record_link(headers: Mapping[str, str]) -> Link | None:
    span_context = trace.get_current_span(record_context(headers)).get_span_context()
    return Link(span_context) if span_context.is_valid else None


def _destination(topics: Sequence[str]) -> str:
    distinct = sorted(set(topics))
    return distinct[0] if len(distinct) == 1 else "multiple"


@contextmanager
def batch_span(
    tracer: trace.Tracer,
    consumer_group: str,
    records: Sequence[tuple[ConsumedRecord, Mapping[str, str]]],
) -> Iterator[Span]:
    """One span for a consumed batch, linked to every record's own trace."""
    links = [link for _, headers in records if (link := record_link(headers)) is not None]
    destination = _destination([r.topic for r, _ in records])
    with tracer.start_as_current_span(
        f"process {destination}",
        context=trace.set_span_in_context(trace.INVALID_SPAN),  # a root: never a record's child
        kind=SpanKind.CONSUMER,
        links=links,
        attributes={
            "messaging.system": SYSTEM,
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.destination.name": destination,
            "messaging.consumer.group.name": consumer_group,
            "messaging.batch.message_count": len(records),
        },
    ) as span:
        yield span


def record_attributes(
    record: ConsumedRecord, event_id: str | None, payload: Any, consumer_group: str
) -> dict[str, Any]:
    """What an SRE searches a record's span by; ids only, never personal data."""
    attributes: dict[str, Any] = {
        "messaging.system": SYSTEM,
        "messaging.operation.type": "process",
        "messaging.destination.name": record.topic,
        "messaging.destination.partition.id": str(record.partition),
        "messaging.kafka.offset": record.offset,
        "messaging.consumer.group.name": consumer_group,
    }
    if event_id:
        attributes["messaging.message.id"] = event_id[:MAX_ID_LENGTH]
    for name in SEARCHABLE_IDS:
        value = getattr(payload, name, None)
        if isinstance(value, str) and value:
            attributes[f"xiaoer.{name}"] = value[:MAX_ID_LENGTH]
    return attributes


@contextmanager
def record_span(
    tracer: trace.Tracer,
    record: ConsumedRecord,
    headers: Mapping[str, str],
    event_id: str | None,
    payload: Any,
    consumer_group: str,
) -> Iterator[Span]:
    """A record's own span, in the trace it arrived with (a new trace if it had none)."""
    with tracer.start_as_current_span(
        f"process {record.topic}",
        context=record_context(headers),
        kind=SpanKind.CONSUMER,
        attributes=record_attributes(record, event_id, payload, consumer_group),
    ) as span:
        yield span
