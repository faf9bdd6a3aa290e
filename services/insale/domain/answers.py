"""Answers to buyers' in-sale questions, from the order projection.

Each intent is answered according to the order's state. When a person must act (change an
address, modify or cancel an order, sort out a payment) the question is also handed to an
insale agent; before shipping that is urgent, so the hand-off is high priority.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from services.insale.domain import texts
from services.insale.domain.orders import Order
from services.insale.domain.ship_watch import ShipPolicy, ship_by

INSALE_INTENTS = frozenset(
    {"logistics_status", "urge_shipping", "address_change", "order_modify", "cancel_order",
     "payment_issue"}
)  # fmt: skip
Priority = Literal["low", "normal", "high", "urgent"]
ReplyKind = Literal["auto_answer", "clarify", "handoff_notice"]


@dataclass(frozen=True)
class Handoff:
    priority: Priority
    reason: str


@dataclass(frozen=True)
class Answer:
    text: str
    kind: ReplyKind
    order_id: str | None = None
    handoff: Handoff | None = None


def pick_order(named_id: str | None, named: Order | None, orders: Sequence[Order]) -> Order | None:
    """The order a question is about: the one named, else the buyer's only open order.

    An order named but unknown (or not the buyer's) is not guessed at: insale asks which one.
    """
    if named_id:
        return named
    open_orders = [o for o in orders if not o.closed and not o.finished]
    if len(open_orders) == 1:
        return open_orders[0]
    if not open_orders and len(orders) == 1:
        return orders[0]
    return None


def before_shipping(order: Order) -> bool:
    return not order.shipped and not order.closed and order.rank < 4


def answer(
    intent: str,
    order: Order | None,
    recent: Sequence[Order],
    now: datetime,
    ship: ShipPolicy,
    tz: ZoneInfo,
) -> Answer:
    if order is None:
        return Answer(texts.which_order(recent, tz), "clarify")
    rule = _RULES.get(intent, _other)
    return rule(order, now, ship, tz)


def _handoff(order: Order, text: str, reason: str, *, urgent: bool) -> Answer:
    priority: Priority = "high" if urgent else "normal"
    return Answer(text, "handoff_notice", order.order_id, Handoff(priority, reason))


def _logistics_status(order: Order, now: datetime, ship: ShipPolicy, tz: ZoneInfo) -> Answer:
    if order.closed:
        return Answer(
            f"亲，{texts.order_line(order, tz)}已经关闭了哦～", "auto_answer", order.order_id
        )
    if order.unpaid:
        return Answer(
            f"亲，{texts.order_line(order, tz)}还没有付款，付款后我们会尽快为您发货～",
            "auto_answer",
            order.order_id,
        )
    if not order.shipped:
        return _promise(order, now, ship, tz)
    carrier = f"{order.logistics_company or '快递'}，运单号{order.tracking_no or '暂无'}"
    return Answer(
        f"亲，您的订单已由{carrier}发出。{texts.tracking_line(order, tz)}",
        "auto_answer",
        order.order_id,
    )


def _promise(order: Order, now: datetime, ship: ShipPolicy, tz: ZoneInfo) -> Answer:
    deadline = ship_by(order, ship)
    if deadline is None:
        return Answer("亲，我们会尽快为您发货的～", "auto_answer", order.order_id)
    if now >= deadline:
        return _handoff(
            order,
            f"亲，非常抱歉，您的订单原定{texts.when(deadline, tz)}前发货，现在还没有发出，"
            "已经为您加急并请专人跟进～",
            "ship_deadline_passed",
            urgent=True,
        )
    return Answer(
        f"亲，您的订单会在{texts.when(deadline, tz)}前发货，已经帮您催促仓库尽快安排啦～",
        "auto_answer",
        order.order_id,
    )


def _urge_shipping(order: Order, now: datetime, ship: ShipPolicy, tz: ZoneInfo) -> Answer:
    if order.paid and not order.shipped and not order.closed:
        return _promise(order, now, ship, tz)
    return _logistics_status(order, now, ship, tz)


def _address_change(order: Order, now: datetime, ship: ShipPolicy, tz: ZoneInfo) -> Answer:
    if order.closed or order.delivered:
        return Answer(
            f"亲，{texts.order_line(order, tz)}已经无法修改地址了哦，如有需要可以重新下单～",
            "auto_answer",
            order.order_id,
        )
    if before_shipping(order):
        return _handoff(
            order,
            "亲，收到～已经为您转给专人修改收货地址，发货前一定改好，请稍等～",
            "address_change_before_shipping",
            urgent=True,
        )
    return _handoff(
        order,
        "亲，包裹已经发出，我们请专人联系快递为您改派，请稍等～",
        "address_change_after_shipping",
        urgent=False,
    )


def _order_modify(order: Order, now: datetime, ship: ShipPolicy, tz: ZoneInfo) -> Answer:
    if before_shipping(order):
        return _handoff(
            order,
            "亲，收到～已经为您转给专人修改订单，发货前为您处理好，请稍等～",
            "order_modify_before_shipping",
            urgent=True,
        )
    return Answer(
        "亲，订单已经发货（或已关闭），无法再修改了，收到货后如有需要可以申请退换哦～",
        "auto_answer",
        order.order_id,
    )


def _cancel_order(order: Order, now: datetime, ship: ShipPolicy, tz: ZoneInfo) -> Answer:
    if order.closed:
        return Answer("亲，这笔订单已经关闭了，不会扣款的哦～", "auto_answer", order.order_id)
    if order.unpaid:
        return Answer(
            "亲，未付款的订单可以在订单详情里直接取消，不付款的话到时也会自动关闭哦～",
            "auto_answer",
            order.order_id,
        )
    if before_shipping(order):
        return _handoff(
            order,
            "亲，收到～已经请专人为您拦截发货并处理取消，请稍等～",
            "cancel_before_shipping",
            urgent=True,
        )
    if order.in_transit:
        return _handoff(
            order,
            "亲，包裹已经发出，我们请专人尝试拦截；也可以拒收或收货后申请退款哦～",
            "cancel_after_shipping",
            urgent=False,
        )
    return Answer(
        "亲，包裹已经签收，如需退货退款可以在订单详情里申请售后哦～", "auto_answer", order.order_id
    )


def _payment_issue(order: Order, now: datetime, ship: ShipPolicy, tz: ZoneInfo) -> Answer:
    if order.unpaid:
        return _handoff(
            order,
            "亲，付款遇到问题了吗？已经请专人协助您，请稍等～",
            "payment_issue_unpaid",
            urgent=True,
        )
    if order.closed:
        return Answer(
            "亲，这笔订单已经关闭，如有扣款会原路退回的哦～", "auto_answer", order.order_id
        )
    paid = f"（{texts.when(order.paid_at, tz)}）" if order.paid_at else ""
    return Answer(f"亲，我们已经收到您的付款{paid}啦，请放心～", "auto_answer", order.order_id)


def _other(order: Order, now: datetime, ship: ShipPolicy, tz: ZoneInfo) -> Answer:
    return _handoff(
        order,
        "亲，已经为您转接专人客服，请稍等～",
        "insale_question",
        urgent=before_shipping(order),
    )


_RULES = {
    "logistics_status": _logistics_status,
    "urge_shipping": _urge_shipping,
    "address_change": _address_change,
    "order_modify": _order_modify,
    "cancel_order": _cancel_order,
    "payment_issue": _payment_issue,
}
