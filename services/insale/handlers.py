"""What insale does with each event it consumes, and when each of its timers fires.

Every handler locks the order's projection row, applies the event, then `_follow_up` brings
timers and one-time notifications in line with the new state. Effects are decided from the
projection, never from the event alone, so late, duplicated or reordered events cannot
produce an effect twice or one that no longer applies. Ids of emitted events derive from the
order and the effect (e.g. the n-th reminder), so a re-run emits the same ids again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from services.insale import store
from services.insale.domain import answers, logistics, reminders, ship_watch, texts
from services.insale.domain.logistics import StallPolicy
from services.insale.domain.orders import Order, apply_order_event, apply_tracking_event
from services.insale.domain.quiet_hours import QuietHours
from services.insale.domain.reminders import ReminderPolicy
from services.insale.domain.ship_watch import ShipPolicy
from services.insale.settings import InsaleSettings
from shared.cloudevents import Envelope
from shared.context import Context
from shared.contracts import (
    HandoffRequested,
    LogisticsUpdated,
    MessageClassified,
    OrderAlert,
    OrderChanged,
    ReplyRequested,
)
from shared.ids import derived_id
from shared.masking import mask
from shared.observability import BUSINESS, TIMERS_FIRED
from shared.timers import Timer

SERVICE = "insale"
UNPAID_REMINDER = "unpaid_reminder"
SHIP_AT_RISK = "ship_at_risk"
SHIP_MISSED = "ship_missed"
LOGISTICS_STALL = "logistics_stall"


def effect_id(order_id: str, *parts: object) -> str:
    """The id of one effect on one order (the n-th reminder, the k-th stall...)."""
    return derived_id(SERVICE, order_id, *(str(p) for p in parts))


class Handlers:
    def __init__(self, settings: InsaleSettings) -> None:
        self.tz = ZoneInfo(settings.shop_timezone)
        self.reminders = ReminderPolicy(
            after=settings.insale_unpaid_reminder_after,
            max_reminders=settings.insale_unpaid_max_reminders,
            every=settings.insale_unpaid_reminder_every,
            min_lead=settings.insale_unpaid_min_lead,
            quiet=QuietHours(settings.insale_quiet_start, settings.insale_quiet_end, self.tz),
            opted_out=frozenset(settings.insale_reminder_opt_out),
        )
        self.templates = dict(settings.insale_reminder_templates)
        self.ship = ShipPolicy(settings.insale_ship_within, settings.insale_ship_risk_lead)
        self.stall = StallPolicy(settings.logistics_stall_after)
        self.recent_limit = settings.insale_recent_orders_listed

    # -- consumed events -------------------------------------------------------------------
    async def order_changed(self, ctx: Context, e: OrderChanged, env: Envelope) -> None:
        before = await store.lock_order(ctx.conn, e.order_id)
        order = await self._follow_up(ctx, before, apply_order_event(before, e))
        await store.save_order(ctx.conn, order)

    async def logistics_updated(self, ctx: Context, e: LogisticsUpdated, env: Envelope) -> None:
        before = await store.lock_order(ctx.conn, e.order_id)
        change = apply_tracking_event(before, e, mask(e.description))
        order = change.order
        if logistics.stall_ends(order, change.newest, e.status):
            order = replace(order, stalled=False)
            BUSINESS.labels(SERVICE, "logistics_stall_ended").inc()
        order = await self._follow_up(ctx, before, order)
        await store.save_order(ctx.conn, order)

    async def message_classified(self, ctx: Context, m: MessageClassified, env: Envelope) -> None:
        """A buyer's in-sale question: answer it from the projection, hand off when needed.

        Every classified message, whatever its stage, tells where the buyer talks to the shop:
        insale's own messages to the buyer go to that conversation.
        """
        await store.remember_conversation(
            ctx.conn, m.shop_id, m.buyer_id, m.conversation_id, m.sent_at
        )
        if m.stage != "insale":
            return
        recent = await store.buyer_orders(ctx.conn, m.shop_id, m.buyer_id, self.recent_limit)
        named = None
        named_id = m.order_id or m.entities.order_id
        if named_id:
            # Only the buyer's own order in this shop: never reveal (or touch) another's.
            named = await store.buyer_order(ctx.conn, m.shop_id, m.buyer_id, named_id)
        order = answers.pick_order(named_id, named, recent)
        reply = answers.answer(m.intent, order, recent, ctx.now(), self.ship, self.tz)
        ctx.emit(
            ReplyRequested(
                shop_id=m.shop_id,
                reply_request_id=derived_id(env.id, "reply"),
                conversation_id=m.conversation_id,
                buyer_id=m.buyer_id,
                in_reply_to=m.message_id,
                text=reply.text,
                kind=reply.kind,
                sender="bot",
                requested_by=SERVICE,
                order_id=reply.order_id,
                requested_at=ctx.now(),
            )
        )
        BUSINESS.labels(SERVICE, f"answer_{m.intent}").inc()
        if reply.handoff is None or order is None:
            return
        state = texts.STATUS_TEXT.get(order.status or "", "未知")
        ctx.emit(
            HandoffRequested(
                shop_id=m.shop_id,
                handoff_id=derived_id(env.id, "handoff"),
                conversation_id=m.conversation_id,
                buyer_id=m.buyer_id,
                skill="insale",
                priority=reply.handoff.priority,
                reason=reply.handoff.reason,
                summary=f"[{m.intent}] 订单{order.order_id}（{state}）：{m.text_masked}"[:500],
                order_id=order.order_id,
                requested_by=SERVICE,
                requested_at=ctx.now(),
            )
        )
        BUSINESS.labels(SERVICE, f"handoff_{reply.handoff.priority}").inc()

    # -- timers ----------------------------------------------------------------------------
    async def unpaid_reminder(self, ctx: Context, timer: Timer) -> None:
        order = await store.lock_order(ctx.conn, str(timer.payload["order_id"]))
        if order is None or order.reminder_key != timer.key:
            return  # superseded
        TIMERS_FIRED.labels(SERVICE, timer.kind).inc()
        decision = reminders.decide(order, ctx.now(), self.reminders)
        if isinstance(decision, reminders.Defer):
            key = f"{order.order_id}#{order.reminders_sent + 1}@{decision.until:%Y%m%dT%H%M}"
            await self._schedule(ctx, UNPAID_REMINDER, key, decision.until, order)
            order = replace(order, reminder_key=key)
        elif isinstance(decision, reminders.Send):
            await self._send_reminder(ctx, order, decision.number)
            order = replace(order, reminders_sent=decision.number)
            due = reminders.planned_at(order, self.reminders, last_sent=ctx.now())
            if due is not None:
                key = f"{order.order_id}#{decision.number + 1}"
                await self._schedule(ctx, UNPAID_REMINDER, key, due, order)
                order = replace(order, reminder_key=key)
        else:
            BUSINESS.labels(SERVICE, "reminder_dropped").inc()
        await store.save_order(ctx.conn, order)

    async def ship_at_risk(self, ctx: Context, timer: Timer) -> None:
        order = await store.lock_order(ctx.conn, str(timer.payload["order_id"]))
        if order is None or order.ship_watch_key != timer.key:
            return
        TIMERS_FIRED.labels(SERVICE, timer.kind).inc()
        if ship_watch.at_risk_now(order, ctx.now(), self.ship):
            deadline = ship_watch.ship_by(order, self.ship)
            self._alert(ctx, order, "ship_deadline_at_risk", deadline, f"订单{order.order_id}"
                        f"须在{texts.when(deadline, self.tz)}前发货，至今未发货")  # fmt: skip
            await store.save_order(ctx.conn, replace(order, ship_risk_alerted=True))

    async def ship_missed(self, ctx: Context, timer: Timer) -> None:
        order = await store.lock_order(ctx.conn, str(timer.payload["order_id"]))
        if order is None or order.ship_watch_key != timer.key:
            return
        TIMERS_FIRED.labels(SERVICE, timer.kind).inc()
        if ship_watch.missed_now(order, ctx.now(), self.ship):
            deadline = ship_watch.ship_by(order, self.ship)
            self._alert(ctx, order, "ship_deadline_missed", deadline, f"订单{order.order_id}"
                        f"承诺{texts.when(deadline, self.tz)}前发货，已超时未发货")  # fmt: skip
            await store.save_order(ctx.conn, replace(order, ship_missed_alerted=True))

    async def logistics_stall(self, ctx: Context, timer: Timer) -> None:
        order = await store.lock_order(ctx.conn, str(timer.payload["order_id"]))
        if order is None or logistics.stall_key(order) != timer.key:
            return
        TIMERS_FIRED.labels(SERVICE, timer.kind).inc()
        if logistics.silent_too_long(order, ctx.now(), self.stall):
            order = await self._report_stall(ctx, order, exception=False)
            await store.save_order(ctx.conn, order)

    # -- keeping timers and one-time effects in line with the order ------------------------
    async def _follow_up(self, ctx: Context, before: Order | None, order: Order) -> Order:
        if not order.known:
            return order  # only tracking events so far: nothing to say to an unknown buyer
        order = await self._plan_reminder(ctx, before, order)
        order = await self._watch_shipping(ctx, order)
        order = await self._notify_shipped(ctx, order)
        return await self._watch_stall(ctx, before, order)

    async def _plan_reminder(self, ctx: Context, before: Order | None, order: Order) -> Order:
        if order.unpaid:
            if order.reminder_key is None:
                due = reminders.planned_at(order, self.reminders)
                if due is not None:
                    key = f"{order.order_id}#1"
                    await self._schedule(ctx, UNPAID_REMINDER, key, due, order)
                    return replace(order, reminder_key=key)
            return order
        if order.reminder_key is not None and before is not None and before.unpaid:
            await ctx.cancel(UNPAID_REMINDER, order.reminder_key)  # paid or closed: moot
        return order

    async def _watch_shipping(self, ctx: Context, order: Order) -> Order:
        deadline = ship_watch.ship_by(order, self.ship)
        if ship_watch.watched(order) and deadline is not None:
            key = ship_watch.watch_key(order, deadline)
            if order.ship_watch_key == key:
                return order
            await self._cancel_ship_watch(ctx, order)
            # Re-armed even if once cancelled: the alert flags, not the timers, make them once.
            if not order.ship_risk_alerted:
                due = ship_watch.risk_due(deadline, self.ship)
                await self._schedule(ctx, SHIP_AT_RISK, key, due, order, rearm=True)
            if not order.ship_missed_alerted:
                await self._schedule(ctx, SHIP_MISSED, key, deadline, order, rearm=True)
            return replace(order, ship_watch_key=key)
        if order.ship_watch_key is not None and not ship_watch.watched(order):
            await self._cancel_ship_watch(ctx, order)  # shipped or closed
            return replace(order, ship_watch_key=None)
        return order

    async def _cancel_ship_watch(self, ctx: Context, order: Order) -> None:
        if order.ship_watch_key is not None:
            await ctx.cancel(SHIP_AT_RISK, order.ship_watch_key)
            await ctx.cancel(SHIP_MISSED, order.ship_watch_key)

    async def _notify_shipped(self, ctx: Context, order: Order) -> Order:
        if not logistics.should_notify_shipped(order):
            return order
        await self._tell_buyer(ctx, order, texts.shipped(order), "notification", "shipped")
        BUSINESS.labels(SERVICE, "shipped_notified").inc()
        return replace(order, shipped_notified=True)

    async def _watch_stall(self, ctx: Context, before: Order | None, order: Order) -> Order:
        if order.last_tracking_status == "EXCEPTION" and order.in_transit and not order.stalled:
            return await self._report_stall(ctx, order, exception=True)
        if logistics.stall_watched(order):
            due = logistics.stall_due(order, self.stall)
            assert due is not None
            key = logistics.stall_key(order)
            await ctx.schedule(
                LOGISTICS_STALL, key, due, {"order_id": order.order_id}, replace=True
            )
        elif before is not None and before.in_transit and not order.in_transit:
            await ctx.cancel(LOGISTICS_STALL, logistics.stall_key(order))  # delivered or closed
        return order

    async def _report_stall(self, ctx: Context, order: Order, *, exception: bool) -> Order:
        """One apology and one alert per stall; the silence timer of this stall is done."""
        await ctx.cancel(LOGISTICS_STALL, logistics.stall_key(order))
        number = order.stalls_reported + 1
        await self._tell_buyer(
            ctx, order, texts.stall_apology(order, exception), "apology", f"stall:{number}"
        )
        cause = "物流异常" if exception else "物流长时间未更新"
        last = order.last_tracking_text or "无"
        self._alert(
            ctx,
            order,
            "logistics_stalled",
            None,
            f"订单{order.order_id}{cause}（{order.logistics_company} {order.tracking_no}，"
            f"最新：{last}）",
            number=number,
        )
        BUSINESS.labels(SERVICE, "logistics_stalled").inc()
        return replace(order, stalls_reported=number, stalled=True)

    # -- effects ---------------------------------------------------------------------------
    async def _send_reminder(self, ctx: Context, order: Order, number: int) -> None:
        text = texts.reminder(order, self.templates.get(order.shop_id), self.tz)
        await self._tell_buyer(ctx, order, text, "reminder", f"reminder:{number}")
        BUSINESS.labels(SERVICE, "reminder_sent").inc()

    async def _tell_buyer(
        self, ctx: Context, order: Order, text: str, kind: str, effect: str
    ) -> None:
        """A system message to the buyer, in their latest conversation with the shop."""
        assert order.buyer_id is not None
        ctx.emit(
            ReplyRequested(
                shop_id=order.shop_id,
                reply_request_id=effect_id(order.order_id, effect),
                conversation_id=await store.conversation_of(
                    ctx.conn, order.shop_id, order.buyer_id
                ),
                buyer_id=order.buyer_id,
                text=text,
                kind=kind,  # type: ignore[arg-type]
                sender="system",
                requested_by=SERVICE,
                order_id=order.order_id,
                requested_at=ctx.now(),
            )
        )

    def _alert(
        self,
        ctx: Context,
        order: Order,
        kind: str,
        due_at: datetime | None,
        detail: str,
        number: int = 1,
    ) -> None:
        ctx.emit(
            OrderAlert(
                shop_id=order.shop_id,
                alert_id=effect_id(order.order_id, kind, number),
                order_id=order.order_id,
                kind=kind,  # type: ignore[arg-type]
                detail=detail,
                due_at=due_at,
                raised_at=ctx.now(),
            )
        )
        BUSINESS.labels(SERVICE, f"alert_{kind}").inc()

    async def _schedule(
        self, ctx: Context, kind: str, key: str, due: datetime, order: Order, *, rearm: bool = False
    ) -> None:
        await ctx.schedule(kind, key, due, {"order_id": order.order_id}, replace=rearm)
