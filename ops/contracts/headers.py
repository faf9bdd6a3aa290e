"""The CloudEvents 1.0 Kafka binary-mode headers every xiaoer event carries."""

from __future__ import annotations

from typing import Any

from ops.contracts.examples import EXAMPLE_EVENT_IDS, TRACEPARENT
from ops.topology import is_emitted, producers
from shared.cloudevents import CONTENT_TYPE, SPECVERSION
from shared.contracts import EventPayload
from shared.topics import Topic

UPSTREAM_SOURCES = {"cs": "/taobao/im-gateway", "trade": "/taobao/trade"}


def headers_schema(t: Topic) -> dict[str, Any]:
    def s(description: str, **extra: Any) -> dict[str, Any]:
        return {"type": "string", "description": description, **extra}

    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "content-type"],
        "properties": {
            "ce_specversion": s("CloudEvents version.", const=SPECVERSION),
            "ce_id": s(
                "Unique event id (UUIDv7, time-ordered for xiaoer's own events); consumers "
                "deduplicate on it."
            ),
            "ce_source": s("Producer, e.g. /xiaoer/presale.", format="uri-reference"),
            "ce_type": s("Event type: com.xiaoer.<topic>.", const=t.ce_type),
            "ce_time": s("When the event was produced (RFC 3339).", format="date-time"),
            "ce_subject": s(f"The Kafka key ({t.key_field})."),
            "content-type": s("Payload encoding.", const=CONTENT_TYPE),
            "traceparent": s("W3C trace context of the producing span."),
            "tracestate": s("W3C trace state."),
        },
    }


def example_source(t: Topic) -> str:
    if not is_emitted(t):
        return UPSTREAM_SOURCES[t.name.split(".", 1)[0]]
    return f"/xiaoer/{producers(t)[0]}"


def example_headers(t: Topic, payload: EventPayload) -> dict[str, str]:
    return {
        "ce_specversion": SPECVERSION,
        "ce_id": EXAMPLE_EVENT_IDS[t.name],
        "ce_source": example_source(t),
        "ce_type": t.ce_type,
        "ce_time": payload.business_time().isoformat(),
        "ce_subject": t.key_of(payload),
        "content-type": CONTENT_TYPE,
        "traceparent": TRACEPARENT,
    }
