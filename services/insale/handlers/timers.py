"""What happens when each of insale's timers fires: one firing at a time, in the timer
runner's transaction (which marks it fired), on the order it names, locked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.insale import store
from services.insale.domain import firings
from services.insale.domain.orders import Order
from services.insale.domain.outcomes import Outcome
from services.insale.domain.rules import InsaleRules
from services.insale.handlers.effects import SERVICE, carry_out, needs_conversation
from shared.context import Context
from shared.observability import TIMERS_FIRED
from shared.timers import Timer

Firing = Callable[[Order, str, datetime, InsaleRules], Outcome | None]


class TimerHandlers:
    def __init__(self, rules: InsaleRules) -> None:
        self.rules = rules

    async def unpaid_reminder(self, ctx: Context, timer: Timer) -> None:
        await self._fire(ctx, timer, firings.unpaid_reminder)

    async def ship_at_risk(self, ctx: Context, timer: Timer) -> None:
        await self._fire(ctx, timer, firings.ship_at_risk)

    async def ship_missed(self, ctx: Context, timer: Timer) -> None:
        await self._fire(ctx, timer, firings.ship_missed)

    async def logistics_stall(self, ctx: Context, timer: Timer) -> None:
        await self._fire(ctx, timer, firings.logistics_stall)

    async def _fire(self, ctx: Context, timer: Timer, decide: Firing) -> None:
        order = await store.lock_order(ctx.conn, str(timer.payload["order_id"]))
        if order is None:
            return
        out = decide(order, timer.key, ctx.now(), self.rules)
        if out is None:
            return  # superseded
        TIMERS_FIRED.labels(SERVICE, timer.kind).inc()
        conversation = ""
        if needs_conversation(out):
            assert order.buyer_id is not None
            conversation = await store.conversation_of(ctx.conn, order.shop_id, order.buyer_id)
        await carry_out(ctx, out, conversation)
        if out.order != order:
            await store.save_order(ctx.conn, out.order)
