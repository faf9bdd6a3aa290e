"""Refund cases: opened by the request, decided by the shop's rules once the order's facts
are known (or the grace period ends), moved on by the platform's changes.

Every function reads and writes a `Turn` (the decision's view, effects and time): no I/O.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.aftersale.domain import texts
from services.aftersale.domain.contact import hand_off, reply
from services.aftersale.domain.deadlines import (
    SELLER_TURN,
    TERMINAL,
    alert_due,
    handoff_due,
    is_dispute,
)
from services.aftersale.domain.effects import REFUND_ALERT, REFUND_DECIDE, REFUND_SLA, Turn
from services.aftersale.domain.model import Case, EarlyChange, Order, Signal, refund_case_id
from services.aftersale.domain.policy import decide
from services.aftersale.domain.risk import assess, buyer_history, threat_words
from shared.contracts import (
    CaseOpened,
    CaseResolved,
    OrderAlert,
    OrderChanged,
    RefundChanged,
    RefundDecided,
    RefundRequested,
)
from shared.ids import derived_id
from shared.masking import mask


# -- trade.order.changed: the facts the policy needs ----------------------------------------
def order_changed(t: Turn, o: OrderChanged, cause: str) -> None:
    """Keep the latest state of the order (an older change never overwrites a newer one);
    refund cases that were waiting for these facts are decided now."""
    signed_at = o.signed_at
    if signed_at is None and o.status == "TRADE_BUYER_SIGNED":
        signed_at = o.changed_at
    item_ids = tuple(sorted({i.item_id for i in o.items}))
    old = t.v.order(o.order_id)
    if old is None:
        t.v.put_order(
            Order(o.order_id, o.shop_id, o.buyer_id, o.status, o.total_fee, item_ids,
                  o.created_at, o.changed_at, o.consign_time, signed_at)
        )  # fmt: skip
    elif old.changed_at <= o.changed_at:
        t.v.put_order(
            replace(
                old, status=o.status, total_fee=o.total_fee, item_ids=item_ids,
                consign_time=o.consign_time or old.consign_time,
                signed_at=old.signed_at or signed_at, changed_at=o.changed_at,
            )
        )  # fmt: skip
    for case in t.v.cases_of_order(o.order_id):
        if case.shop_id == o.shop_id and case.is_open_refund and case.decision is None:
            decide_case(t, case.case_id, cause)


# -- trade.refund.requested: open a case and decide it ---------------------------------------
def refund_requested(t: Turn, r: RefundRequested, cause: str) -> None:
    case_id = refund_case_id(r.refund_id)
    if t.v.case(case_id) is not None or t.v.case_of_refund(r.refund_id) is not None:
        return  # the platform re-sent the request: the case exists already
    kind = "return_refund" if r.has_good_return else "refund_only"
    t.v.put_case(
        Case(
            case_id=case_id, shop_id=r.shop_id, kind=kind, state="open", order_id=r.order_id,
            buyer_id=r.buyer_id, refund_id=r.refund_id, reason=r.reason[:200],
            refund_phase=r.refund_phase, good_status=r.good_status, refund_fee=r.refund_fee,
            order_total_fee=r.order_total_fee, has_good_return=r.has_good_return,
            item_category=r.item_category, requested_at=r.requested_at,
            refund_status="WAIT_SELLER_AGREE", cs_status=1, status_changed_at=r.requested_at,
            deadline=r.timeout, opened_at=t.now,
        )
    )  # fmt: skip
    if r.item_category:
        t.v.put_category(r.shop_id, r.item_id, r.item_category)
    signal = Signal(r.shop_id, r.buyer_id, "refund", r.refund_id, r.requested_at, r.order_id[:100])
    t.v.add_signal(signal)
    for word in threat_words(r.description):
        t.v.add_signal(replace(signal, kind="threat", ref_id=f"{r.refund_id}:{word}", detail=word))
    t.v.add_history(case_id, t.now, "opened", f"{kind}: {r.reason}")
    t.out.emit(
        CaseOpened(
            shop_id=r.shop_id, case_id=case_id, kind=kind, order_id=r.order_id,
            buyer_id=r.buyer_id, refund_id=r.refund_id, opened_at=t.now, deadline=r.timeout,
        )
    )  # fmt: skip
    arm_deadline(t, case_id, r.timeout)
    early = t.v.take_early(r.refund_id)
    if early is not None:
        apply_change(t, cause, case_id, early)
    order = t.v.order(r.order_id)
    if order is not None and order.shop_id != r.shop_id:
        order = None  # another shop's order of the same id: not this one
    if order is None and t.cfg.order_facts_grace:
        # The order's events travel on another topic and may simply not be here yet.
        t.out.arm(REFUND_DECIDE, case_id, t.now + t.cfg.order_facts_grace)
        t.v.add_history(case_id, t.now, "awaiting_order", "等待订单信息")
        return
    decide_case(t, case_id, cause, deferred=False)


def decide_case(t: Turn, case_id: str, cause: str, *, deferred: bool = True) -> None:
    """The shop's rules decide the refund once; a human gets what they do not settle."""
    case = t.v.case(case_id)
    if case is None or case.decision is not None or case.state != "open":
        return
    if deferred:
        t.out.cancel(REFUND_DECIDE, case_id)
    order = t.v.order(case.order_id)
    if order is not None and (order.shop_id != case.shop_id or order.buyer_id != case.buyer_id):
        order = None  # not this buyer's order: as good as unknown
    rules = t.cfg.rules.for_shop(case.shop_id)
    refund = case.refund_facts()
    facts = order.facts() if order is not None else None
    if facts is not None and facts.signed and refund.claims_not_received:
        t.v.add_signal(
            Signal(case.shop_id, case.buyer_id, "not_received_signed", refund.refund_id,
                   refund.requested_at)
        )  # fmt: skip
    buyer = (case.shop_id, case.buyer_id)
    history = buyer_history(
        t.v.signals_of(buyer), len(t.v.orders_of(buyer)), refund.requested_at, refund.refund_id
    )
    risk = assess(history, rules.risk)
    d = decide(refund, facts, risk, rules, t.cfg.tz)
    case = t.v.put_case(
        replace(
            case, decision=d.decision, rule_id=d.rule_id, decision_reason=d.reason,
            decided_at=t.now, risk_score=risk.score, risk_level=risk.level,
            risk_reasons=risk.reasons,
        )
    )  # fmt: skip
    t.v.add_history(case_id, t.now, f"decided_{d.decision}", f"[{d.rule_id}] {d.reason}")
    t.out.emit(
        RefundDecided(
            shop_id=case.shop_id, refund_id=refund.refund_id, order_id=case.order_id,
            decision=d.decision, rule_id=d.rule_id, reason=d.reason, decided_at=t.now,
            refund_reason=mask(refund.reason)[:100], reason_group=d.reason_group,
            reason_recognised=d.reason_recognised,
        )
    )  # fmt: skip
    t.out.count(f"refund_{d.decision}")
    if not d.automatic:
        case = hand_off(t, case, cause, "aftersale", "high", f"refund escalated: {d.rule_id}")
    if d.ask_evidence:
        reply(t, case, cause, texts.ASK_EVIDENCE, "clarify")


# -- trade.refund.changed: follow the platform ------------------------------------------------
def refund_changed(t: Turn, c: RefundChanged, cause: str) -> None:
    change = EarlyChange(c.refund_id, c.status, c.cs_status, c.timeout, c.changed_at)
    case = t.v.case_of_refund(c.refund_id)
    if case is None or case.shop_id != c.shop_id:
        # consumed before its request (another topic): applied on opening
        kept = t.v.early_change(c.refund_id)
        if kept is None or kept.changed_at <= c.changed_at:
            t.v.save_early(change)
        return
    apply_change(t, cause, case.case_id, change)


def apply_change(t: Turn, cause: str, case_id: str, c: EarlyChange) -> None:
    case = t.v.case(case_id)
    assert case is not None
    if case.state != "open" or (
        case.status_changed_at is not None and c.changed_at < case.status_changed_at
    ):
        t.v.add_history(case_id, t.now, "ignored_change", f"{c.status} (late)")
        return
    t.v.put_case(
        replace(case, refund_status=c.status, cs_status=c.cs_status,
                status_changed_at=c.changed_at, deadline=c.timeout)
    )  # fmt: skip
    t.v.add_history(case_id, t.now, "platform", f"{c.status}, cs_status={c.cs_status}")
    if c.status in TERMINAL:
        resolve(t, case_id, "refunded" if c.status == "SUCCESS" else "closed")
        return
    if c.status in SELLER_TURN and c.timeout is not None:
        if c.timeout != case.deadline or c.status != case.refund_status:
            arm_deadline(t, case_id, c.timeout)
    else:  # the buyer's turn, or no deadline: nothing the shop can miss
        t.out.cancel(REFUND_SLA, case_id)
        t.out.cancel(REFUND_ALERT, case_id)
    if is_dispute(c.cs_status) and case.dispute_at is None:
        dispute(t, cause, case_id)


def dispute(t: Turn, cause: str, case_id: str) -> None:
    """Platform customer service stepped in: a senior agent takes it, with a summary."""
    case = t.v.case(case_id)
    assert case is not None
    case = t.v.put_case(replace(case, dispute_at=t.now))
    t.v.add_history(case_id, t.now, "dispute", "平台客服介入")
    case = hand_off(t, case, cause, "senior", "urgent", "refund dispute")
    t.out.emit(
        OrderAlert(
            shop_id=case.shop_id, alert_id=derived_id(cause, "dispute-alert", case_id),
            order_id=case.order_id, refund_id=case.refund_id, kind="refund_dispute",
            detail=f"退款{case.refund_id}进入平台介入(cs_status={case.cs_status})",
            due_at=case.deadline, raised_at=t.now,
        )
    )  # fmt: skip
    t.out.count("dispute")


def resolve(t: Turn, case_id: str, outcome: str) -> None:
    case = t.v.case(case_id)
    assert case is not None
    case = t.v.put_case(replace(case, state="resolved", outcome=outcome, resolved_at=t.now))
    t.v.add_history(case_id, t.now, "resolved", outcome)
    t.out.cancel(REFUND_SLA, case_id)
    t.out.cancel(REFUND_ALERT, case_id)
    t.out.emit(
        CaseResolved(
            shop_id=case.shop_id, case_id=case_id, order_id=case.order_id,
            refund_id=case.refund_id, outcome=outcome, resolved_at=t.now,
        )
    )  # fmt: skip
    t.out.count(f"case_{outcome}")


def arm_deadline(t: Turn, case_id: str, deadline: datetime) -> None:
    payload = {"deadline": deadline.isoformat()}
    lead = t.cfg.sla_lead + t.cfg.sla_margin
    t.out.arm(REFUND_SLA, case_id, handoff_due(deadline, lead, t.now), payload, replace=True)
    due = alert_due(deadline, t.cfg.alert_lead, t.now)
    t.out.arm(REFUND_ALERT, case_id, due, payload, replace=True)
