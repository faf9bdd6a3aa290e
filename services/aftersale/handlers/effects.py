"""A domain decision's `Out` as the batch pattern's `Effects`, or written through a timer's
`Context` (events to the outbox, timers in bulk, counters on commit)."""

from __future__ import annotations

from opentelemetry import propagate

from services.aftersale.domain.effects import Out
from shared.context import Context
from shared.effects import Effects, TimerArm
from shared.observability import BUSINESS
from shared.timer_writes import write_timers

SERVICE = "aftersale"


def as_effects(out: Out) -> Effects:
    effects = Effects(counters=list(out.counters))
    for payload in out.events:
        effects.emit(payload)
    effects.timers = list(out.timers)
    return effects


async def write_out(ctx: Context, out: Out) -> None:
    """For a timer handler: what the batch pattern does for a decided record."""
    for payload in out.events:
        ctx.emit(payload)
    if out.timers:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        last: dict[tuple[str, str], TimerArm] = {}
        for t in out.timers:  # the last word on a (kind, key) wins
            last.pop((t.kind, t.key), None)
            last[(t.kind, t.key)] = t
        tp = carrier.get("traceparent")
        await write_timers(ctx.conn, ctx.plumbing.timers, [(arm, tp) for arm in last.values()])
    for kind in out.counters:
        BUSINESS.labels(SERVICE, kind).inc()
