"""One realistic example per event, for the catalog and the AsyncAPI document.

A Tmall clothing shop on 双十一 night. Buyers appear only by their pseudonymous id and any
personal data they typed is shown masked, as xiaoer emits it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.contracts import (
    AgentStatusChanged,
    CaseOpened,
    CaseResolved,
    ConversationAssigned,
    ConversationClosed,
    CsatSubmitted,
    Entities,
    EventPayload,
    HandoffRequested,
    KpiSnapshot,
    LogisticsUpdated,
    MessageClassified,
    MessageReceived,
    MessageSent,
    OrderAlert,
    OrderChanged,
    OrderItem,
    QualityFlagged,
    RefundChanged,
    RefundDecided,
    RefundRequested,
    ReplyRequested,
    ReviewPosted,
    SnapshotQuality,
)

CST = timezone(timedelta(hours=8))
SHOP = "shop-tm-7788"
BUYER = "tb_b_3f9a2c71"
CONV = "conv-20261111-004217"
ORDER = "3948571203948571620"
ITEM = "692837465123"
REFUND = "rf-218839201"
AGENT = "agent-xiaomei"


def at(hour: int, minute: int, second: int = 0, day: int = 11) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=CST)


EXAMPLES: dict[str, EventPayload] = {
    "cs.message.received.v1": MessageReceived(
        shop_id=SHOP,
        message_id="msg-8812736",
        conversation_id=CONV,
        buyer_id=BUYER,
        text="亲，我身高165体重52，这件羊毛大衣穿M码还是L码？地址改成[地址]，电话[手机号]",
        sent_at=at(20, 15, 3),
        item_id=ITEM,
        buyer_level="vip",
    ),
    "cs.message.sent.v1": MessageSent(
        shop_id=SHOP,
        message_id="msg-8812741",
        conversation_id=CONV,
        buyer_id=BUYER,
        sender_kind="bot",
        sender_id="xiaoer",
        text="亲，按您165cm/52kg的身材，推荐M码哦～喜欢宽松一点可以选L码。",
        sent_at=at(20, 15, 5),
        reply_request_id="7d0c5a3e-2f41-5b8a-9e61-0c2d4b7f9a13",
    ),
    "cs.agent.status.v1": AgentStatusChanged(
        shop_id=SHOP,
        agent_id=AGENT,
        status="online",
        skills=["presale", "vip"],
        max_concurrent=8,
        changed_at=at(19, 58),
    ),
    "cs.csat.submitted.v1": CsatSubmitted(
        shop_id=SHOP,
        conversation_id=CONV,
        buyer_id=BUYER,
        rating=5,
        comment="客服很耐心，尺码推荐很准",
        submitted_at=at(20, 31),
    ),
    "trade.order.changed.v1": OrderChanged(
        shop_id=SHOP,
        order_id=ORDER,
        buyer_id=BUYER,
        status="WAIT_SELLER_SEND_GOODS",
        previous_status="WAIT_BUYER_PAY",
        total_fee=59900,
        items=[
            OrderItem(
                item_id=ITEM,
                sku_id="5012349876",
                title="双面羊毛大衣 女 中长款 驼色 M",
                quantity=1,
                price=59900,
            )
        ],
        created_at=at(20, 18),
        paid_at=at(20, 19, 30),
        promised_ship_by=at(20, 19, 30, day=13),
        receiver_region="浙江省 杭州市 西湖区",
        changed_at=at(20, 19, 30),
    ),
    "trade.logistics.updated.v1": LogisticsUpdated(
        shop_id=SHOP,
        order_id=ORDER,
        logistics_company="中通快递",
        tracking_no="ZT78512093345",
        status="IN_TRANSIT",
        description="【杭州市】快件已到达 杭州转运中心",
        occurred_at=at(6, 42, day=13),
    ),
    "trade.refund.requested.v1": RefundRequested(
        shop_id=SHOP,
        refund_id=REFUND,
        order_id=ORDER,
        buyer_id=BUYER,
        refund_phase="aftersale",
        has_good_return=True,
        good_status="BUYER_RECEIVED",
        reason="尺码不合适",
        description="穿上偏大，想退货退款",
        refund_fee=59900,
        order_total_fee=59900,
        item_id=ITEM,
        item_category="女装/大衣",
        requested_at=at(10, 5, day=16),
        timeout=at(10, 5, day=18),
    ),
    "trade.refund.changed.v1": RefundChanged(
        shop_id=SHOP,
        refund_id=REFUND,
        order_id=ORDER,
        status="WAIT_BUYER_RETURN_GOODS",
        cs_status=1,
        timeout=at(10, 20, day=23),
        changed_at=at(10, 20, day=16),
    ),
    "trade.review.posted.v1": ReviewPosted(
        shop_id=SHOP,
        review_id="rv-55120934",
        order_id=ORDER,
        buyer_id=BUYER,
        item_id=ITEM,
        result="bad",
        content="颜色和图片差别有点大，而且有线头",
        posted_at=at(21, 3, day=15),
    ),
    "cs.message.classified.v1": MessageClassified(
        shop_id=SHOP,
        message_id="msg-8812736",
        conversation_id=CONV,
        buyer_id=BUYER,
        intent="size_advice",
        confidence=0.93,
        stage="presale",
        secondary_intents=["address_change"],
        sentiment="neutral",
        entities=Entities(height_cm=165, weight_kg=52.0, size="M"),
        text_masked="亲，我身高165体重52，这件羊毛大衣穿M码还是L码？地址改成[地址]，电话[手机号]",
        item_id=ITEM,
        buyer_level="vip",
        sent_at=at(20, 15, 3),
        classified_at=at(20, 15, 3),
    ),
    "cs.reply.requested.v1": ReplyRequested(
        shop_id=SHOP,
        reply_request_id="7d0c5a3e-2f41-5b8a-9e61-0c2d4b7f9a13",
        conversation_id=CONV,
        buyer_id=BUYER,
        in_reply_to="msg-8812736",
        text="亲，按您165cm/52kg的身材，推荐M码哦～喜欢宽松一点可以选L码。",
        kind="auto_answer",
        requested_by="presale",
        kb_version=42,
        requested_at=at(20, 15, 4),
    ),
    "cs.conversation.assigned.v1": ConversationAssigned(
        shop_id=SHOP,
        conversation_id=CONV,
        buyer_id=BUYER,
        agent_id=AGENT,
        assigned_at=at(20, 16, 10),
        reason="buyer asked for a human",
        priority="high",
        skill="vip",
        queued_for_s=12.5,
    ),
    "cs.conversation.closed.v1": ConversationClosed(
        shop_id=SHOP,
        conversation_id=CONV,
        agent_id=AGENT,
        closed_at=at(20, 46, 10),
        reason="idle",
    ),
    "cs.handoff.requested.v1": HandoffRequested(
        shop_id=SHOP,
        handoff_id="c1f7e2a0-3b9d-5e48-8a27-6d1c0b9e4f35",
        conversation_id=CONV,
        buyer_id=BUYER,
        skill="aftersale",
        priority="high",
        reason="quality complaint with negative sentiment",
        summary="买家反映大衣有线头、色差，情绪不满，要求退货",
        order_id=ORDER,
        requested_by="aftersale",
        requested_at=at(21, 5, day=15),
    ),
    "cs.order.alert.v1": OrderAlert(
        shop_id=SHOP,
        alert_id="5a9e0c14-8d3f-5b72-a1e6-2f4c7d9b0e81",
        order_id=ORDER,
        kind="ship_deadline_at_risk",
        detail="付款后已过40小时仍未发货，承诺发货时间 11-13 20:19",
        due_at=at(20, 19, 30, day=13),
        raised_at=at(12, 19, 30, day=13),
    ),
    "cs.refund.decided.v1": RefundDecided(
        shop_id=SHOP,
        refund_id=REFUND,
        order_id=ORDER,
        decision="approve",
        rule_id="R-RETURN-7DAY-UNWORN",
        reason="七天无理由退货，商品已签收未满7天",
        decided_at=at(10, 5, 2, day=16),
    ),
    "cs.case.opened.v1": CaseOpened(
        shop_id=SHOP,
        case_id="0e6b3d27-9c15-5f80-b4a3-7e2d1c6f8a90",
        kind="return_refund",
        order_id=ORDER,
        buyer_id=BUYER,
        refund_id=REFUND,
        opened_at=at(10, 5, 2, day=16),
        deadline=at(10, 5, day=18),
    ),
    "cs.case.resolved.v1": CaseResolved(
        shop_id=SHOP,
        case_id="0e6b3d27-9c15-5f80-b4a3-7e2d1c6f8a90",
        order_id=ORDER,
        refund_id=REFUND,
        outcome="refunded",
        resolved_at=at(15, 40, day=19),
    ),
    "cs.kpi.snapshot.v1": KpiSnapshot(
        shop_id=SHOP,
        agent_id=AGENT,
        hour_start=at(20, 0),
        revision=2,
        kpis={
            "conversations": 37,
            "first_response_s_avg": 8.4,
            "response_rate_3min": 0.97,
            "conversion_rate": 0.41,
            "csat_avg": 4.8,
        },
        computed_at=at(21, 5),
        quality=SnapshotQuality(
            inspected_replies=212,
            flags={"slow_reply": 2, "ad_law": 1},
            scored_sessions=36,
            score_avg=98.9,
            failed_sessions=0,
        ),
    ),
    "cs.quality.flagged.v1": QualityFlagged(
        shop_id=SHOP,
        flag_id="5b1f0c9e-3a7d-5e42-8c16-2d9f4a7b0e31",
        conversation_id=CONV,
        agent_id=AGENT,
        message_id="msg-8812741",
        category="off_platform",
        rule_id="off_platform.wechat",
        severity="block",
        start=4,
        end=6,
        suggestion="不得引导买家添加微信；请在旺旺/千牛内沟通",
        rules_version="2026.12-1",
        sent_at=at(20, 16, 40),
        flagged_at=at(20, 16, 41),
    ),
}

EXAMPLE_EVENT_IDS: dict[str, str] = {
    name: f"019a7b3c-{i:04x}-7e21-9c4d-5f6a7b8c9d{i:02x}" for i, name in enumerate(EXAMPLES)
}
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
