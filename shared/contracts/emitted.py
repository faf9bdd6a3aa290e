"""Events xiaoer emits. These are contracts other teams subscribe to: change them only compatibly."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import AwareDatetime, EventPayload

Stage = Literal["presale", "insale", "aftersale"]
Intent = Literal[
    # presale
    "greeting", "product_spec", "size_advice", "stock", "price_promotion", "free_shipping",
    "shipping_time", "courier", "invoice", "recommendation", "usage_help", "human_agent",
    "acknowledgement", "other",
    # insale
    "logistics_status", "urge_shipping", "address_change", "payment_issue", "order_modify",
    "cancel_order",
    # aftersale
    "refund", "return_exchange", "quality_issue", "missing_or_wrong_item", "complaint",
]  # fmt: skip
Sentiment = Literal["positive", "neutral", "negative", "angry"]
ReplyKind = Literal[
    "auto_answer", "clarify", "notification", "reminder", "apology", "handoff_notice"
]
Priority = Literal["low", "normal", "high", "urgent"]
AlertKind = Literal[
    "ship_deadline_at_risk", "ship_deadline_missed", "logistics_stalled",
    "refund_deadline_near", "refund_dispute",
]  # fmt: skip
RefundDecision = Literal["approve", "reject", "escalate"]
CaseKind = Literal["refund_only", "return_refund", "exchange", "bad_review", "complaint"]


class Entities(BaseModel):
    """What the classifier found in the text. Free text never leaves presale unmasked."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    height_cm: int | None = None
    weight_kg: float | None = None
    size: str | None = None
    colour: str | None = None
    quantity: int | None = None
    order_id: str | None = None


class MessageClassified(EventPayload):
    """`cs.message.classified.v1`: presale understood one buyer message."""

    message_id: str
    conversation_id: str
    buyer_id: str
    intent: Intent
    confidence: float = Field(ge=0, le=1)
    stage: Stage
    secondary_intents: list[Intent] = Field(default_factory=list)
    sentiment: Sentiment = "neutral"
    entities: Entities = Field(default_factory=Entities)
    text_masked: str = Field(description="the buyer's text with personal data masked")
    item_id: str | None = None
    order_id: str | None = None
    buyer_level: str | None = None
    sent_at: AwareDatetime
    classified_at: AwareDatetime

    def business_time(self) -> AwareDatetime:
        return self.sent_at


class ReplyRequested(EventPayload):
    """`cs.reply.requested.v1`: xiaoer asks the IM gateway to send a message to the buyer."""

    reply_request_id: str
    conversation_id: str
    buyer_id: str
    in_reply_to: str | None = Field(None, description="the buyer message_id this answers")
    text: str
    kind: ReplyKind
    sender: Literal["bot", "system"] = "bot"
    requested_by: str = Field(description="the service that asks, e.g. presale")
    order_id: str | None = None
    kb_version: int | None = None
    requested_at: AwareDatetime

    def business_time(self) -> AwareDatetime:
        return self.requested_at


class ConversationAssigned(EventPayload):
    """`cs.conversation.assigned.v1`: a conversation was handed to a human agent."""

    conversation_id: str
    buyer_id: str | None = None
    agent_id: str
    assigned_at: AwareDatetime
    reason: str
    priority: Priority = "normal"
    skill: str = "presale"
    queued_for_s: float = Field(0, ge=0, description="seconds it waited for a free agent")

    def business_time(self) -> AwareDatetime:
        return self.assigned_at


class ConversationClosed(EventPayload):
    """`cs.conversation.closed.v1`: a session ended after SESSION_GAP of silence."""

    conversation_id: str
    agent_id: str | None = None
    closed_at: AwareDatetime
    reason: str = "idle"

    def business_time(self) -> AwareDatetime:
        return self.closed_at


class HandoffRequested(EventPayload):
    """`cs.handoff.requested.v1`: insale or aftersale asks presale to route a human."""

    handoff_id: str
    conversation_id: str | None = None
    buyer_id: str
    skill: Literal["presale", "insale", "aftersale", "senior"]
    priority: Priority = "normal"
    reason: str
    summary: str = ""
    order_id: str | None = None
    refund_id: str | None = None
    requested_by: str
    requested_at: AwareDatetime

    def business_time(self) -> AwareDatetime:
        return self.requested_at


class OrderAlert(EventPayload):
    """`cs.order.alert.v1`: something about an order needs the shop's attention."""

    alert_id: str
    order_id: str
    kind: AlertKind
    detail: str
    due_at: AwareDatetime | None = None
    raised_at: AwareDatetime
    refund_id: str | None = None

    def business_time(self) -> AwareDatetime:
        return self.raised_at


class RefundDecided(EventPayload):
    """`cs.refund.decided.v1`: the policy engine decided a refund; the rule is always cited."""

    refund_id: str
    order_id: str
    decision: RefundDecision
    rule_id: str
    reason: str
    decided_at: AwareDatetime
    refund_reason: str | None = Field(
        default=None,
        max_length=100,
        description="the platform's reason text of the request, masked (since 2026-12)",
    )
    reason_group: str | None = Field(
        default=None, description="the shop's reason group the reason matched, if any"
    )
    reason_recognised: bool | None = Field(
        default=None,
        description="false when no reason group of the shop knows the reason (rule "
        "`reason.unrecognised` escalates it); null from versions before 2026-12",
    )

    def business_time(self) -> AwareDatetime:
        return self.decided_at


class CaseOpened(EventPayload):
    """`cs.case.opened.v1`: aftersale opened a case."""

    case_id: str
    kind: CaseKind
    order_id: str
    buyer_id: str
    refund_id: str | None = None
    review_id: str | None = None
    opened_at: AwareDatetime
    deadline: AwareDatetime | None = None

    def business_time(self) -> AwareDatetime:
        return self.opened_at


class CaseResolved(EventPayload):
    """`cs.case.resolved.v1`: a case ended."""

    case_id: str
    order_id: str
    refund_id: str | None = None
    outcome: str
    resolved_at: AwareDatetime

    def business_time(self) -> AwareDatetime:
        return self.resolved_at


class KpiSnapshot(EventPayload):
    """`cs.kpi.snapshot.v1`: one agent's KPIs for one hour; a later revision supersedes."""

    agent_id: str
    hour_start: AwareDatetime
    revision: int = Field(ge=1)
    kpis: dict[str, float | int | None]
    computed_at: AwareDatetime

    def business_time(self) -> AwareDatetime:
        return self.hour_start
