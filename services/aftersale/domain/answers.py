"""Answers to after-sale questions routed from presale, from the buyer's actual order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from services.aftersale.domain import texts
from services.aftersale.domain.facts import OrderFacts, RefundFacts
from services.aftersale.domain.policy import decide, evaluate, local_text
from services.aftersale.domain.risk import LOW
from services.aftersale.domain.rules import RuleSet
from shared.contracts.emitted import Priority, ReplyKind

REFUND_INTENTS = frozenset({"refund", "return_exchange"})


@dataclass(frozen=True)
class Answer:
    text: str | None
    kind: ReplyKind
    handoff_priority: Priority | None
    why: str


@dataclass(frozen=True)
class OpenCase:
    refund_id: str
    refund_status: str
    decision: str | None
    deadline: datetime | None


def answer(
    intent: str,
    order: OrderFacts | None,
    case: OpenCase | None,
    category: str | None,
    now: datetime,
    rules: RuleSet,
    tz: tzinfo,
) -> Answer:
    if intent == "quality_issue":
        return Answer(texts.ASK_PHOTOS, "clarify", "normal", "quality issue: photos asked")
    if intent == "missing_or_wrong_item":
        return Answer(texts.MISSING_WRONG, "handoff_notice", "high", "missing or wrong item")
    if intent == "complaint":
        return Answer(texts.COMPLAINT, "handoff_notice", "high", "complaint")
    if intent not in REFUND_INTENTS:
        return Answer(None, "handoff_notice", "normal", f"aftersale intent {intent}")
    if order is None:
        return Answer(texts.ASK_ORDER, "clarify", None, "order unknown: asked for it")
    if case is not None:
        return _case_status(case, tz)
    return eligibility(intent, order, category, now, rules, tz)


def _case_status(case: OpenCase, tz: tzinfo) -> Answer:
    if case.refund_status == "WAIT_SELLER_AGREE" and case.decision == "approve":
        return Answer(texts.CASE_STATUS["approved"], "auto_answer", None, "case approved")
    template = texts.CASE_STATUS.get(case.refund_status, texts.NEEDS_REVIEW)
    deadline = local_text(case.deadline, tz) if case.deadline else "平台时限"
    handoff: Priority | None = "normal" if case.refund_status == "SELLER_REFUSE_BUYER" else None
    return Answer(
        template.format(deadline=deadline), "auto_answer", handoff, f"case {case.refund_status}"
    )


def eligibility(
    intent: str,
    order: OrderFacts,
    category: str | None,
    now: datetime,
    rules: RuleSet,
    tz: tzinfo,
) -> Answer:
    """What the shop's rules would do if this buyer asked now (risk left out: never told)."""
    with_return = order.shipped
    hypothetical = RefundFacts(
        refund_id="question",
        order_id=order.order_id,
        refund_phase="onsale" if not order.signed else "aftersale",
        has_good_return=with_return,
        good_status="BUYER_RECEIVED" if order.signed else "BUYER_NOT_RECEIVED",
        reason="七天无理由退货" if with_return else "不想要了",
        refund_fee=order.total_fee,
        order_total_fee=order.total_fee,
        requested_at=now,
        item_category=category,
    )
    decision = decide(hypothetical, order, LOW, rules, tz)
    if not order.shipped:
        if decision.decision == "approve":
            return Answer(texts.NOT_SHIPPED_AUTO, "auto_answer", None, decision.rule_id)
        return Answer(texts.NOT_SHIPPED_REVIEW, "auto_answer", None, decision.rule_id)
    if not order.signed:
        return Answer(texts.SHIPPED_NOT_SIGNED, "auto_answer", None, "shipped, not signed")
    ev = evaluate(hypothetical, order, LOW, rules, tz)
    window = local_text(ev.window_end, tz) if ev.window_end else "签收次日起7天"
    if decision.decision == "approve":
        return Answer(
            texts.SEVEN_DAY_OK.format(window_end=window), "auto_answer", None, decision.rule_id
        )
    if not ev.facts["category_eligible"]:
        return Answer(texts.CATEGORY_INELIGIBLE, "auto_answer", "normal", decision.rule_id)
    if not ev.facts["within_seven_days"]:
        return Answer(
            texts.SEVEN_DAY_EXPIRED.format(window_end=window),
            "auto_answer",
            "normal",
            decision.rule_id,
        )
    return Answer(texts.NEEDS_REVIEW, "auto_answer", "normal", decision.rule_id)
