"""What a handler gets: one open transaction, the clock, and ways to emit and schedule.

Emitted events are buffered and written to the outbox in the same transaction when the
handler returns; nothing is published directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import outbox, timers
from shared.clock import Clock
from shared.cloudevents import Record, encode
from shared.contracts import EventPayload
from shared.masking import mask
from shared.topics import topic_for_model

FREE_TEXT_FIELDS = frozenset(
    {"text", "text_masked", "reason", "summary", "detail", "description", "comment", "content"}
)


@dataclass(frozen=True)
class Plumbing:
    """A service's inbox/outbox/timer tables and identity; built once at start-up."""

    service: str
    inbox: Table
    outbox: Table
    timers: Table
    outbox_shards: int = 16

    @property
    def source(self) -> str:
        return f"/xiaoer/{self.service}"


@dataclass
class Context:
    conn: AsyncConnection
    clock: Clock
    plumbing: Plumbing
    records: list[Record] = field(default_factory=list)

    def now(self) -> datetime:
        return self.clock.now()

    def emit(
        self,
        payload: EventPayload,
        *,
        subject: str | None = None,
        event_id: str | None = None,
        trace: Mapping[str, str] | None = None,
    ) -> Record:
        """Queue an event; free-text fields are masked again here as the last line of defence.

        `event_id` makes the CloudEvents id deterministic (e.g. a snapshot's revision), so a
        re-run emits the very same event; by default a new UUIDv7. The event carries the
        current trace context, or `trace` (headers already injected) when given.
        """
        payload = _masked(payload)
        record = encode(
            topic_for_model(type(payload)),
            payload,
            source=self.plumbing.source,
            time=self.clock.now(),
            subject=subject,
            event_id=event_id,
        )
        if trace is None:
            record = replace(record, headers=outbox.with_current_trace(record.headers))
        else:
            record.headers.update(trace)  # encode's own dict: nobody else holds it yet
        self.records.append(record)
        return record

    def forward_raw(self, record: Record) -> None:
        """Queue a record as is (dead letters keep the original bytes and headers)."""
        self.records.append(record)

    async def schedule(
        self,
        kind: str,
        key: str,
        due_at: datetime,
        payload: Mapping[str, Any] | None = None,
        *,
        replace: bool = False,
    ) -> None:
        await timers.schedule(
            self.conn, self.plumbing.timers, kind, key, due_at, payload, replace=replace
        )

    async def cancel(self, kind: str, key: str) -> bool:
        return await timers.cancel(self.conn, self.plumbing.timers, kind, key)

    async def flush(self) -> None:
        await outbox.enqueue(
            self.conn, self.plumbing.outbox, self.records, self.plumbing.outbox_shards
        )
        self.records.clear()


_TEXT_FIELDS: dict[type[EventPayload], tuple[str, ...]] = {}


def _masked(payload: EventPayload) -> EventPayload:
    model = type(payload)
    names = _TEXT_FIELDS.get(model)
    if names is None:
        names = _TEXT_FIELDS[model] = tuple(n for n in model.model_fields if n in FREE_TEXT_FIELDS)
    updates = {}
    for name in names:
        value = getattr(payload, name)
        if isinstance(value, str) and (masked := mask(value)) != value:
            updates[name] = masked
    return payload.model_copy(update=updates) if updates else payload
