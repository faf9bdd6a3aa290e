"""Reaching people about a case: a hand-off to an agent (with a summary) or a reply to the
buyer; both leave a line in the case's history."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from services.aftersale.domain import texts
from services.aftersale.domain.effects import Turn
from services.aftersale.domain.model import Case
from shared.contracts import HandoffRequested, ReplyRequested
from shared.contracts.emitted import Priority, ReplyKind
from shared.ids import derived_id
from shared.money import yuan

SERVICE = "aftersale"
HandoffSkill = Literal["aftersale", "senior"]


def hand_off(
    t: Turn,
    case: Case,
    cause: str,
    skill: HandoffSkill,
    priority: Priority,
    reason: str,
    *,
    extra: str = "",
) -> Case:
    """An agent takes the case, with a summary; returns the case as it is now."""
    summary = case_summary(t, case)
    conv = t.v.conversation((case.shop_id, case.buyer_id))
    t.out.emit(
        HandoffRequested(
            shop_id=case.shop_id,
            handoff_id=derived_id(cause, "handoff", case.case_id, skill),
            conversation_id=conv.conversation_id if conv else None,
            buyer_id=case.buyer_id,
            skill=skill,
            priority=priority,
            reason=reason,
            summary=f"{summary}\n{extra}" if extra else summary,
            order_id=case.order_id,
            refund_id=case.refund_id,
            requested_by=SERVICE,
            requested_at=t.now,
        )
    )
    case = t.v.put_case(replace(case, handed_off_at=t.now, handed_off_for=case.deadline))
    t.v.add_history(case.case_id, t.now, f"handoff_{skill}", reason)
    t.out.count(f"handoff_{skill}")
    return case


def reply(t: Turn, case: Case, cause: str, text: str, kind: ReplyKind) -> None:
    conv = t.v.conversation((case.shop_id, case.buyer_id))
    t.out.emit(
        ReplyRequested(
            shop_id=case.shop_id,
            reply_request_id=derived_id(cause, "reply", case.case_id, kind),
            conversation_id=conv.conversation_id if conv else f"{case.shop_id}:{case.buyer_id}",
            buyer_id=case.buyer_id,
            text=text,
            kind=kind,
            sender="system",
            requested_by=SERVICE,
            order_id=case.order_id,
            requested_at=t.now,
        )
    )
    t.v.add_history(case.case_id, t.now, f"reply_{kind}", "")


def case_summary(t: Turn, case: Case) -> str:
    steps = [h.event for h in t.v.history_of(case.case_id)]
    risk = (
        f"{case.risk_level}({case.risk_score}) " + ";".join(case.risk_reasons or [])
        if case.risk_level
        else "-"
    )
    return texts.case_summary(
        kind=case.kind,
        reason=case.reason or "-",
        refund_fee_yuan=yuan(case.refund_fee or 0),
        order_total_yuan=yuan(case.order_total_fee or 0),
        decision=case.decision,
        rule_id=case.rule_id,
        refund_status=case.refund_status,
        cs_status=case.cs_status,
        risk=risk,
        history=steps,
    )
