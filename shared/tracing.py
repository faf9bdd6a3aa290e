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

from opentelemetry import context as otel_context
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
    """The trace context a record carries in its W3C `traceparent`/`tracestate` headers.

    A record with none of the propagators' headers gets the empty context at once, which is
    what extracting from it returns (running every propagator on it cost ~1% of the CPU)."""
    if propagate.get_global_textmap().fields.isdisjoint(headers.keys()):
        return _EMPTY
    return propagate.extract(dict(headers))


_EMPTY = otel_context.Context()


def record_link(headers: Mapping[str, str], context: Any = None) -> Link | None:
    parent = record_context(headers) if context is None else context
    span_context = trace.get_current_span(parent).get_span_context()
    return Link(span_context) if span_context.is_valid else None


def _destination(topics: Sequence[str]) -> str:
    distinct = sorted(set(topics))
    return distinct[0] if len(distinct) == 1 else "multiple"


@contextmanager
def batch_span(
    tracer: trace.Tracer,
    consumer_group: str,
    records: Sequence[tuple[ConsumedRecord, Mapping[str, str]]],
    contexts: Sequence[Any] | None = None,
) -> Iterator[Span]:
    """One span for a consumed batch, linked to every record's own trace (`contexts`: the
    records' extracted contexts, when the caller has them already)."""
    parents = contexts if contexts is not None else [None] * len(records)
    links = [
        link
        for (_, headers), parent in zip(records, parents, strict=True)
        if (link := record_link(headers, parent)) is not None
    ]
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


_SEARCHABLE: dict[type, tuple[str, ...]] = {}


def _searchable(model: type) -> tuple[str, ...]:
    """The searchable ids a payload type has: a missing attribute raised (and cost) in
    pydantic's `__getattr__` for every record."""
    found = _SEARCHABLE.get(model)
    if found is None:
        declared = getattr(model, "model_fields", None)
        found = _SEARCHABLE[model] = tuple(
            n for n in SEARCHABLE_IDS if declared is None or n in declared
        )
    return found


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
    fields = _searchable(type(payload))
    for name in fields:
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
    context: Any = None,
) -> Iterator[Span]:
    """A record's own span, in the trace it arrived with (a new trace if it had none);
    `context`: that trace's context, when the caller has extracted it already."""
    with tracer.start_as_current_span(
        f"process {record.topic}",
        context=record_context(headers) if context is None else context,
        kind=SpanKind.CONSUMER,
        attributes=record_attributes(record, event_id, payload, consumer_group),
    ) as span:
        yield span
