"""What aftersale does with each event it consumes, and when its deadline timers fire.

A refund request opens a case, the shop's rules decide it (citing the rule), and a case a
human must decide goes to an aftersale agent at once, or at the latest SLA_LEAD before the
platform would act on its own. Platform refund changes move the case on; a dispute goes to
a senior agent; a bad review opens a follow-up case; buyer questions get an answer from
their actual order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Row

from services.aftersale import store
from services.aftersale.domain import texts
from services.aftersale.domain.answers import OpenCase, answer
from services.aftersale.domain.deadlines import (
    SELLER_TURN,
    TERMINAL,
    alert_due,
    handoff_due,
    is_dispute,
    next_business_time,
)
from services.aftersale.domain.facts import OrderFacts, RefundFacts, yuan
from services.aftersale.domain.policy import decide
from services.aftersale.domain.risk import assess, threat_words
from services.aftersale.domain.rules import RuleBook
from services.aftersale.settings import AftersaleSettings
from shared.cloudevents import Envelope
from shared.context import Context
from shared.contracts import (
    CaseOpened,
    CaseResolved,
    HandoffRequested,
    MessageClassified,
    OrderAlert,
    OrderChanged,
    RefundChanged,
    RefundDecided,
    RefundRequested,
    ReplyRequested,
    ReviewPosted,
)
from shared.ids import derived_id
from shared.masking import mask
from shared.observability import BUSINESS
from shared.timers import Timer

SERVICE = "aftersale"
REFUND_SLA = "refund_sla"
REFUND_ALERT = "refund_alert"
REFUND_DECIDE = "refund_decide"
REVIEW_APOLOGY = "review_apology"


def refund_case_id(refund_id: str) -> str:
    return derived_id("aftersale-case", "refund", refund_id)


def review_case_id(review_id: str) -> str:
    return derived_id("aftersale-case", "review", review_id)


class Handlers:
    def __init__(self, settings: AftersaleSettings, rules: RuleBook) -> None:
        self.s = settings
        self.rules = rules
        self.tz = ZoneInfo(settings.shop_timezone)

    # -- trade.order.changed: the facts the policy needs ------------------------------------
    async def order_changed(self, ctx: Context, o: OrderChanged, env: Envelope) -> None:
        signed_at = o.signed_at
        if signed_at is None and o.status == "TRADE_BUYER_SIGNED":
            signed_at = o.changed_at
        await store.upsert_order(
            ctx.conn,
            order_id=o.order_id,
            shop_id=o.shop_id,
            buyer_id=o.buyer_id,
            status=o.status,
            total_fee=o.total_fee,
            item_ids=sorted({i.item_id for i in o.items}),
            consign_time=o.consign_time,
            signed_at=signed_at,
            created_at=o.created_at,
            changed_at=o.changed_at,
        )
        for case_id in await store.undecided_refund_cases(ctx.conn, o.shop_id, o.order_id):
            await self._decide(ctx, case_id, env.id)  # it was waiting for these facts

    # -- trade.refund.requested: open a case and decide it ----------------------------------
    async def refund_requested(self, ctx: Context, r: RefundRequested, env: Envelope) -> None:
        now = ctx.now()
        case_id = refund_case_id(r.refund_id)
        kind = "return_refund" if r.has_good_return else "refund_only"
        opened = await store.insert_case(
            ctx.conn,
            case_id=case_id,
            shop_id=r.shop_id,
            kind=kind,
            state="open",
            order_id=r.order_id,
            buyer_id=r.buyer_id,
            refund_id=r.refund_id,
            reason=r.reason[:200],
            refund_phase=r.refund_phase,
            good_status=r.good_status,
            refund_fee=r.refund_fee,
            order_total_fee=r.order_total_fee,
            has_good_return=r.has_good_return,
            item_category=r.item_category,
            requested_at=r.requested_at,
            refund_status="WAIT_SELLER_AGREE",
            cs_status=1,
            status_changed_at=r.requested_at,
            deadline=r.timeout,
            opened_at=now,
        )
        if not opened:
            return  # the platform re-sent the request: the case exists already
        if r.item_category:
            await store.remember_category(ctx.conn, r.shop_id, r.item_id, r.item_category)
        await self._record_signals(ctx, r)
        await store.add_history(ctx.conn, case_id, now, "opened", f"{kind}: {r.reason}")
        ctx.emit(
            CaseOpened(
                shop_id=r.shop_id,
                case_id=case_id,
                kind=kind,
                order_id=r.order_id,
                buyer_id=r.buyer_id,
                refund_id=r.refund_id,
                opened_at=now,
                deadline=r.timeout,
            )
        )
        await self._arm_deadline(ctx, case_id, r.timeout)
        early = await store.take_early_change(ctx.conn, r.refund_id)
        if early is not None:
            await self._apply_change(
                ctx, env.id, case_id, early.status, early.cs_status, early.timeout, early.changed_at
            )
        order = await store.get_order(ctx.conn, r.shop_id, r.order_id)
        if order is None and self.s.order_facts_grace:
            # The order's events travel on another topic and may simply not be here yet.
            await ctx.schedule(REFUND_DECIDE, case_id, now + self.s.order_facts_grace)
            await store.add_history(ctx.conn, case_id, now, "awaiting_order", "等待订单信息")
            return
        await self._decide(ctx, case_id, env.id, order=order, deferred=False)

    async def refund_decide(self, ctx: Context, timer: Timer) -> None:
        """The order facts never came within the grace period: decide with what is known."""
        await self._decide(ctx, timer.key, derived_id("timer", timer.kind, timer.key))

    async def _decide(
        self,
        ctx: Context,
        case_id: str,
        cause: str,
        *,
        order: OrderFacts | None = None,
        deferred: bool = True,
    ) -> None:
        """The shop's rules decide the refund once; a human gets what they do not settle."""
        case = await store.get_case(ctx.conn, case_id, lock=True)
        if case is None or case.decision is not None or case.state != "open":
            return
        if deferred:
            await ctx.cancel(REFUND_DECIDE, case_id)
            order = await store.get_order(ctx.conn, case.shop_id, case.order_id)
        rules = self.rules.for_shop(case.shop_id)
        if order is not None and order.buyer_id != case.buyer_id:
            order = None  # not this buyer's order: as good as unknown
        refund = RefundFacts(
            refund_id=case.refund_id,
            order_id=case.order_id,
            refund_phase=case.refund_phase,
            has_good_return=case.has_good_return,
            good_status=case.good_status,
            reason=case.reason,
            refund_fee=case.refund_fee,
            order_total_fee=case.order_total_fee,
            requested_at=case.requested_at,
            item_category=case.item_category,
        )
        if order is not None and order.signed and refund.claims_not_received:
            await store.add_signal(
                ctx.conn,
                shop_id=case.shop_id,
                buyer_id=case.buyer_id,
                kind="not_received_signed",
                ref_id=case.refund_id,
                at=case.requested_at,
            )
        buyer = await store.buyer_history(
            ctx.conn, case.shop_id, case.buyer_id, case.requested_at, exclude_ref=case.refund_id
        )
        risk = assess(buyer, rules.risk)
        d = decide(refund, order, risk, rules, self.tz)
        now = ctx.now()
        case = await store.update_case(
            ctx.conn,
            case_id,
            decision=d.decision,
            rule_id=d.rule_id,
            decision_reason=d.reason,
            decided_at=now,
            risk_score=risk.score,
            risk_level=risk.level,
            risk_reasons=list(risk.reasons),
        )
        await store.add_history(
            ctx.conn, case_id, now, f"decided_{d.decision}", f"[{d.rule_id}] {d.reason}"
        )
        ctx.emit(
            RefundDecided(
                shop_id=case.shop_id,
                refund_id=case.refund_id,
                order_id=case.order_id,
                decision=d.decision,  # type: ignore[arg-type]
                rule_id=d.rule_id,
                reason=d.reason,
                decided_at=now,
                refund_reason=mask(refund.reason)[:100],
                reason_group=d.reason_group,
                reason_recognised=d.reason_recognised,
            )
        )
        BUSINESS.labels(SERVICE, f"refund_{d.decision}").inc()
        if not d.automatic:
            await self._hand_off(
                ctx, case, cause, "aftersale", "high", f"refund escalated: {d.rule_id}"
            )
        if d.ask_evidence:
            await self._reply(ctx, case, cause, texts.ASK_EVIDENCE, "clarify")

    async def _record_signals(self, ctx: Context, r: RefundRequested) -> None:
        base = {"shop_id": r.shop_id, "buyer_id": r.buyer_id, "at": r.requested_at}
        await store.add_signal(
            ctx.conn, kind="refund", ref_id=r.refund_id, detail=r.order_id[:100], **base
        )
        for word in threat_words(r.description):
            await store.add_signal(
                ctx.conn, kind="threat", ref_id=f"{r.refund_id}:{word}", detail=word, **base
            )

    # -- trade.refund.changed: follow the platform -------------------------------------------
    async def refund_changed(self, ctx: Context, c: RefundChanged, env: Envelope) -> None:
        case = await store.case_by_refund(ctx.conn, c.shop_id, c.refund_id, lock=True)
        if case is None:  # consumed before its request (another topic): applied on opening
            await store.save_early_change(
                ctx.conn,
                refund_id=c.refund_id,
                status=c.status,
                cs_status=c.cs_status,
                timeout=c.timeout,
                changed_at=c.changed_at,
            )
            return
        await self._apply_change(
            ctx, env.id, case.case_id, c.status, c.cs_status, c.timeout, c.changed_at
        )

    async def _apply_change(
        self,
        ctx: Context,
        cause: str,
        case_id: str,
        status: str,
        cs_status: int,
        timeout: datetime | None,
        changed_at: datetime,
    ) -> None:
        case = await store.get_case(ctx.conn, case_id, lock=True)
        now = ctx.now()
        if case.state != "open" or (
            case.status_changed_at is not None and changed_at < case.status_changed_at
        ):
            await store.add_history(ctx.conn, case_id, now, "ignored_change", f"{status} (late)")
            return
        await store.update_case(
            ctx.conn,
            case_id,
            refund_status=status,
            cs_status=cs_status,
            status_changed_at=changed_at,
            deadline=timeout,
        )
        await store.add_history(
            ctx.conn, case_id, now, "platform", f"{status}, cs_status={cs_status}"
        )
        if status in TERMINAL:
            await self._resolve(ctx, case_id, "refunded" if status == "SUCCESS" else "closed")
            return
        if status in SELLER_TURN and timeout is not None:
            if timeout != case.deadline or status != case.refund_status:
                await self._arm_deadline(ctx, case_id, timeout)
        else:  # the buyer's turn, or no deadline: nothing the shop can miss
            await ctx.cancel(REFUND_SLA, case_id)
            await ctx.cancel(REFUND_ALERT, case_id)
        if is_dispute(cs_status) and case.dispute_at is None:
            await self._dispute(ctx, cause, case_id)

    async def _dispute(self, ctx: Context, cause: str, case_id: str) -> None:
        """Platform customer service stepped in: a senior agent takes it, with a summary."""
        now = ctx.now()
        case = await store.update_case(ctx.conn, case_id, dispute_at=now)
        await store.add_history(ctx.conn, case_id, now, "dispute", "平台客服介入")
        await self._hand_off(ctx, case, cause, "senior", "urgent", "refund dispute")
        ctx.emit(
            OrderAlert(
                shop_id=case.shop_id,
                alert_id=derived_id(cause, "dispute-alert", case_id),
                order_id=case.order_id,
                refund_id=case.refund_id,
                kind="refund_dispute",
                detail=f"退款{case.refund_id}进入平台介入(cs_status={case.cs_status})",
                due_at=case.deadline,
                raised_at=now,
            )
        )
        BUSINESS.labels(SERVICE, "dispute").inc()

    async def _resolve(self, ctx: Context, case_id: str, outcome: str) -> None:
        now = ctx.now()
        case = await store.update_case(
            ctx.conn, case_id, state="resolved", outcome=outcome, resolved_at=now
        )
        await store.add_history(ctx.conn, case_id, now, "resolved", outcome)
        await ctx.cancel(REFUND_SLA, case_id)
        await ctx.cancel(REFUND_ALERT, case_id)
        ctx.emit(
            CaseResolved(
                shop_id=case.shop_id,
                case_id=case_id,
                order_id=case.order_id,
                refund_id=case.refund_id,
                outcome=outcome,
                resolved_at=now,
            )
        )
        BUSINESS.labels(SERVICE, f"case_{outcome}").inc()

    # -- deadlines --------------------------------------------------------------------------
    async def _arm_deadline(self, ctx: Context, case_id: str, deadline: datetime) -> None:
        now = ctx.now()
        payload = {"deadline": deadline.isoformat()}
        await ctx.schedule(
            REFUND_SLA,
            case_id,
            handoff_due(deadline, self.s.sla_lead + self.s.sla_margin, now),
            payload,
            replace=True,
        )
        await ctx.schedule(
            REFUND_ALERT,
            case_id,
            alert_due(deadline, self.s.alert_lead, now),
            payload,
            replace=True,
        )

    @staticmethod
    def _waits_on_a_human(case: Row[Any], deadline: str) -> bool:
        """Open, the shop's turn, the deadline armed for, and not settled by the policy."""
        if case.state != "open" or case.deadline is None or case.refund_status not in SELLER_TURN:
            return False
        if case.deadline != datetime.fromisoformat(deadline):
            return False  # the deadline moved on; a newer timer covers it
        settled = case.refund_status == "WAIT_SELLER_AGREE" and case.decision in (
            "approve",
            "reject",
        )
        return not settled

    async def refund_sla(self, ctx: Context, timer: Timer) -> None:
        case = await store.get_case(ctx.conn, timer.key, lock=True)
        if case is None or not self._waits_on_a_human(case, str(timer.payload["deadline"])):
            return
        if case.handed_off_for == case.deadline:
            return  # an agent has it for this deadline already
        cause = derived_id("timer", timer.kind, timer.key, case.deadline.isoformat())
        await self._hand_off(ctx, case, cause, "aftersale", "high", "refund deadline near")

    async def refund_alert(self, ctx: Context, timer: Timer) -> None:
        case = await store.get_case(ctx.conn, timer.key, lock=True)
        if case is None or not self._waits_on_a_human(case, str(timer.payload["deadline"])):
            return
        if case.alerted_for == case.deadline:
            return
        now = ctx.now()
        await store.update_case(ctx.conn, case.case_id, alerted_for=case.deadline)
        await store.add_history(ctx.conn, case.case_id, now, "alert", "平台处理时限将到")
        ctx.emit(
            OrderAlert(
                shop_id=case.shop_id,
                alert_id=derived_id("timer", timer.kind, timer.key, case.deadline.isoformat()),
                order_id=case.order_id,
                refund_id=case.refund_id,
                kind="refund_deadline_near",
                detail=f"退款{case.refund_id}仍待处理({case.refund_status}),平台将于时限自动处理",
                due_at=case.deadline,
                raised_at=now,
            )
        )
        BUSINESS.labels(SERVICE, "refund_alert").inc()

    # -- trade.review.posted: bad reviews get a follow-up -------------------------------------
    async def review_posted(self, ctx: Context, v: ReviewPosted, env: Envelope) -> None:
        fresh = await store.record_review(
            ctx.conn,
            review_id=v.review_id,
            shop_id=v.shop_id,
            order_id=v.order_id,
            buyer_id=v.buyer_id,
            result=v.result,
            posted_at=v.posted_at,
        )
        if not fresh:
            return
        BUSINESS.labels(SERVICE, f"review_{v.result}").inc()
        for word in threat_words(v.content):
            await store.add_signal(
                ctx.conn,
                shop_id=v.shop_id,
                buyer_id=v.buyer_id,
                kind="threat",
                ref_id=f"{v.review_id}:{word}",
                at=v.posted_at,
                detail=word,
            )
        if v.result != "bad":
            return  # good and neutral reviews are counted, nothing more
        now = ctx.now()
        case_id = review_case_id(v.review_id)
        await store.insert_case(
            ctx.conn,
            case_id=case_id,
            shop_id=v.shop_id,
            kind="bad_review",
            state="open",
            order_id=v.order_id,
            buyer_id=v.buyer_id,
            review_id=v.review_id,
            reason="差评",
            opened_at=now,
        )
        await store.add_history(ctx.conn, case_id, now, "opened", "差评回访")
        ctx.emit(
            CaseOpened(
                shop_id=v.shop_id,
                case_id=case_id,
                kind="bad_review",
                order_id=v.order_id,
                buyer_id=v.buyer_id,
                review_id=v.review_id,
                opened_at=now,
            )
        )
        case = await store.get_case(ctx.conn, case_id, lock=True)
        send_at = next_business_time(
            now, self.tz, self.s.business_hours_start, self.s.business_hours_end
        )
        if send_at <= now:
            await self._apologise(ctx, case, env.id)
        else:
            await ctx.schedule(REVIEW_APOLOGY, case_id, send_at)
            await store.add_history(
                ctx.conn, case_id, now, "apology_scheduled", send_at.isoformat()
            )
        await self._hand_off(
            ctx,
            case,
            env.id,
            "aftersale",
            "normal",
            "bad review",
            extra=f"差评内容(已脱敏):{mask(v.content)[:200]}",
        )

    async def review_apology(self, ctx: Context, timer: Timer) -> None:
        case = await store.get_case(ctx.conn, timer.key, lock=True)
        if case is not None and case.state == "open":
            await self._apologise(ctx, case, derived_id("timer", timer.kind, timer.key))

    async def _apologise(self, ctx: Context, case: Row[Any], cause: str) -> None:
        await self._reply(ctx, case, cause, texts.APOLOGY, "apology")
        BUSINESS.labels(SERVICE, "apology").inc()

    # -- cs.message.classified (stage aftersale): answer from the buyer's order ---------------
    async def message_classified(self, ctx: Context, m: MessageClassified, env: Envelope) -> None:
        await store.remember_conversation(
            ctx.conn, m.shop_id, m.buyer_id, m.conversation_id, m.sent_at
        )
        if m.stage != "aftersale":
            return
        for word in threat_words(m.text_masked):
            await store.add_signal(
                ctx.conn,
                shop_id=m.shop_id,
                buyer_id=m.buyer_id,
                kind="threat",
                ref_id=f"{m.message_id}:{word}",
                at=m.sent_at,
                detail=word,
            )
        order_id = m.order_id or m.entities.order_id
        if order_id:
            order = await store.get_order(ctx.conn, m.shop_id, order_id)
        else:
            order = await store.latest_order_of(ctx.conn, m.shop_id, m.buyer_id)
        if order is not None and order.buyer_id != m.buyer_id:
            order = None  # never tell a buyer about someone else's order
        open_case = category = None
        if order is not None:
            row = await store.open_refund_case_for(ctx.conn, m.shop_id, order.order_id)
            if row is not None:
                open_case = OpenCase(row.refund_id, row.refund_status, row.decision, row.deadline)
            rules = self.rules.for_shop(m.shop_id)
            cats = await store.categories_of_order(ctx.conn, m.shop_id, order.order_id)
            category = next((c for c in cats if c in rules.ineligible_categories), None) or (
                cats[0] if cats else None
            )
        a = answer(
            m.intent, order, open_case, category, ctx.now(), self.rules.for_shop(m.shop_id), self.tz
        )
        now = ctx.now()
        if a.text:
            ctx.emit(
                ReplyRequested(
                    shop_id=m.shop_id,
                    reply_request_id=derived_id(env.id, "reply"),
                    conversation_id=m.conversation_id,
                    buyer_id=m.buyer_id,
                    in_reply_to=m.message_id,
                    text=a.text,
                    kind=a.kind,  # type: ignore[arg-type]
                    requested_by=SERVICE,
                    order_id=order.order_id if order else None,
                    requested_at=now,
                )
            )
            BUSINESS.labels(SERVICE, "auto_reply").inc()
        if a.handoff_priority:
            ctx.emit(
                HandoffRequested(
                    shop_id=m.shop_id,
                    handoff_id=derived_id(env.id, "handoff"),
                    conversation_id=m.conversation_id,
                    buyer_id=m.buyer_id,
                    skill="aftersale",
                    priority=a.handoff_priority,  # type: ignore[arg-type]
                    reason=f"intent:{m.intent}",
                    summary=f"{a.why};买家原话(已脱敏):{m.text_masked[:200]}",
                    order_id=order.order_id if order else m.order_id,
                    refund_id=open_case.refund_id if open_case else None,
                    requested_by=SERVICE,
                    requested_at=now,
                )
            )
            BUSINESS.labels(SERVICE, "handoff").inc()

    # -- effects shared by the flows above ------------------------------------------------------
    async def _hand_off(
        self,
        ctx: Context,
        case: Row[Any],
        cause: str,
        skill: str,
        priority: str,
        reason: str,
        *,
        extra: str = "",
    ) -> None:
        now = ctx.now()
        summary = await self._summary(ctx, case)
        conversation_id = await store.conversation_of(ctx.conn, case.shop_id, case.buyer_id)
        ctx.emit(
            HandoffRequested(
                shop_id=case.shop_id,
                handoff_id=derived_id(cause, "handoff", case.case_id, skill),
                conversation_id=conversation_id,
                buyer_id=case.buyer_id,
                skill=skill,  # type: ignore[arg-type]
                priority=priority,  # type: ignore[arg-type]
                reason=reason,
                summary=f"{summary}\n{extra}" if extra else summary,
                order_id=case.order_id,
                refund_id=case.refund_id,
                requested_by=SERVICE,
                requested_at=now,
            )
        )
        await store.update_case(
            ctx.conn, case.case_id, handed_off_at=now, handed_off_for=case.deadline
        )
        await store.add_history(ctx.conn, case.case_id, now, f"handoff_{skill}", reason)
        BUSINESS.labels(SERVICE, f"handoff_{skill}").inc()

    async def _reply(self, ctx: Context, case: Row[Any], cause: str, text: str, kind: str) -> None:
        now = ctx.now()
        conversation_id = await store.conversation_of(ctx.conn, case.shop_id, case.buyer_id)
        ctx.emit(
            ReplyRequested(
                shop_id=case.shop_id,
                reply_request_id=derived_id(cause, "reply", case.case_id, kind),
                conversation_id=conversation_id or f"{case.shop_id}:{case.buyer_id}",
                buyer_id=case.buyer_id,
                text=text,
                kind=kind,  # type: ignore[arg-type]
                sender="system",
                requested_by=SERVICE,
                order_id=case.order_id,
                requested_at=now,
            )
        )
        await store.add_history(ctx.conn, case.case_id, now, f"reply_{kind}", "")

    async def _summary(self, ctx: Context, case: Row[Any]) -> str:
        steps = [f"{h.event}" for h in await store.history(ctx.conn, case.case_id)]
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
