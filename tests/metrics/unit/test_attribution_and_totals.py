"""Attribution (orders, CSAT), orders/refunds folding, percentiles, ratios and totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.metrics.domain.attribution import attribute_order, last_touch_before
from services.metrics.domain.conversation import derive
from services.metrics.domain.kpis import (
    AttributedCsat,
    AttributedOrder,
    ResponderTotals,
    SessionRow,
    ShopTotals,
    responder_kpis,
    responder_totals,
    shop_kpis,
)
from services.metrics.domain.model import BOT, Message, Round, Touch
from services.metrics.domain.stats import floor_div, nearest_rank, ratio
from services.metrics.domain.trade import OrderEvent, RefundEvent, fold_order, fold_refund

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
GAP = timedelta(minutes=30)
WINDOW = timedelta(hours=72)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def touch(s: float, who: str, mid: str = "m", session: float = 0) -> Touch:
    return Touch(at(s), mid, who, at(session), "buyer-1")


# -- attribution ---------------------------------------------------------------------------
def test_order_goes_to_the_last_touch_strictly_before_it() -> None:
    touches = [touch(0, "a1", "m1"), touch(100, "a2", "m2"), touch(200, "a3", "m3")]
    assert attribute_order(touches, at(200), WINDOW).responder == "a2"  # type: ignore[union-attr]
    assert attribute_order(touches, at(201), WINDOW).responder == "a3"  # type: ignore[union-attr]


def test_attribution_window_is_72h_inclusive() -> None:
    touches = [touch(0, "a1")]
    assert attribute_order(touches, at(0) + WINDOW, WINDOW) is not None
    assert attribute_order(touches, at(0) + WINDOW + timedelta(microseconds=1), WINDOW) is None


def test_order_without_touch_belongs_to_nobody() -> None:
    assert attribute_order([], at(10), WINDOW) is None
    assert attribute_order([touch(20, "a1")], at(10), WINDOW) is None


def test_touches_at_the_same_instant_take_the_later_message_id() -> None:
    touches = [touch(5, "a2", "m2"), touch(5, "a1", "m1")]
    assert last_touch_before(touches, at(6)).responder == "a2"  # type: ignore[union-attr]


def test_order_counts_in_the_window_of_the_touch_session_start() -> None:
    msgs = [
        Message(at(0), "buyer", "b1", None, "buyer-1"),
        Message(at(1200), "agent", "o1", "a1", "buyer-1"),
    ]
    (t,) = derive(msgs, [], GAP).touches
    assert t.session_start == at(0)
    assert attribute_order([t], at(90_000), WINDOW).session_start == at(0)  # type: ignore[union-attr]


def test_outbound_messages_never_attribute() -> None:
    msgs = [Message(at(0), "agent", "o1", "a1", "buyer-1")]
    assert derive(msgs, [], GAP).touches == []


def test_csat_goes_to_the_last_answer_before_submission() -> None:
    msgs = [
        Message(at(0), "buyer", "b1", None, "buyer-1"),
        Message(at(10), "bot", "o1", "bot", "buyer-1"),
        Message(at(20), "agent", "o2", "a1", "buyer-1"),
    ]
    touches = derive(msgs, [], GAP).touches
    assert last_touch_before(touches, at(15)).responder == BOT  # type: ignore[union-attr]
    assert last_touch_before(touches, at(21)).responder == "a1"  # type: ignore[union-attr]
    assert last_touch_before(touches, at(20)).responder == BOT  # type: ignore[union-attr]
    assert last_touch_before(touches, at(5)) is None


# -- trade -----------------------------------------------------------------------------------
def test_order_fold_uses_first_paid_and_latest_fee() -> None:
    events = [
        OrderEvent("e3", "b", 900, at(0), at(50), at(300)),
        OrderEvent("e1", "b", 1000, at(0), None, at(0)),
        OrderEvent("e2", "b", 950, at(0), at(40), at(200)),
    ]
    order = fold_order(events)
    assert (order.paid_at, order.total_fee) == (at(40), 900)
    assert fold_order(events[1:2]).paid_at is None


def test_refund_fold() -> None:
    events = [
        RefundEvent("e1", "requested", at(0)),
        RefundEvent("e2", "changed", at(100), "WAIT_SELLER_AGREE", 1),
        RefundEvent("e4", "changed", at(300), "SUCCESS", 1),
        RefundEvent("e3", "changed", at(200), "CLOSED", 2),
        RefundEvent("e5", "changed", at(400), "SUCCESS", 1),
    ]
    r = fold_refund(events)
    assert (r.requested_at, r.succeeded_at, r.finished_at, r.disputed) == (
        at(0),
        at(300),
        at(200),
        True,
    )
    assert not fold_refund(events[:2]).disputed
    assert fold_refund(events[1:]).requested_at is None


# -- statistics ------------------------------------------------------------------------------
def test_nearest_rank_percentiles() -> None:
    values = [15, 20, 35, 40, 50]
    assert nearest_rank(values, 50) == 35
    assert nearest_rank(values, 90) == 50
    assert nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank(list(range(1, 11)), 50) == 5
    assert nearest_rank([7], 90) == 7
    assert nearest_rank([], 50) is None


def test_ratios_are_null_on_zero_denominators() -> None:
    assert ratio(0, 0) is None
    assert ratio(0, 3) == 0
    assert floor_div(10, 0) is None
    assert floor_div(10, 3) == 3


# -- totals ----------------------------------------------------------------------------------
def _round(s: float, who: str, answered: bool, response: float | None, last: float) -> Round:
    closed = at(s + response) if response is not None else None
    return Round(at(s), at(s), at(last), who, answered, closed)


def test_responder_totals_and_kpis() -> None:
    now = at(100_000)
    rounds = [
        _round(0, "a1", True, 60, 60),
        _round(100, "a1", True, 180, 300),
        _round(400, "a1", True, 181, 600),
        _round(700, "a1", False, None, 700),
        _round(99_000, "a1", False, None, 99_000),  # session still running: the buyer waits
    ]
    from services.metrics.domain.model import SessionResponder

    sessions = [
        SessionRow(SessionResponder(at(0), "a1", at(60), at(0)), "buyer-1"),
        SessionRow(SessionResponder(at(400), "a1", at(581), at(500)), "buyer-2"),
        SessionRow(SessionResponder(at(0), BOT, at(1), at(0)), "buyer-1", bot_resolved=True),
    ]
    orders = [
        AttributedOrder("a1", "buyer-1", 1000, True),
        AttributedOrder("a1", "buyer-1", 501, True),
        AttributedOrder("a1", "buyer-2", 700, False),
    ]
    csat = [AttributedCsat("a1", 5), AttributedCsat("a1", 3), AttributedCsat(BOT, 4)]
    totals = responder_totals(rounds, sessions, orders, csat, now=now, gap=GAP)
    a1 = responder_kpis(totals["a1"])
    assert a1["rounds_answered"] == 3
    assert a1["rounds_unanswered"] == 1
    assert a1["response_time_avg_s"] == pytest.approx((60 + 180 + 181) / 3)
    assert a1["response_time_p50_s"] == 180
    assert a1["response_time_p90_s"] == 181
    assert a1["response_rate_3min"] == 2 / 4
    assert a1["sessions"] == 2
    assert a1["first_response_time_avg_s"] == pytest.approx((60 + 81) / 2)
    assert a1["inquiry_buyers"] == 2
    assert a1["paid_buyers"] == 1
    assert a1["inquiry_conversion_rate"] == 0.5
    assert a1["sales_fen"] == 1501
    assert a1["avg_order_value_fen"] == 1501
    assert a1["csat_responses"] == 2
    assert a1["csat_satisfied_rate"] == 0.5
    assert a1["bot_resolved_sessions"] is None
    assert a1["bot_resolution_rate"] is None
    b = responder_kpis(totals[BOT])
    assert b["bot_resolved_sessions"] == 1
    assert b["bot_resolution_rate"] == 1.0
    assert b["rounds_answered"] == 0
    assert b["response_rate_3min"] is None
    assert b["csat_satisfied_rate"] == 1.0


def test_empty_responder_has_null_rates() -> None:
    k = responder_kpis(ResponderTotals("a1"))
    assert k["response_time_avg_s"] is None
    assert k["inquiry_conversion_rate"] is None
    assert k["avg_order_value_fen"] is None


def test_shop_kpis() -> None:
    k = shop_kpis(ShopTotals(10, 4, 2, 5, 2, 1, 1, 3_500_000.0))
    assert k["refund_rate"] == 0.2
    assert k["dispute_rate"] == 0.5
    assert k["refund_duration_avg_s"] == 3.5
    assert shop_kpis(ShopTotals())["refund_rate"] is None
