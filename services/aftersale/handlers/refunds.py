"""Refund topics: what their records need loaded, and the domain flow deciding each."""

from __future__ import annotations

from services.aftersale.domain import refunds
from services.aftersale.domain.effects import Turn
from services.aftersale.domain.model import refund_case_id
from services.aftersale.store.book import Wants
from shared.contracts import EventPayload, OrderChanged, RefundChanged, RefundRequested

TOPICS = ("trade.order.changed.v1", "trade.refund.requested.v1", "trade.refund.changed.v1")


def want(w: Wants, p: EventPayload) -> None:
    if isinstance(p, OrderChanged):
        w.order_ids.add(p.order_id)  # and, through the loader, its cases and their buyers
        w.writes_orders = True
        w.buyers.add((p.shop_id, p.buyer_id))
    elif isinstance(p, RefundRequested):
        w.case_ids.add(refund_case_id(p.refund_id))
        w.refund_ids.add(p.refund_id)
        w.order_ids.add(p.order_id)
        w.buyers.add((p.shop_id, p.buyer_id))
    elif isinstance(p, RefundChanged):
        w.refund_ids.add(p.refund_id)


def decide(t: Turn, p: EventPayload, cause: str) -> None:
    if isinstance(p, OrderChanged):
        refunds.order_changed(t, p, cause)
    elif isinstance(p, RefundRequested):
        refunds.refund_requested(t, p, cause)
    elif isinstance(p, RefundChanged):
        refunds.refund_changed(t, p, cause)
    else:
        raise TypeError(f"not a refund event: {type(p).__name__}")
