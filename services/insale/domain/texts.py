"""Everything insale says to buyers, in one place (shop voice: 亲, polite, short)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from services.insale.domain.orders import Order

DEFAULT_REMINDER = (
    "亲，您拍下的「{item}」还没有付款哦～订单将在{close_time}自动关闭，"
    "宝贝库存有限，喜欢的话请尽快付款，有任何问题随时问我们～"
)
UNKNOWN_CLOSE_TIME = "付款超时后"

STATUS_TEXT = {
    "WAIT_BUYER_PAY": "待付款",
    "WAIT_SELLER_SEND_GOODS": "待发货",
    "SELLER_CONSIGNED_PART": "部分已发货",
    "WAIT_BUYER_CONFIRM_GOODS": "已发货",
    "TRADE_BUYER_SIGNED": "已签收",
    "TRADE_FINISHED": "交易成功",
    "TRADE_CLOSED": "已关闭",
    "TRADE_CLOSED_BY_TAOBAO": "已关闭",
}
TRACKING_TEXT = {
    "ACCEPTED": "快递已揽收",
    "IN_TRANSIT": "运输中",
    "DELIVERING": "派送中",
    "SIGNED": "已签收",
    "EXCEPTION": "物流异常",
}


def when(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def item_name(order: Order) -> str:
    if len(order.items) > 1:
        return f"{order.first_title}等{len(order.items)}件宝贝"
    return order.first_title


def reminder(order: Order, template: str | None, tz: ZoneInfo) -> str:
    close = when(order.pay_deadline, tz) if order.pay_deadline else UNKNOWN_CLOSE_TIME
    return (template or DEFAULT_REMINDER).format(item=item_name(order), close_time=close)


def shipped(order: Order) -> str:
    return (
        f"亲，您购买的「{item_name(order)}」已经发货啦！快递公司：{order.logistics_company}，"
        f"运单号：{order.tracking_no}，可在订单详情里随时查看物流～"
    )


def stall_apology(order: Order, exception: bool) -> str:
    what = "出现了异常" if exception else "有一段时间没有更新了"
    return (
        f"亲，非常抱歉，您的包裹（{order.logistics_company or '快递'} {order.tracking_no or ''}）"
        f"物流信息{what}，我们已经联系快递核实，有进展会第一时间告诉您，给您添麻烦了～"
    )


def tracking_line(order: Order, tz: ZoneInfo) -> str:
    if order.last_tracking_at is None:
        return "暂时还没有物流更新，快递揽收后就能看到啦"
    status = TRACKING_TEXT.get(order.last_tracking_status or "", "")
    text = order.last_tracking_text or ""
    return f"最新物流（{when(order.last_tracking_at, tz)}）：{status} {text}".strip()


def order_line(order: Order, tz: ZoneInfo) -> str:
    created = when(order.created_at, tz) if order.created_at else ""
    status = STATUS_TEXT.get(order.status or "", "")
    return f"订单{order.order_id}（{item_name(order)}，{created}，{status}）"


def which_order(recent: Sequence[Order], tz: ZoneInfo) -> str:
    if not recent:
        return "亲，没有查到您在本店的订单呢，麻烦发一下订单号，我马上帮您查～"
    lines = "\n".join(f"{i}. {order_line(o, tz)}" for i, o in enumerate(recent, 1))
    return f"亲，请问您问的是哪一笔订单呢？您最近的订单有：\n{lines}\n回复订单号就可以啦～"
