"""Reading dead-letter topics: every record with the facts the consume path attached."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.masking import mask
from shared.topic_reader import read_to_end
from shared.topics import DLQ_SUFFIX, TOPICS

DLQ_HEADER_PREFIX = "x-dlq-"
READ_TIMEOUT_S = 60.0
HANDLER_FAILED = "handler failed"
"""Prefix of the reason the Dispatcher gives when a handler raised (not bad input)."""


@dataclass(frozen=True)
class DeadLetter:
    dlq_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    @property
    def position(self) -> str:
        return f"{self.dlq_topic}:{self.partition}:{self.offset}"

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v.decode(errors="replace")
        return None

    @property
    def reason(self) -> str:
        return self.header("x-dlq-reason") or ""

    @property
    def original_topic(self) -> str:
        return self.header("x-dlq-topic") or self.dlq_topic.removesuffix(DLQ_SUFFIX)

    @property
    def consumer(self) -> str | None:
        return self.header("x-dlq-consumer")

    @property
    def ce_id(self) -> str | None:
        return self.header("ce_id")

    @property
    def failed_at(self) -> datetime | None:
        raw = self.header("x-dlq-failed-at")
        try:
            return datetime.fromisoformat(raw) if raw else None
        except ValueError:
            return None

    @property
    def handler_failed(self) -> bool:
        """The event was valid but its handler raised: the consumer's inbox holds its id."""
        return self.reason.startswith(HANDLER_FAILED)

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The event's own headers (ce_*, traceparent, ...), without what dead-lettering added."""
        return [(k, v) for k, v in self.headers if not k.startswith(DLQ_HEADER_PREFIX)]

    def summary(self, status: str) -> dict[str, Any]:
        return {
            "position": self.position,
            "status": status,
            "failed_at": self.header("x-dlq-failed-at"),
            "consumer": self.consumer,
            "original": (
                f"{self.original_topic}[{self.header('x-dlq-partition')}]"
                f"@{self.header('x-dlq-offset')}"
            ),
            "ce_id": self.ce_id,
            "reason": self.reason,
        }

    def detail(self, status: str, unmasked: bool = False) -> dict[str, Any]:
        """Everything about one dead letter; free text masked unless asked otherwise."""
        text = self.value.decode(errors="replace")
        if not unmasked:
            text = mask(text)
        try:
            payload: Any = json.loads(text)
        except ValueError:
            payload = text
        return {
            **self.summary(status),
            "key": self.key.decode(errors="replace") if self.key is not None else None,
            "headers": {k: v.decode(errors="replace") for k, v in self.headers},
            "payload": payload,
        }


def dlq_topics(selected: Iterable[str] = ()) -> list[str]:
    """Dead-letter topics to look at: the named ones (with or without `.dlq`), else all."""
    known = [t.dlq for t in TOPICS]
    chosen = [n if n.endswith(DLQ_SUFFIX) else n + DLQ_SUFFIX for n in selected]
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise SystemExit(f"unknown dead-letter topic(s): {', '.join(unknown)}")
    return chosen or known


async def read_all(bootstrap: str, topics: list[str]) -> list[DeadLetter]:
    """Every record now on the topics, from the beginning to the real end (no group)."""
    records = await read_to_end(bootstrap, topics, timeout_s=READ_TIMEOUT_S)
    out = [
        DeadLetter(r.topic, r.partition, r.offset, r.key, r.value or b"", tuple(r.headers))
        for r in records
    ]
    return sorted(out, key=lambda d: (d.dlq_topic, d.partition, d.offset))
