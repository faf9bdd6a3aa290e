"""The durable timers: each firing loads its case's book, runs the domain flow and saves,
in the timer runner's transaction (one firing at a time, as before)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.aftersale.domain import refunds, reviews, sla
from services.aftersale.domain.book import View
from services.aftersale.domain.effects import (
    REFUND_ALERT,
    REFUND_DECIDE,
    REFUND_SLA,
    REVIEW_APOLOGY,
    Config,
    Out,
    Turn,
)
from services.aftersale.handlers.effects import write_out
from services.aftersale.store.book import Wants, load_book, save_book
from shared.context import Context
from shared.ids import derived_id
from shared.timer_runner import TimerHandler
from shared.timers import Timer


class Deadlines:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg

    def handlers(self) -> dict[str, TimerHandler]:
        return {
            REFUND_DECIDE: self.refund_decide,
            REFUND_SLA: self.refund_sla,
            REFUND_ALERT: self.refund_alert,
            REVIEW_APOLOGY: self.review_apology,
        }

    async def refund_decide(self, ctx: Context, timer: Timer) -> None:
        """The order facts never came within the grace period: decide with what is known."""
        cause = derived_id("timer", timer.kind, timer.key)
        await self._run(ctx, timer, lambda t: refunds.decide_case(t, timer.key, cause))

    async def refund_sla(self, ctx: Context, timer: Timer) -> None:
        deadline = _deadline(timer)
        await self._run(ctx, timer, lambda t: sla.on_sla_timer(t, timer.kind, timer.key, deadline))

    async def refund_alert(self, ctx: Context, timer: Timer) -> None:
        deadline = _deadline(timer)
        await self._run(
            ctx, timer, lambda t: sla.on_alert_timer(t, timer.kind, timer.key, deadline)
        )

    async def review_apology(self, ctx: Context, timer: Timer) -> None:
        cause = derived_id("timer", timer.kind, timer.key)
        await self._run(ctx, timer, lambda t: reviews.on_apology_timer(t, timer.key, cause))

    async def _run(self, ctx: Context, timer: Timer, step: Callable[[Turn], None]) -> None:
        book = await load_book(ctx.conn, Wants(case_ids={timer.key}))
        t = Turn(View(book), Out(), self.cfg, ctx.now())
        step(t)
        book.apply(t.v)
        await save_book(ctx.conn, book)
        await write_out(ctx, t.out)


def _deadline(timer: Timer) -> datetime:
    return datetime.fromisoformat(str(timer.payload["deadline"]))
