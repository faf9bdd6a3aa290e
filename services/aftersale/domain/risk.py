"""Buyer risk: a score with its reasons, from what the event history says about a buyer.

Only counts and matched keywords are used (never the buyer's words or personal data):
- refunds the buyer asked for in the 30 days before this one (serial refunders, 职业索赔);
- the share of the buyer's orders in this shop that were refunded;
- "not received" claims on orders the carrier shows as signed;
- words professional claimants use to put pressure on a shop (假一赔十, 12315, 投诉到工商 …).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

RiskLevel = Literal["low", "medium", "high"]

THREAT_WORDS: tuple[str, ...] = (
    "假一赔十", "假一赔三", "退一赔三", "十倍赔偿", "三倍赔偿", "投诉到工商", "工商局", "举报",
    "12315", "12345", "消协", "消费者协会", "市场监管", "曝光", "律师函", "起诉", "打假",
)  # fmt: skip
REFUND_WINDOW_DAYS = 30


class SignalLike(Protocol):
    """A stored buyer signal (`domain.model.Signal`)."""

    @property
    def kind(self) -> str: ...
    @property
    def ref_id(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def detail(self) -> str: ...


def threat_words(text: str | None) -> list[str]:
    """The claimant threat words in a text, in the order of THREAT_WORDS."""
    if not text:
        return []
    return [w for w in THREAT_WORDS if w in text]


@dataclass(frozen=True)
class BuyerHistory:
    """What the shop has seen of one buyer, as counts."""

    refunds_30d: int = 0
    """refund requests in the 30 days before the current one (not counting it)"""
    orders: int = 0
    refunded_orders: int = 0
    not_received_on_signed: int = 0
    threat_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class RiskThresholds:
    medium_at: int = 30
    high_at: int = 60


@dataclass(frozen=True)
class RiskProfile:
    score: int
    level: RiskLevel
    reasons: tuple[str, ...]

    def describe(self) -> str:
        return "；".join(self.reasons) if self.reasons else "无风险记录"


LOW = RiskProfile(0, "low", ())


def assess(h: BuyerHistory, t: RiskThresholds | None = None) -> RiskProfile:
    """Score 0–100: each signal adds points; the reasons say which and how much."""
    t = t or RiskThresholds()
    parts: list[tuple[int, str]] = []
    if h.refunds_30d >= 2:
        parts.append(
            (
                min(60, 20 * (h.refunds_30d - 1)),
                f"近{REFUND_WINDOW_DAYS}天已申请退款{h.refunds_30d}次",
            )
        )
    if h.orders >= 3 and h.refunded_orders * 2 >= h.orders:
        share = round(100 * h.refunded_orders / h.orders)
        parts.append((20, f"订单退款率{share}%({h.refunded_orders}/{h.orders})"))
    if h.not_received_on_signed:
        parts.append(
            (
                min(80, 40 * h.not_received_on_signed),
                f"已签收订单声称未收到{h.not_received_on_signed}次",
            )
        )
    if h.threat_words:
        words = tuple(dict.fromkeys(h.threat_words))
        parts.append(
            (min(80, 60 + 10 * (len(words) - 1)), "出现职业索赔常用语:" + "、".join(words))
        )
    score = min(100, sum(p for p, _ in parts))
    level: RiskLevel = "high" if score >= t.high_at else "medium" if score >= t.medium_at else "low"
    return RiskProfile(score, level, tuple(f"{why}(+{p})" for p, why in parts))


def buyer_history(
    signals: Iterable[SignalLike], orders: int, at: datetime, exclude_ref: str = ""
) -> BuyerHistory:
    """The counts for the risk profile as of `at` (business time), not counting the refund
    `exclude_ref` itself: over every signal and the number of orders the shop has seen."""
    rows = [s for s in signals if s.at <= at]
    since = at - timedelta(days=REFUND_WINDOW_DAYS)
    refunds = [s for s in rows if s.kind == "refund" and s.ref_id != exclude_ref]
    return BuyerHistory(
        refunds_30d=sum(1 for s in refunds if s.at >= since),
        orders=orders,
        refunded_orders=len({s.detail for s in rows if s.kind == "refund"}),
        not_received_on_signed=sum(1 for s in rows if s.kind == "not_received_signed"),
        threat_words=tuple(sorted({s.detail for s in rows if s.kind == "threat"})),
    )
