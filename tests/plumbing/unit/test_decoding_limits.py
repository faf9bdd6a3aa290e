"""Decoding rejects what storage would reject, clamps what would freeze state, never raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ops.contracts.examples import EXAMPLES
from shared.cloudevents import encode
from shared.consumer import RawRecord, dead_letter, decode_record
from shared.contracts import AgentStatusChanged
from shared.observability import BUSINESS, REGISTRY, counted_on_commit, topic_label
from shared.topics import BY_NAME

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
RECEIVED = "cs.message.received.v1"
ORDER = "trade.order.changed.v1"
REFUND = "trade.refund.requested.v1"


def _record(topic: str, **changes: object) -> tuple[dict, dict[str, str]]:
    data = EXAMPLES[topic].model_dump(mode="json") | changes
    rec = encode(BY_NAME[topic], EXAMPLES[topic], source="/tests")
    return data, dict(rec.headers)


def _decode(topic: str, data: dict | bytes, headers: dict | list, key: bytes | None = b"k"):  # type: ignore[no-untyped-def]
    value = data if isinstance(data, bytes) else json.dumps(data).encode()
    raw_headers = (
        [(k, v.encode() if isinstance(v, str) else v) for k, v in headers.items()]
        if isinstance(headers, dict)
        else headers
    )
    return decode_record(RawRecord(topic, 0, 7, key, value, raw_headers), [topic], NOW)


def _reason(topic: str, data: dict | bytes, headers: dict | list) -> str:  # type: ignore[type-arg]
    d = _decode(topic, data, headers)
    assert d.envelope is None, "expected a dead letter"
    assert d.bad
    return d.bad


def test_a_valid_example_decodes() -> None:
    data, headers = _record(ORDER)
    d = _decode(ORDER, data, headers)
    assert d.bad is None
    assert d.payload is not None


@pytest.mark.parametrize(
    ("topic", "field", "length"),
    [
        (ORDER, "order_id", 101),
        (ORDER, "buyer_id", 201),
        (RECEIVED, "conversation_id", 201),
        (RECEIVED, "shop_id", 101),
        (REFUND, "refund_id", 101),
        (RECEIVED, "text", 60_000),
    ],
)
def test_values_longer_than_their_column_are_bad(topic: str, field: str, length: int) -> None:
    data, headers = _record(topic, **{field: "9" * length})
    assert field in _reason(topic, data, headers)


def test_nul_in_a_json_string_is_bad() -> None:
    data, headers = _record(RECEIVED, text="在吗\x00")
    assert "NUL" in _reason(RECEIVED, data, headers)


def test_a_lone_surrogate_is_bad() -> None:
    data, headers = _record(RECEIVED)
    value = json.dumps(data).replace('"text": "', '"text": "\\ud800').encode()
    assert "text" in _reason(RECEIVED, value, headers)


@pytest.mark.parametrize("amount", [10**12 + 1, 2**63, 2**64, -1])
def test_amounts_beyond_the_money_bound_are_bad(amount: int) -> None:
    data, headers = _record(ORDER, total_fee=amount)
    assert "total_fee" in _reason(ORDER, data, headers)


def test_an_amount_beyond_int32_is_money_all_the_same() -> None:
    data, headers = _record(ORDER, total_fee=2**31)  # ¥21.47 M: BIGINT columns hold it
    assert _decode(ORDER, data, headers).payload.total_fee == 2**31


def test_a_number_of_thousands_of_digits_is_bad() -> None:
    data, headers = _record(ORDER)
    value = json.dumps(data | {"total_fee": "N"}).replace('"N"', "1" + "0" * 5000).encode()
    assert "not JSON" in _reason(ORDER, value, headers)


def test_json_nested_deeper_than_the_parser_goes_is_bad() -> None:
    data, headers = _record(ORDER)
    value = json.dumps(data | {"x": "N"}).replace('"N"', "[" * 5000 + "]" * 5000).encode()
    assert "nested" in _reason(ORDER, value, headers)


def test_a_time_years_ahead_is_clamped_to_the_consumers_clock() -> None:
    data, headers = _record(ORDER, changed_at="2090-01-01T00:00:00+00:00")
    d = _decode(ORDER, data, headers)
    assert d.payload is not None
    assert d.payload.changed_at == NOW


def test_a_clock_a_little_ahead_is_kept() -> None:
    ahead = NOW + timedelta(hours=3)
    data, headers = _record(ORDER, changed_at=ahead.isoformat())
    d = _decode(ORDER, data, headers)
    assert d.payload is not None
    assert d.payload.changed_at == ahead


@pytest.mark.parametrize(
    ("topic", "field", "value"),
    [
        (ORDER, "changed_at", "1970-01-01T00:00:00+00:00"),
        (ORDER, "created_at", "0001-01-01T00:00:00+00:00"),
        (ORDER, "changed_at", "9999-12-31T23:59:59+00:00"),
        (ORDER, "changed_at", "2026-11-11T20:15:03"),  # no offset
        (REFUND, "timeout", "2035-01-01T00:00:00+00:00"),  # a deadline years ahead
    ],
)
def test_absurd_times_are_bad(topic: str, field: str, value: str) -> None:
    data, headers = _record(topic, **{field: value})
    assert field in _reason(topic, data, headers)


def test_capacities_are_bounded() -> None:
    topic = "cs.agent.status.v1"
    data, headers = _record(topic, max_concurrent=2**40)
    assert "max_concurrent" in _reason(topic, data, headers)
    assert AgentStatusChanged.model_fields["max_concurrent"]


@pytest.mark.parametrize("name", ["ce_id", "ce_source", "ce_type", "ce_specversion"])
def test_missing_cloudevents_headers_are_bad(name: str) -> None:
    data, headers = _record(ORDER)
    del headers[name]
    assert name in _reason(ORDER, data, headers)


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("ce_id", "x" * 201, "longer"),
        ("ce_source", "/" + "s" * 200, "longer"),
        ("ce_id", "a\x00b", "NUL"),
        ("tracestate", "y" * 100_000, "longer"),
        ("ce_subject", "s\x00", "NUL"),
    ],
)
def test_corrupt_cloudevents_headers_are_bad(name: str, value: str, why: str) -> None:
    data, headers = _record(ORDER)
    headers[name] = value
    assert why in _reason(ORDER, data, headers)


def test_a_huge_header_the_services_do_not_read_is_ignored() -> None:
    data, headers = _record(ORDER)
    headers["x-gateway-debug"] = "y" * 100_000
    assert _decode(ORDER, data, headers).bad is None


def test_a_cloudevents_header_given_twice_with_two_values_is_bad() -> None:
    data, headers = _record(ORDER)
    twice = [(k, v.encode()) for k, v in headers.items()] + [("ce_id", b"another")]
    assert "twice" in _reason(ORDER, data, twice)
    again = [(k, v.encode()) for k, v in headers.items()] + [("ce_id", headers["ce_id"].encode())]
    assert _decode(ORDER, data, again).bad is None


def test_header_values_that_are_not_utf8_or_null_are_bad_but_kept() -> None:
    data, headers = _record(ORDER)
    raw = [(k, v.encode()) for k, v in headers.items()] + [("x-bin", b"\xff\xfe"), ("x-n", None)]
    d = _decode(ORDER, data, raw)
    assert d.bad
    assert "UTF-8" in d.bad
    assert d.headers["ce_id"] == headers["ce_id"]
    assert "x-bin" in d.headers


def test_dead_letters_of_nul_keys_and_headers_can_be_stored() -> None:
    raw = RawRecord(ORDER, 1, 9, b"k\x00ey", b"\x00raw", [("x\x00", b"v\x00")])
    dl = dead_letter(raw, {"x\x00": "v\x00", "ce_id": "i"}, "bad \x00 input", "xiaoer-test")
    stored = [dl.key, *dl.headers, *dl.headers.values()]
    assert not any("\x00" in s for s in stored)
    assert dl.value == b"\x00raw"  # the original bytes
    assert dl.headers["x-dlq-offset"] == "9"


def test_decoding_never_raises_whatever_the_bytes() -> None:
    for value in [None, b"", b"\xff", b"[]", b"null", b"{" * 100_000, b'{"a":1e999}']:
        d = decode_record(RawRecord(ORDER, 0, 0, None, value, []), [ORDER], NOW)
        assert d.bad


def test_counts_inside_a_batch_count_once_it_commits() -> None:
    def value() -> float:
        return (
            REGISTRY.get_sample_value(
                "xiaoer_business_events_total", {"service": "unit", "kind": "probe"}
            )
            or 0.0
        )

    before = value()
    with counted_on_commit() as counts:
        BUSINESS.labels("unit", "probe").inc()
        mark = counts.mark()
        BUSINESS.labels("unit", "probe").inc()  # its savepoint is rolled back
        counts.rollback_to(mark)
        assert value() == before
        counts.commit()
    assert value() == before + 1
    with counted_on_commit():
        BUSINESS.labels("unit", "probe").inc()  # the transaction never commits
    assert value() == before + 1
    BUSINESS.labels("unit", "probe").inc()  # outside a batch: at once
    assert value() == before + 2


def test_topic_labels_are_only_known_topics() -> None:
    assert topic_label(ORDER) == ORDER
    assert topic_label(ORDER + ".dlq") == ORDER + ".dlq"
    assert topic_label("x" * 500) == "other"
