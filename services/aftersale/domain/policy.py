"""The policy engine: a shop's rules, in order, decide a refund; every decision cites its rule.

Two guards sit under every rule set, whatever a shop writes: a request that contradicts what
the shop knows (unknown order, refund above the order total, "not received" on a signed
order) and a high-risk buyer are never approved automatically; such an approval becomes an
escalation citing `safety.*`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from services.aftersale.domain.deadlines import seven_day_window_end
from services.aftersale.domain.facts import OrderFacts, RefundFacts
from services.aftersale.domain.risk import RiskProfile
from services.aftersale.domain.rules import RefundDecision, Rule, RuleSet
from shared.money import yuan

SAFETY_INCONSISTENT = "safety.never-approve-inconsistent"
SAFETY_HIGH_RISK = "safety.never-approve-high-risk"
# A reason no group knows, where only the catch-all rule would have decided: a human decides,
# and the shop sees the text counted as unrecognised so it can extend its YAML.
UNRECOGNISED_REASON = "reason.unrecognised"


@dataclass(frozen=True)
class Decision:
    decision: RefundDecision
    rule_id: str
    reason: str
    ask_evidence: bool = False
    reason_group: str | None = None
    reason_recognised: bool = True

    @property
    def automatic(self) -> bool:
        """Approve and reject are final; escalate means a human decides."""
        return self.decision != "escalate"


@dataclass(frozen=True)
class Evaluation:
    """The facts the rules saw, kept with the decision so a reader can check it."""

    facts: Mapping[str, Any]
    window_end: datetime | None
    inconsistencies: tuple[str, ...]


def evaluate(
    refund: RefundFacts, order: OrderFacts | None, risk: RiskProfile, rules: RuleSet, tz: tzinfo
) -> Evaluation:
    order_total = order.total_fee if order is not None else refund.order_total_fee
    exceeds = refund.refund_fee > min(refund.order_total_fee, order_total)
    signed = order is not None and order.signed
    window_end = (
        seven_day_window_end(order.signed_at, tz, rules.window_hours)
        if order is not None and order.signed_at is not None
        else None
    )
    if order is None:
        within = False
    elif not signed:
        within = True  # the seven days have not started yet
    else:
        within = window_end is not None and refund.requested_at <= window_end
    category = refund.item_category
    facts: dict[str, Any] = {
        "order_known": order is not None,
        "refund_exceeds_order": exceeds,
        "claims_not_received": refund.claims_not_received,
        "order_shipped": order is not None and order.shipped,
        "order_signed": signed,
        "with_return": refund.has_good_return,
        "within_seven_days": within,
        "category_eligible": category not in rules.ineligible_categories,
        "fee_within_limit": refund.refund_fee <= rules.auto_approve_limit_fen,
        "buyer_risk": risk.level,
        "refund_phase": refund.refund_phase,
        "reason": refund.reason,
        "reason_groups": rules.reasons.match(refund.reason).groups,
        "refund_fee": refund.refund_fee,
        "order_total": order_total,
    }
    issues = []
    if order is None:
        issues.append("unknown order")
    if exceeds:
        issues.append("refund exceeds order total")
    if refund.claims_not_received and signed:
        issues.append("not received claimed on a signed order")
    return Evaluation(facts, window_end, tuple(issues))


def matches(rule: Rule, facts: Mapping[str, Any], rules: RuleSet) -> bool:
    return all(_holds(key, want, facts, rules) for key, want in rule.when.items())


def _holds(key: str, want: Any, facts: Mapping[str, Any], rules: RuleSet) -> bool:
    if key == "fee_at_most":
        return bool(facts["refund_fee"] <= want)
    if key == "fee_above":
        return bool(facts["refund_fee"] > want)
    if key == "reason_group":
        groups = [want] if isinstance(want, str) else want
        return any(g in facts["reason_groups"] for g in groups)
    if key == "reason_in":
        return rules.reasons.matches_any(facts["reason"], want)
    if key == "buyer_risk":
        return facts["buyer_risk"] in ([want] if isinstance(want, str) else want)
    return bool(facts[key] == want)


def decide(
    refund: RefundFacts, order: OrderFacts | None, risk: RiskProfile, rules: RuleSet, tz: tzinfo
) -> Decision:
    ev = evaluate(refund, order, risk, rules, tz)
    rule = next(r for r in rules.rules if matches(r, ev.facts, rules))  # last rule matches all
    reason = _render(rule.reason, refund, ev, risk, rules, tz)
    match = rules.reasons.match(refund.reason)
    group = min(match.groups) if match.groups else None
    if rule.decision == "approve" and ev.inconsistencies:
        return Decision(
            "escalate",
            SAFETY_INCONSISTENT,
            f"规则{rule.id}本会同意,但申请与订单不一致({'; '.join(ev.inconsistencies)}),转人工",
            reason_group=group,
            reason_recognised=match.recognised,
        )
    if rule.decision == "approve" and risk.level == "high":
        return Decision(
            "escalate",
            SAFETY_HIGH_RISK,
            f"规则{rule.id}本会同意,但买家风险高:{risk.describe()}",
            reason_group=group,
            reason_recognised=match.recognised,
        )
    if rule is rules.rules[-1] and rules.reason_groups and not match.recognised:
        return Decision(
            "escalate",
            UNRECOGNISED_REASON,
            f"unrecognised refund reason: 退款原因「{refund.reason[:60]}」不在店铺的原因分组中"
            f"(最接近「{match.nearest or '无'}」,置信度{match.confidence:.2f}),转人工处理",
            reason_group=group,
            reason_recognised=match.recognised,
        )
    return Decision(
        rule.decision,
        rule.id,
        reason,
        rule.ask_evidence,
        reason_group=group,
        reason_recognised=match.recognised,
    )


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _render(
    template: str,
    refund: RefundFacts,
    ev: Evaluation,
    risk: RiskProfile,
    rules: RuleSet,
    tz: tzinfo,
) -> str:
    values = _Blank(
        fee_yuan=yuan(refund.refund_fee),
        limit_yuan=yuan(rules.auto_approve_limit_fen),
        order_total_yuan=yuan(ev.facts["order_total"]),
        reason=refund.reason,
        category=refund.item_category or "未知",
        window_end=local_text(ev.window_end, tz) if ev.window_end else "签收后起算",
        risk_score=str(risk.score),
        risk_level=risk.level,
        risk_reasons=risk.describe(),
    )
    return template.format_map(values)


def local_text(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%m月%d日%H:%M")
