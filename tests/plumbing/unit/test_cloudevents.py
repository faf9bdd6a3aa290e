from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat

from shared.cloudevents import BadEvent, decode, encode
from shared.contracts import MessageReceived, OrderChanged
from shared.topics import TOPICS, topic

NOW = datetime(2026, 11, 11, 0, 0, 5, tzinfo=UTC)


def message(**overrides: object) -> MessageReceived:
    base: dict[str, object] = {
        "shop_id": "shop-1",
        "message_id": "m-1",
        "conversation_id": "c-1",
        "buyer_id": "AAF3kx",
        "text": "亲，在吗？",
        "sent_at": NOW,
    }
    return MessageReceived.model_validate(base | overrides)


def test_round_trip_keeps_payload_and_attributes() -> None:
    t = topic("cs.message.received.v1")
    record = encode(t, message(), source="/xiaoer/test", event_id="e-1", time=NOW)
    assert record.key == "c-1"
    assert record.headers["ce_type"] == "com.xiaoer.cs.message.received.v1"
    env, payload = decode(t, record.value, record.headers)
    assert env.id == "e-1"
    assert env.source == "/xiaoer/test"
    assert env.time == NOW
    assert payload == message()


def test_the_official_sdk_reads_what_we_write() -> None:
    t = topic("cs.message.received.v1")
    record = encode(t, message(), source="/xiaoer/presale", event_id="e-2", time=NOW)
    event = from_binary(
        KafkaMessage(
            headers={k: v.encode() for k, v in record.headers.items()},
            key=record.key,
            value=record.value,
        ),
        JSONFormat(),
    )
    attrs = event.get_attributes()
    assert attrs["id"] == "e-2"
    assert attrs["type"] == t.ce_type
    assert attrs["source"] == "/xiaoer/presale"
    assert attrs["specversion"] == "1.0"
    data = event.get_data()
    data = json.loads(data) if isinstance(data, str | bytes) else data
    assert data["conversation_id"] == "c-1"


def test_unknown_fields_are_ignored() -> None:
    t = topic("cs.message.received.v1")
    record = encode(t, message(), source="/t")
    value = json.loads(record.value) | {"new_field_from_producer": 1}
    _, payload = decode(t, json.dumps(value).encode(), record.headers)
    assert isinstance(payload, MessageReceived)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda v, h: (b"not json", h), "not JSON"),
        (lambda v, h: (b"[1,2]", h), "not a JSON object"),
        (
            lambda v, h: (v, {k: x for k, x in h.items() if k != "ce_id"}),
            "missing CloudEvents header ce_id",
        ),
        (lambda v, h: (v, h | {"ce_type": "com.xiaoer.other"}), "does not belong"),
        (lambda v, h: (v, h | {"ce_specversion": "0.3"}), "unsupported ce_specversion"),
        (lambda v, h: (v, h | {"content-type": "text/plain"}), "unsupported content-type"),
        (
            lambda v, h: (
                json.dumps({**json.loads(v), "sent_at": "2026-11-11T00:00:00"}).encode(),
                h,
            ),
            "timezone",
        ),
        (lambda v, h: (json.dumps({**json.loads(v), "text": ""}).encode(), h), "text"),
        (
            lambda v, h: (
                json.dumps({k: x for k, x in json.loads(v).items() if k != "buyer_id"}).encode(),
                h,
            ),
            "buyer_id",
        ),
        (
            lambda v, h: (json.dumps({**json.loads(v), "buyer_level": "gold"}).encode(), h),
            "buyer_level",
        ),
    ],
)
def test_bad_input_is_rejected_with_a_reason(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    t = topic("cs.message.received.v1")
    record = encode(t, message(), source="/t")
    value, headers = mutate(record.value, dict(record.headers))
    with pytest.raises(BadEvent, match=reason):
        decode(t, value, headers)


def test_encode_refuses_a_payload_on_the_wrong_topic() -> None:
    with pytest.raises(TypeError):
        encode(topic("trade.order.changed.v1"), message(), source="/t")


def test_every_topic_has_a_key_field_on_its_model() -> None:
    for t in TOPICS:
        assert t.key_field in t.model.model_fields, t.name
        assert t.name.rsplit(".", 1)[-1].startswith("v")


def test_money_is_integer_fen() -> None:
    with pytest.raises(ValueError, match="total_fee"):
        OrderChanged.model_validate(
            {
                "shop_id": "s",
                "order_id": "o",
                "buyer_id": "b",
                "status": "WAIT_BUYER_PAY",
                "total_fee": 12.5,
                "items": [],
                "created_at": NOW,
                "changed_at": NOW,
            }
        )
