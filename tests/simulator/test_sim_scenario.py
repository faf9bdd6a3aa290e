"""The scenario generator: deterministic, valid, and shaped like a shop's day."""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from shared.cloudevents import BadEvent, decode, encode
from shared.contracts import (
    MessageReceived,
    OrderChanged,
    RefundChanged,
    RefundRequested,
)
from shared.topics import TOPICS, topic
from simulator.scenario import (
    ORDER_TRANSITIONS,
    UPSTREAM_TOPICS,
    BadRecord,
    Plan,
    Planned,
    corrupt,
    generate,
)

START = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


@pytest.fixture(scope="module")
def plan() -> Plan:
    return generate(7, START, 24)


def planned(plan: Plan, topic_name: str | None = None) -> list[Planned]:
    return [
        e
        for e in plan.events
        if isinstance(e, Planned) and (topic_name is None or e.topic == topic_name)
    ]


def fingerprint(plan: Plan) -> list[tuple[str, str, bytes]]:
    return [
        (e.at.isoformat(), e.topic, e.value if isinstance(e, BadRecord) else
         e.payload.model_dump_json().encode())
        for e in plan.events
    ]  # fmt: skip


def test_same_seed_same_plan(plan: Plan) -> None:
    assert fingerprint(generate(7, START, 24)) == fingerprint(plan)


def test_different_seeds_differ(plan: Plan) -> None:
    assert fingerprint(generate(8, START, 24)) != fingerprint(plan)


def test_events_in_window_and_time_ordered(plan: Plan) -> None:
    times = [e.at for e in plan.events]
    assert times == sorted(times)
    assert all(plan.start <= t < plan.end for t in times)


def test_orders_older_than_the_window_are_announced_once_at_its_start(plan: Plan) -> None:
    announced = [
        e for e in planned(plan)
        if e.topic == "trade.order.changed.v1" and e.payload.business_time() < plan.start
    ]  # fmt: skip
    assert announced
    assert all(e.at == plan.start for e in announced)
    ids = [e.payload.order_id for e in announced]
    assert len(ids) == len(set(ids))
    refunds = {e.payload.order_id for e in planned(plan) if e.topic == "trade.refund.requested.v1"}
    known = {e.payload.order_id for e in planned(plan) if e.topic == "trade.order.changed.v1"}
    assert refunds <= known


def test_every_event_validates_encodes_and_decodes(plan: Plan) -> None:
    for ev in planned(plan):
        t = topic(ev.topic)
        payload = t.model.model_validate(ev.payload.model_dump(mode="json"))
        assert payload == ev.payload
        if ev.at == plan.start and ev.payload.business_time() < plan.start:
            assert ev.topic == "trade.order.changed.v1"  # an older order announced at the start
        else:
            assert ev.payload.business_time() == ev.at
        assert ev.payload.business_time().utcoffset() is not None
        record = encode(t, ev.payload, source=ev.source)
        assert record.key == t.key_of(ev.payload)
        envelope, decoded = decode(t, record.value, record.headers)
        assert decoded == ev.payload
        assert envelope.source in ("/simulator/im-gateway", "/simulator/trade")


def test_plan_covers_every_upstream_topic(plan: Plan) -> None:
    upstream = {t.name for t in TOPICS if t.producer == "upstream"}
    assert set(UPSTREAM_TOPICS) == upstream
    assert set(plan.counts()) == upstream


def test_order_state_machine_and_monotone_times(plan: Plan) -> None:
    by_order: dict[str, list[OrderChanged]] = defaultdict(list)
    for ev in planned(plan, "trade.order.changed.v1"):
        assert isinstance(ev.payload, OrderChanged)
        by_order[ev.payload.order_id].append(ev.payload)
    assert len(by_order) > 100
    new_orders = 0
    for events in by_order.values():
        first = events[0]
        if first.previous_status is None:
            new_orders += 1
        assert first.status in ORDER_TRANSITIONS[first.previous_status]
        for prev, cur in itertools.pairwise(events):
            assert cur.previous_status == prev.status
            assert cur.status in ORDER_TRANSITIONS[prev.status]
            assert cur.changed_at > prev.changed_at
        for e in events:
            assert e.total_fee == sum(i.price * i.quantity for i in e.items) - (
                2000 if sum(i.price * i.quantity for i in e.items) >= 19900 else 0
            )
            if e.status == "WAIT_BUYER_PAY":
                assert e.timeout_action_time == e.created_at + timedelta(hours=24)
            if e.status in ("WAIT_BUYER_CONFIRM_GOODS", "TRADE_BUYER_SIGNED"):
                assert e.consign_time is not None
                assert e.tracking_no
                assert e.logistics_company
            if e.status == "TRADE_BUYER_SIGNED":
                assert e.signed_at is not None
    assert new_orders > 20


def test_unpaid_orders_close_at_timeout() -> None:
    closed = [
        e.payload
        for e in planned(generate(11, START, 24), "trade.order.changed.v1")
        if isinstance(e.payload, OrderChanged)
        and e.payload.status == "TRADE_CLOSED"
        and e.payload.previous_status == "WAIT_BUYER_PAY"
    ]
    assert closed
    assert any(c.changed_at == c.created_at + timedelta(hours=24) for c in closed)


def test_refunds_are_consistent(plan: Plan) -> None:
    requests = [e.payload for e in planned(plan, "trade.refund.requested.v1")]
    assert requests
    over = 0
    for r in requests:
        assert isinstance(r, RefundRequested)
        assert r.timeout == r.requested_at + timedelta(hours=48)
        assert r.item_category == "apparel"
        over += r.refund_fee > r.order_total_fee
    assert over <= max(1, len(requests) // 10)
    per_refund: dict[str, list[RefundChanged]] = defaultdict(list)
    for ev in planned(plan, "trade.refund.changed.v1"):
        assert isinstance(ev.payload, RefundChanged)
        per_refund[ev.payload.refund_id].append(ev.payload)
    for changes in per_refund.values():
        times = [c.changed_at for c in changes]
        assert times == sorted(times)


def test_buyer_messages_look_like_buyers(plan: Plan) -> None:
    msgs = [e for e in planned(plan, "cs.message.received.v1")]
    assert len(msgs) > 300
    texts = [m.payload.text for m in msgs if isinstance(m.payload, MessageReceived)]
    assert any("码" in t for t in texts)
    assert any(any(c.isdigit() for c in t) and "电话" in t for t in texts)  # PII for masking
    assert {m.intent for m in msgs} >= {"greeting", "size_advice", "logistics_status", "refund"}
    levels = {m.payload.buyer_level for m in msgs if isinstance(m.payload, MessageReceived)}
    assert levels == {"normal", "vip"}
    convs: dict[str, set[str]] = defaultdict(set)
    for m in msgs:
        assert isinstance(m.payload, MessageReceived)
        convs[m.payload.buyer_id].add(m.payload.conversation_id)
        assert m.payload.buyer_id.startswith("AA")
    assert all(len(c) == 1 for c in convs.values())  # one conversation per buyer–shop pair


def test_buyers_flag_scales_conversations() -> None:
    small = generate(7, START, 24, buyers=50)
    big = generate(7, START, 24, buyers=400)
    assert big.counts()["cs.message.received.v1"] > 4 * small.counts()["cs.message.received.v1"]


@pytest.mark.parametrize("rate", [0.0, 0.05])
def test_bad_fraction_matches_flag(rate: float) -> None:
    plan = generate(5, START, 24, bad_rate=rate)
    good = sum(plan.counts().values())
    bad = len(plan.bad)
    if rate == 0:
        assert bad == 0
    else:
        assert bad / good == pytest.approx(rate, rel=0.3)


def test_bad_records_are_rejected_by_decode() -> None:
    plan = generate(5, START, 24, bad_rate=0.05)
    assert plan.bad
    for bad in plan.bad:
        t = topic(bad.topic)
        record = encode(t, bad.payload, source=bad.source)
        with pytest.raises(BadEvent):
            decode(t, bad.value, record.headers)


def test_every_corruption_kind_is_rejected(plan: Plan) -> None:
    rng = random.Random(0)
    reasons = set()
    for ev in planned(plan)[:400]:
        value, reason = corrupt(ev.payload, rng)
        reasons.add(reason.split(" ")[0])
        t = topic(ev.topic)
        with pytest.raises(BadEvent):
            decode(t, value, encode(t, ev.payload, source=ev.source).headers)
        if reason != "not JSON":
            json.loads(value)
    assert reasons >= {"not", "missing", "wrong", "unknown", "naive"}


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        generate(1, datetime(2026, 1, 1), 1)
