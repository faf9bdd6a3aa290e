"""Per-responder and per-shop KPI rows, from totals (KPIS.md "Per responder" / "Per shop").

The store adds facts up (counts, sums, nearest-rank percentiles) with SQL for speed;
`responder_totals` is the same addition in plain Python, used by the unit tests and the
documentation as the reference of what the SQL does. Either way the final figures come from
`responder_kpis` and `shop_kpis`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.metrics.domain.model import BOT, Round, SessionResponder
from services.metrics.domain.stats import floor_div, nearest_rank, ratio, seconds

RESPONSE_TARGET_US = 180 * 1_000_000  # 3 分钟响应率
SATISFIED_RATING = 4

RESPONDER_FIELDS = (
    "rounds_answered",
    "rounds_unanswered",
    "response_time_avg_s",
    "response_time_p50_s",
    "response_time_p90_s",
    "response_rate_3min",
    "sessions",
    "first_response_time_avg_s",
    "first_response_time_p50_s",
    "first_response_time_p90_s",
    "inquiry_buyers",
    "paid_buyers",
    "inquiry_conversion_rate",
    "sales_fen",
    "avg_order_value_fen",
    "csat_responses",
    "csat_satisfied_rate",
    "bot_resolved_sessions",
    "bot_resolution_rate",
)
SHOP_FIELDS = (
    "buyer_messages",
    "sessions",
    "handoffs",
    "orders_paid",
    "refund_requests",
    "refunds_succeeded",
    "refund_rate",
    "dispute_rate",
    "refund_duration_avg_s",
)


@dataclass
class ResponderTotals:
    """What the KPIs of one responder in one window are computed from."""

    responder: str
    rounds_answered: int = 0
    rounds_unanswered: int = 0
    answered_within_target: int = 0
    response_avg_us: float | None = None
    response_p50_us: int | None = None
    response_p90_us: int | None = None
    sessions: int = 0
    first_response_avg_us: float | None = None
    first_response_p50_us: int | None = None
    first_response_p90_us: int | None = None
    inquiry_buyers: int = 0
    paid_buyers: int = 0
    sales_fen: int = 0
    csat_responses: int = 0
    csat_satisfied: int = 0
    bot_resolved_sessions: int = 0

    def is_empty(self) -> bool:
        return not (
            self.rounds_answered
            or self.rounds_unanswered
            or self.sessions
            or self.paid_buyers
            or self.csat_responses
        )


def responder_kpis(t: ResponderTotals) -> dict[str, Any]:
    is_bot = t.responder == BOT
    return {
        "agent_id": t.responder,
        "rounds_answered": t.rounds_answered,
        "rounds_unanswered": t.rounds_unanswered,
        "response_time_avg_s": seconds(t.response_avg_us),
        "response_time_p50_s": seconds(t.response_p50_us),
        "response_time_p90_s": seconds(t.response_p90_us),
        "response_rate_3min": ratio(
            t.answered_within_target, t.rounds_answered + t.rounds_unanswered
        ),
        "sessions": t.sessions,
        "first_response_time_avg_s": seconds(t.first_response_avg_us),
        "first_response_time_p50_s": seconds(t.first_response_p50_us),
        "first_response_time_p90_s": seconds(t.first_response_p90_us),
        "inquiry_buyers": t.inquiry_buyers,
        "paid_buyers": t.paid_buyers,
        "inquiry_conversion_rate": ratio(t.paid_buyers, t.inquiry_buyers),
        "sales_fen": t.sales_fen,
        "avg_order_value_fen": floor_div(t.sales_fen, t.paid_buyers),
        "csat_responses": t.csat_responses,
        "csat_satisfied_rate": ratio(t.csat_satisfied, t.csat_responses),
        "bot_resolved_sessions": t.bot_resolved_sessions if is_bot else None,
        "bot_resolution_rate": ratio(t.bot_resolved_sessions, t.sessions) if is_bot else None,
    }


@dataclass
class ShopTotals:
    buyer_messages: int = 0
    sessions: int = 0
    handoffs: int = 0
    orders_paid: int = 0
    refund_requests: int = 0
    refunds_succeeded: int = 0
    disputed_requests: int = 0
    refund_duration_avg_us: float | None = None


def shop_kpis(t: ShopTotals) -> dict[str, Any]:
    return {
        "buyer_messages": t.buyer_messages,
        "sessions": t.sessions,
        "handoffs": t.handoffs,
        "orders_paid": t.orders_paid,
        "refund_requests": t.refund_requests,
        "refunds_succeeded": t.refunds_succeeded,
        "refund_rate": ratio(t.refunds_succeeded, t.orders_paid),
        "dispute_rate": ratio(t.disputed_requests, t.refund_requests),
        "refund_duration_avg_s": seconds(t.refund_duration_avg_us),
    }


# -- the same totals in plain Python ---------------------------------------------------------
@dataclass(frozen=True)
class SessionRow:
    """A responder's session with the buyer it served (for inquiry buyers)."""

    part: SessionResponder
    buyer_id: str
    bot_resolved: bool = False


@dataclass(frozen=True)
class AttributedOrder:
    responder: str
    buyer_id: str
    total_fee: int
    paid: bool


@dataclass(frozen=True)
class AttributedCsat:
    responder: str
    rating: int


@dataclass
class _Acc:
    response_us: list[int] = field(default_factory=list)
    first_us: list[int] = field(default_factory=list)
    unanswered: int = 0
    buyers: set[str] = field(default_factory=set)
    paid_buyers: set[str] = field(default_factory=set)
    sales: int = 0
    csat: list[int] = field(default_factory=list)
    bot_resolved: int = 0


def round_counts_as_unanswered(r: Round, now: datetime, gap: timedelta) -> bool:
    """An open round is unanswered once its session has ended; before that the buyer waits."""
    return not r.answered and now >= r.session_last_at + gap


def responder_totals(
    rounds: Iterable[Round],
    sessions: Iterable[SessionRow],
    orders: Iterable[AttributedOrder],
    csat: Iterable[AttributedCsat],
    *,
    now: datetime,
    gap: timedelta,
) -> dict[str, ResponderTotals]:
    """Totals per responder of rows already placed in one window."""
    acc: dict[str, _Acc] = defaultdict(_Acc)
    for r in rounds:
        if r.answered:
            acc[r.responder].response_us.append(r.response_us or 0)
        elif round_counts_as_unanswered(r, now, gap):
            acc[r.responder].unanswered += 1
    for s in sessions:
        a = acc[s.part.responder]
        a.first_us.append(s.part.first_response_us)
        a.buyers.add(s.buyer_id)
        a.bot_resolved += s.bot_resolved and s.part.responder == BOT
    for o in orders:
        if o.paid:
            acc[o.responder].paid_buyers.add(o.buyer_id)
            acc[o.responder].sales += o.total_fee
    for c in csat:
        acc[c.responder].csat.append(c.rating)
    out = {}
    for who, a in acc.items():
        out[who] = ResponderTotals(
            responder=who,
            rounds_answered=len(a.response_us),
            rounds_unanswered=a.unanswered,
            answered_within_target=sum(us <= RESPONSE_TARGET_US for us in a.response_us),
            response_avg_us=_mean(a.response_us),
            response_p50_us=nearest_rank(a.response_us, 50),  # type: ignore[arg-type]
            response_p90_us=nearest_rank(a.response_us, 90),  # type: ignore[arg-type]
            sessions=len(a.first_us),
            first_response_avg_us=_mean(a.first_us),
            first_response_p50_us=nearest_rank(a.first_us, 50),  # type: ignore[arg-type]
            first_response_p90_us=nearest_rank(a.first_us, 90),  # type: ignore[arg-type]
            inquiry_buyers=len(a.buyers),
            paid_buyers=len(a.paid_buyers),
            sales_fen=a.sales,
            csat_responses=len(a.csat),
            csat_satisfied=sum(r >= SATISFIED_RATING for r in a.csat),
            bot_resolved_sessions=a.bot_resolved,
        )
    return out


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None
