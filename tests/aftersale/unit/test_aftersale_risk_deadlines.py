"""Buyer risk scores and the time rules."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.aftersale.domain.deadlines import (
    alert_due,
    handoff_due,
    is_dispute,
    next_business_time,
    seven_day_window_end,
    within_business_hours,
)
from services.aftersale.domain.risk import BuyerHistory, assess, threat_words
from tests.support.factories import SHANGHAI

TZ = SHANGHAI


def test_clean_buyer_is_low_risk() -> None:
    p = assess(BuyerHistory(refunds_30d=1, orders=10, refunded_orders=1))
    assert (p.score, p.level, p.reasons) == (0, "low", ())


@pytest.mark.parametrize(
    ("history", "score", "level"),
    [
        (BuyerHistory(refunds_30d=2), 20, "low"),
        (BuyerHistory(refunds_30d=3), 40, "medium"),
        (BuyerHistory(refunds_30d=4), 60, "high"),
        (BuyerHistory(refunds_30d=9), 60, "high"),
        (BuyerHistory(orders=4, refunded_orders=2), 20, "low"),
        (BuyerHistory(orders=2, refunded_orders=2), 0, "low"),  # too few orders to judge
        (BuyerHistory(not_received_on_signed=1), 40, "medium"),
        (BuyerHistory(not_received_on_signed=3), 80, "high"),
        (BuyerHistory(threat_words=("12315",)), 60, "high"),
        (BuyerHistory(threat_words=("12315", "举报", "假一赔十")), 80, "high"),
        (
            BuyerHistory(refunds_30d=4, threat_words=("举报",), not_received_on_signed=2),
            100,
            "high",
        ),
    ],
)
def test_risk_scores(history: BuyerHistory, score: int, level: str) -> None:
    p = assess(history)
    assert (p.score, p.level) == (score, level)
    assert len(p.reasons) >= (1 if score else 0)


def test_reasons_name_the_signals_not_the_words_of_the_buyer() -> None:
    p = assess(BuyerHistory(refunds_30d=5, orders=6, refunded_orders=5, threat_words=("12315",)))
    text = p.describe()
    assert "近30天已申请退款5次" in text
    assert "83%" in text
    assert "12315" in text


def test_threat_words_found_in_order() -> None:
    assert threat_words("再不退款我就打12315投诉到工商,假一赔十!") == [
        "假一赔十",
        "投诉到工商",
        "12315",
    ]
    assert threat_words("衣服很好看") == []
    assert threat_words(None) == []


def test_seven_day_window_starts_the_next_day_in_shop_time() -> None:
    # 23:30 Shanghai on 11-10 → window from 11-11 00:00 for 168 h.
    signed = datetime(2026, 11, 10, 15, 30, tzinfo=UTC)
    assert seven_day_window_end(signed, TZ) == datetime(2026, 11, 18, tzinfo=TZ)
    # 00:30 Shanghai on 11-11 (still 11-10 in UTC) → window from 11-12.
    signed = datetime(2026, 11, 10, 16, 30, tzinfo=UTC)
    assert seven_day_window_end(signed, TZ) == datetime(2026, 11, 19, tzinfo=TZ)


def test_sla_times() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    deadline = now + timedelta(hours=48)
    assert handoff_due(deadline, timedelta(hours=12), now) == now + timedelta(hours=36)
    assert alert_due(deadline, timedelta(hours=2), now) == now + timedelta(hours=46)
    late = now + timedelta(hours=5)  # less than SLA_LEAD left: hand off at once
    assert handoff_due(late, timedelta(hours=12), now) == now


def test_dispute_from_cs_status() -> None:
    assert [is_dispute(s) for s in range(1, 7)] == [False, True, True, True, True, True]


def test_business_hours() -> None:
    start, end = time(9), time(23)
    day = datetime(2026, 11, 10, 12, tzinfo=TZ)
    assert within_business_hours(day, TZ, start, end)
    assert next_business_time(day, TZ, start, end) == day
    night = datetime(2026, 11, 10, 23, 30, tzinfo=TZ)
    assert next_business_time(night, TZ, start, end) == datetime(2026, 11, 11, 9, tzinfo=TZ)
    early = datetime(2026, 11, 11, 3, tzinfo=TZ)
    assert next_business_time(early, TZ, start, end) == datetime(2026, 11, 11, 9, tzinfo=TZ)
