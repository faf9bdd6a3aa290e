"""Events produced by other teams' systems (IM gateway, trade system). Fixed by UPSTREAM.md."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import AwareDatetime, EventPayload

BuyerLevel = Literal["normal", "vip"]
SenderKind = Literal["agent", "bot", "system"]
AgentState = Literal["online", "busy", "offline"]
Skill = Literal["presale", "insale", "aftersale", "vip"]
OrderStatus = Literal[
    "WAIT_BUYER_PAY",
    "WAIT_SELLER_SEND_GOODS",
    "SELLER_CONSIGNED_PART",
    "WAIT_BUYER_CONFIRM_GOODS",
    "TRADE_BUYER_SIGNED",
    "TRADE_FINISHED",
    "TRADE_CLOSED",
    "TRADE_CLOSED_BY_TAOBAO",
]
LogisticsStatus = Literal["ACCEPTED", "IN_TRANSIT", "DELIVERING", "SIGNED", "EXCEPTION"]
RefundPhase = Literal["onsale", "aftersale"]
GoodStatus = Literal["BUYER_NOT_RECEIVED", "BUYER_RECEIVED", "BUYER_RETURNED_GOODS"]
RefundStatus = Literal[
    "WAIT_SELLER_AGREE",
    "WAIT_BUYER_RETURN_GOODS",
    "WAIT_SELLER_CONFIRM_GOODS",
    "SELLER_REFUSE_BUYER",
    "CLOSED",
    "SUCCESS",
]
ReviewResult = Literal["good", "neutral", "bad"]


class MessageReceived(EventPayload):
    """`cs.message.received.v1`: a buyer wrote to the shop."""

    message_id: str
    conversation_id: str
    buyer_id: str
    text: str = Field(min_length=1, max_length=2000)
    sent_at: AwareDatetime
    item_id: str | None = None
    order_id: str | None = None
    buyer_level: BuyerLevel | None = None

    def business_time(self) -> AwareDatetime:
        return self.sent_at


class MessageSent(EventPayload):
    """`cs.message.sent.v1`: a message actually went out to the buyer."""

    message_id: str
    conversation_id: str
    buyer_id: str
    sender_kind: SenderKind
    sender_id: str
    text: str
    sent_at: AwareDatetime
    reply_request_id: str | None = None

    def business_time(self) -> AwareDatetime:
        return self.sent_at


class AgentStatusChanged(EventPayload):
    """`cs.agent.status.v1`: an agent's availability changed."""

    agent_id: str
    status: AgentState
    skills: list[Skill]
    max_concurrent: int = Field(ge=0)
    changed_at: AwareDatetime

    def business_time(self) -> AwareDatetime:
        return self.changed_at


class CsatSubmitted(EventPayload):
    """`cs.csat.submitted.v1`: a buyer rated a conversation."""

    conversation_id: str
    buyer_id: str
    rating: int = Field(ge=1, le=5)
    comment: str | None = None
    submitted_at: AwareDatetime

    def business_time(self) -> AwareDatetime:
        return self.submitted_at


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    item_id: str
    sku_id: str | None = None
    title: str
    quantity: int = Field(ge=1)
    price: int = Field(ge=0, description="fen")


class OrderChanged(EventPayload):
    """`trade.order.changed.v1`: an order was created or changed state."""

    order_id: str
    buyer_id: str
    status: OrderStatus
    previous_status: OrderStatus | None = None
    total_fee: int = Field(ge=0, description="fen")
    items: list[OrderItem]
    created_at: AwareDatetime
    paid_at: AwareDatetime | None = None
    consign_time: AwareDatetime | None = None
    signed_at: AwareDatetime | None = None
    timeout_action_time: AwareDatetime | None = None
    promised_ship_by: AwareDatetime | None = None
    logistics_company: str | None = None
    tracking_no: str | None = None
    receiver_region: str | None = None
    changed_at: AwareDatetime

    def business_time(self) -> AwareDatetime:
        return self.changed_at


class LogisticsUpdated(EventPayload):
    """`trade.logistics.updated.v1`: a tracking event."""

    order_id: str
    logistics_company: str
    tracking_no: str
    status: LogisticsStatus
    description: str
    occurred_at: AwareDatetime

    def business_time(self) -> AwareDatetime:
        return self.occurred_at


class RefundRequested(EventPayload):
    """`trade.refund.requested.v1`: a buyer applied for a refund."""

    refund_id: str
    order_id: str
    buyer_id: str
    refund_phase: RefundPhase
    has_good_return: bool
    good_status: GoodStatus
    reason: str
    description: str | None = None
    refund_fee: int = Field(ge=0, description="fen")
    order_total_fee: int = Field(ge=0, description="fen")
    item_id: str
    item_category: str | None = None
    requested_at: AwareDatetime
    timeout: AwareDatetime

    def business_time(self) -> AwareDatetime:
        return self.requested_at


class RefundChanged(EventPayload):
    """`trade.refund.changed.v1`: a refund moved on."""

    refund_id: str
    order_id: str
    status: RefundStatus
    cs_status: int = Field(ge=1, le=6)
    return_tracking_no: str | None = None
    timeout: AwareDatetime | None = None
    changed_at: AwareDatetime

    def business_time(self) -> AwareDatetime:
        return self.changed_at


class ReviewPosted(EventPayload):
    """`trade.review.posted.v1`: a buyer reviewed an order."""

    review_id: str
    order_id: str
    buyer_id: str
    item_id: str
    result: ReviewResult
    content: str
    posted_at: AwareDatetime

    def business_time(self) -> AwareDatetime:
        return self.posted_at
