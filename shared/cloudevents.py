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
from shared.contracts.base import EARLIEST, LATEST, NOW_CONTEXT
from shared.ids import new_id
from shared.topics import Topic

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
TRACE_HEADERS = ("traceparent", "tracestate")
MAX_ID_LENGTH = 200
"""`ce_id` and `ce_source` are the inbox's key: `String(200)` columns."""
MAX_ATTRIBUTE_LENGTH = 1000
"""Any other CloudEvents attribute or trace header the services read."""
ATTRIBUTE_HEADERS = frozenset(
    {
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "ce_subject",
        "ce_datacontenttype",
        "content-type",
        *TRACE_HEADERS,
    }
)


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
    """Header values as text; raises `BadEvent` on a value that is not UTF-8."""
    headers, problem = read_headers(raw)
    if problem is not None:
        raise BadEvent(problem)
    return headers


def read_headers(
    raw: Mapping[str, str | bytes] | Iterable[tuple[str, bytes]],
) -> tuple[dict[str, str], str | None]:
    """Header values as text (undecodable bytes replaced) and what is wrong with them, if
    anything: a value that is not UTF-8, or a CloudEvents attribute given twice (which one
    would count is anybody's guess). Never raises: a dead letter needs the headers."""
    items = raw.items() if isinstance(raw, Mapping) else raw
    out: dict[str, str] = {}
    problem: str | None = None
    for name, raw_value in items:
        if isinstance(raw_value, bytes | bytearray):
            try:
                value = bytes(raw_value).decode()
            except UnicodeDecodeError:
                value = bytes(raw_value).decode(errors="replace")
                problem = problem or f"header {name[:100]!r} is not UTF-8"
        else:
            value = "" if raw_value is None else raw_value
        if name in out and name in ATTRIBUTE_HEADERS and out[name] != value:
            problem = problem or f"header {name!r} given twice"
        out.setdefault(name, value)
    return out, problem


def _check_attributes(headers: Mapping[str, str]) -> None:
    for attr in ("ce_id", "ce_specversion", "ce_source", "ce_type"):
        if not headers.get(attr):
            raise BadEvent(f"missing CloudEvents header {attr}")
    for attr in ATTRIBUTE_HEADERS & headers.keys():
        value = headers[attr]
        limit = MAX_ID_LENGTH if attr in ("ce_id", "ce_source") else MAX_ATTRIBUTE_LENGTH
        if len(value) > limit:
            raise BadEvent(f"header {attr} longer than {limit} characters")
        if "\x00" in value:
            raise BadEvent(f"header {attr} holds a NUL character")


def decode(
    topic: Topic,
    value: bytes | None,
    headers: Mapping[str, str],
    *,
    now: datetime | None = None,
) -> tuple[Envelope, EventPayload]:
    """Validate envelope and payload; raise BadEvent with a reason a human can act on.

    `now` is the consumer's clock: times of what happened further ahead than the contracts
    allow are clamped to it (`shared.contracts.base.HappenedAt`)."""
    _check_attributes(headers)
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
    except ValueError as exc:  # not UTF-8, not JSON, or a number of 4,300+ digits
        raise BadEvent(f"value is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadEvent("value is JSON nested too deeply") from exc
    if not isinstance(data, dict):
        raise BadEvent("value is not a JSON object")
    try:
        payload = topic.model.model_validate(data, context={NOW_CONTEXT: now} if now else None)
    except RecursionError as exc:
        raise BadEvent("value is JSON nested too deeply") from exc
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
            raise BadEvent(f"ce_time {headers['ce_time'][:64]!r} is not RFC 3339") from exc
        if time.tzinfo is None or not EARLIEST <= time <= LATEST:
            raise BadEvent(f"ce_time {headers['ce_time'][:64]!r} has no offset or is absurd")
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
