"""Events produced by other teams' systems (IM gateway, trade system). Fixed by UPSTREAM.md."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import (
    Count,
    Deadline,
    EventPayload,
    Fen,
    FreeText,
    HappenedAt,
    Id,
    Label,
    LongId,
    MessageText,
    Name,
    Title,
)

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

    message_id: LongId
    conversation_id: LongId
    buyer_id: LongId
    text: MessageText
    sent_at: HappenedAt
    item_id: Id | None = None
    order_id: Id | None = None
    buyer_level: BuyerLevel | None = None

    def business_time(self) -> datetime:
        return self.sent_at


class MessageSent(EventPayload):
    """`cs.message.sent.v1`: a message actually went out to the buyer."""

    message_id: LongId
    conversation_id: LongId
    buyer_id: LongId
    sender_kind: SenderKind
    sender_id: Id
    text: FreeText
    sent_at: HappenedAt
    reply_request_id: LongId | None = None

    def business_time(self) -> datetime:
        return self.sent_at


class AgentStatusChanged(EventPayload):
    """`cs.agent.status.v1`: an agent's availability changed."""

    agent_id: Id
    status: AgentState
    skills: list[Skill] = Field(max_length=20)
    max_concurrent: Count
    changed_at: HappenedAt

    def business_time(self) -> datetime:
        return self.changed_at


class CsatSubmitted(EventPayload):
    """`cs.csat.submitted.v1`: a buyer rated a conversation."""

    conversation_id: LongId
    buyer_id: LongId
    rating: int = Field(ge=1, le=5)
    comment: FreeText | None = None
    submitted_at: HappenedAt

    def business_time(self) -> datetime:
        return self.submitted_at


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    item_id: Id
    sku_id: Name | None = None
    title: Title
    quantity: Count = Field(ge=1)
    price: Fen


class OrderChanged(EventPayload):
    """`trade.order.changed.v1`: an order was created or changed state."""

    order_id: Id
    buyer_id: LongId
    status: OrderStatus
    previous_status: OrderStatus | None = None
    total_fee: Fen
    items: list[OrderItem] = Field(max_length=500)
    created_at: HappenedAt
    paid_at: HappenedAt | None = None
    consign_time: HappenedAt | None = None
    signed_at: HappenedAt | None = None
    timeout_action_time: Deadline | None = None
    promised_ship_by: Deadline | None = None
    logistics_company: Name | None = None
    tracking_no: Name | None = None
    receiver_region: Label | None = None
    changed_at: HappenedAt

    def business_time(self) -> datetime:
        return self.changed_at


class LogisticsUpdated(EventPayload):
    """`trade.logistics.updated.v1`: a tracking event."""

    order_id: Id
    logistics_company: Name
    tracking_no: Name
    status: LogisticsStatus
    description: Title
    occurred_at: HappenedAt

    def business_time(self) -> datetime:
        return self.occurred_at


class RefundRequested(EventPayload):
    """`trade.refund.requested.v1`: a buyer applied for a refund."""

    refund_id: Id
    order_id: Id
    buyer_id: LongId
    refund_phase: RefundPhase
    has_good_return: bool
    good_status: GoodStatus
    reason: Label
    description: FreeText | None = None
    refund_fee: Fen
    order_total_fee: Fen
    item_id: Id
    item_category: Name | None = None
    requested_at: HappenedAt
    timeout: Deadline

    def business_time(self) -> datetime:
        return self.requested_at


class RefundChanged(EventPayload):
    """`trade.refund.changed.v1`: a refund moved on."""

    refund_id: Id
    order_id: Id
    status: RefundStatus
    cs_status: int = Field(ge=1, le=6)
    return_tracking_no: Name | None = None
    timeout: Deadline | None = None
    changed_at: HappenedAt

    def business_time(self) -> datetime:
        return self.changed_at


class ReviewPosted(EventPayload):
    """`trade.review.posted.v1`: a buyer reviewed an order."""

    review_id: Id
    order_id: Id
    buyer_id: LongId
    item_id: Id
    result: ReviewResult
    content: FreeText
    posted_at: HappenedAt

    def business_time(self) -> datetime:
        return self.posted_at
