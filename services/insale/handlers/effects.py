"""What a domain `Outcome` becomes: emitted events (ids derived from the order and the effect,
so a re-run emits the same ids), durable timers and business counters — as batch `Effects`,
or carried out at once through a `Context` (timer firings)."""

from __future__ import annotations

from datetime import datetime

from services.insale.domain.orders import Order
from services.insale.domain.outcomes import (
    ArmTimer,
    CancelTimer,
    Outcome,
    RaiseAlert,
    TellBuyer,
)
from shared.context import Context
from shared.contracts import EventPayload, OrderAlert, ReplyRequested
from shared.effects import Effects
from shared.ids import derived_id
from shared.observability import BUSINESS

SERVICE = "insale"


def effect_id(order_id: str, *parts: object) -> str:
    """The id of one effect on one order (the n-th reminder, the k-th stall...)."""
    return derived_id(SERVICE, order_id, *(str(p) for p in parts))


def needs_conversation(out: Outcome) -> bool:
    return any(isinstance(a, TellBuyer) for a in out.actions)


def event_of(
    action: TellBuyer | RaiseAlert, order: Order, conversation_id: str, now: datetime
) -> EventPayload:
    if isinstance(action, TellBuyer):
        assert order.buyer_id is not None
        return ReplyRequested(
            shop_id=order.shop_id,
            reply_request_id=effect_id(order.order_id, action.effect),
            conversation_id=conversation_id,
            buyer_id=order.buyer_id,
            text=action.text,
            kind=action.kind,
            sender="system",
            requested_by=SERVICE,
            order_id=order.order_id,
            requested_at=now,
        )
    return OrderAlert(
        shop_id=order.shop_id,
        alert_id=effect_id(order.order_id, action.kind, action.number),
        order_id=order.order_id,
        kind=action.kind,
        detail=action.detail,
        due_at=action.due_at,
        raised_at=now,
    )


def to_effects(out: Outcome, conversation_id: str, now: datetime) -> Effects:
    """For the batch pattern: written at save, counted once the batch has committed."""
    effects = Effects()
    timer_payload = {"order_id": out.order.order_id}
    for action in out.actions:
        if isinstance(action, ArmTimer):
            effects.arm(action.kind, action.key, action.due_at, timer_payload, replace=action.rearm)
        elif isinstance(action, CancelTimer):
            effects.cancel(action.kind, action.key)
        else:
            effects.emit(event_of(action, out.order, conversation_id, now))
    for kind in out.counters:
        effects.count(kind)
    return effects


async def carry_out(ctx: Context, out: Outcome, conversation_id: str) -> None:
    """For a timer firing: the same effects, at once, in the firing's transaction."""
    timer_payload = {"order_id": out.order.order_id}
    for action in out.actions:
        if isinstance(action, ArmTimer):
            await ctx.schedule(
                action.kind, action.key, action.due_at, timer_payload, replace=action.rearm
            )
        elif isinstance(action, CancelTimer):
            await ctx.cancel(action.kind, action.key)
        else:
            ctx.emit(event_of(action, out.order, conversation_id, ctx.now()))
    for kind in out.counters:
        BUSINESS.labels(SERVICE, kind).inc()
