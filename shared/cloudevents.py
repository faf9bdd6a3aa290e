"""CloudEvents 1.0, Kafka protocol binding, binary content mode.

Attributes travel as `ce_*` headers, the JSON payload as the record value. Encoding is ours
(it is on every hot path); tests check that the official SDK reads what we write.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from shared.contracts import EventPayload
from shared.ids import new_id
from shared.topics import Topic

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
TRACE_HEADERS = ("traceparent", "tracestate")


class BadEvent(ValueError):
    """The record cannot be turned into a valid event: dead-letter it with this reason."""


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    time: datetime | None
    subject: str | None
    traceparent: str | None = None
    tracestate: str | None = None


@dataclass(frozen=True)
class Record:
    """What goes to Kafka: key, value and headers (str values; the broker encodes them)."""

    topic: str
    key: str
    value: bytes
    headers: dict[str, str]


def encode(
    topic: Topic,
    payload: EventPayload,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    subject: str | None = None,
) -> Record:
    if not isinstance(payload, topic.model):
        raise TypeError(
            f"{topic.name} carries {topic.model.__name__}, not {type(payload).__name__}"
        )
    key = topic.key_of(payload)
    headers = {
        "ce_specversion": SPECVERSION,
        "ce_id": event_id or new_id(),
        "ce_source": source,
        "ce_type": topic.ce_type,
        "ce_time": (time or datetime.now(UTC)).isoformat(),
        "ce_subject": subject or key,
        "content-type": CONTENT_TYPE,
    }
    value = payload.model_dump_json(exclude_none=False).encode()
    return Record(topic.name, key, value, headers)


def normalize_headers(
    raw: Mapping[str, str | bytes] | Iterable[tuple[str, bytes]],
) -> dict[str, str]:
    items = raw.items() if isinstance(raw, Mapping) else raw
    out: dict[str, str] = {}
    for name, value in items:
        if isinstance(value, bytes | bytearray):
            try:
                value = bytes(value).decode()
            except UnicodeDecodeError as exc:
                raise BadEvent(f"header {name!r} is not UTF-8") from exc
        out[name] = value
    return out


def decode(
    topic: Topic, value: bytes | None, headers: Mapping[str, str]
) -> tuple[Envelope, EventPayload]:
    """Validate envelope and payload; raise BadEvent with a reason a human can act on."""
    for attr in ("ce_id", "ce_specversion", "ce_source", "ce_type"):
        if not headers.get(attr):
            raise BadEvent(f"missing CloudEvents header {attr}")
    if headers["ce_specversion"] != SPECVERSION:
        raise BadEvent(f"unsupported ce_specversion {headers['ce_specversion']!r}")
    if headers["ce_type"] != topic.ce_type:
        raise BadEvent(f"ce_type {headers['ce_type']!r} does not belong on {topic.name}")
    ctype = headers.get("content-type") or headers.get("ce_datacontenttype") or CONTENT_TYPE
    if not ctype.startswith("application/json") and not ctype.endswith("+json"):
        raise BadEvent(f"unsupported content-type {ctype!r}")
    if not value:
        raise BadEvent("empty value")
    try:
        data = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadEvent(f"value is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadEvent("value is not a JSON object")
    try:
        payload = topic.model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors(include_url=False)[:10]
        )
        raise BadEvent(f"invalid {topic.model.__name__}: {problems}") from exc
    time = None
    if headers.get("ce_time"):
        try:
            time = datetime.fromisoformat(headers["ce_time"])
        except ValueError as exc:
            raise BadEvent(f"ce_time {headers['ce_time']!r} is not RFC 3339") from exc
    envelope = Envelope(
        id=headers["ce_id"],
        source=headers["ce_source"],
        type=headers["ce_type"],
        time=time,
        subject=headers.get("ce_subject"),
        traceparent=headers.get("traceparent"),
        tracestate=headers.get("tracestate"),
    )
    return envelope, payload
