"""When a refund deadline timer fires: a case a human must decide reaches an agent SLA_LEAD
before the platform acts, and an alert is raised ALERT_LEAD before it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.aftersale.domain.contact import hand_off
from services.aftersale.domain.deadlines import SELLER_TURN
from services.aftersale.domain.effects import Turn
from services.aftersale.domain.model import Case
from shared.contracts import OrderAlert
from shared.ids import derived_id


def waits_on_a_human(case: Case, deadline: datetime) -> bool:
    """Open, the shop's turn, the deadline armed for, and not settled by the policy."""
    if case.state != "open" or case.deadline is None or case.refund_status not in SELLER_TURN:
        return False
    if case.deadline != deadline:
        return False  # the deadline moved on; a newer timer covers it
    settled = case.refund_status == "WAIT_SELLER_AGREE" and case.decision in ("approve", "reject")
    return not settled


def on_sla_timer(t: Turn, kind: str, case_id: str, deadline: datetime) -> None:
    """`refund_sla`: an agent gets the case unless one has it for this deadline already."""
    case = t.v.case(case_id)
    if case is None or not waits_on_a_human(case, deadline) or case.deadline is None:
        return
    if case.handed_off_for == case.deadline:
        return
    cause = derived_id("timer", kind, case_id, case.deadline.isoformat())
    hand_off(t, case, cause, "aftersale", "high", "refund deadline near")


def on_alert_timer(t: Turn, kind: str, case_id: str, deadline: datetime) -> None:
    """`refund_alert`: the shop still has to act and the platform acts soon."""
    case = t.v.case(case_id)
    if case is None or not waits_on_a_human(case, deadline) or case.deadline is None:
        return
    due = case.deadline
    if case.alerted_for == due:
        return
    case = t.v.put_case(replace(case, alerted_for=due))
    t.v.add_history(case_id, t.now, "alert", "平台处理时限将到")
    t.out.emit(
        OrderAlert(
            shop_id=case.shop_id,
            alert_id=derived_id("timer", kind, case_id, due.isoformat()),
            order_id=case.order_id,
            refund_id=case.refund_id,
            kind="refund_deadline_near",
            detail=f"退款{case.refund_id}仍待处理({case.refund_status}),平台将于时限自动处理",
            due_at=case.deadline,
            raised_at=t.now,
        )
    )
    t.out.count("refund_alert")
