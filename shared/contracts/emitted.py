"""Events xiaoer emits. These are contracts other teams subscribe to: change them only compatibly."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import (
    INT32_MAX,
    EventPayload,
    FreeText,
    HappenedAt,
    Id,
    Label,
    LongId,
    Name,
)

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
RiskFlag = Literal["scam_attempt", "abuse", "threat"]
QualityCategory = Literal[
    "ad_law", "off_platform", "personal_data", "rude", "over_promise", "review_inducement",
    "slow_reply",
]  # fmt: skip
QualitySeverity = Literal["info", "warn", "block"]


class Entities(BaseModel):
    """What the classifier found in the text. Free text never leaves presale unmasked."""

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    height_cm: Annotated[int, Field(ge=-INT32_MAX, le=INT32_MAX)] | None = None
    weight_kg: Annotated[float, Field(ge=-1e9, le=1e9)] | None = None
    size: Name | None = None
    colour: Name | None = None
    quantity: Annotated[int, Field(ge=-INT32_MAX, le=INT32_MAX)] | None = None
    order_id: Id | None = None


class MessageClassified(EventPayload):
    """`cs.message.classified.v1`: presale understood one buyer message."""

    message_id: LongId
    conversation_id: LongId
    buyer_id: LongId
    intent: Intent
    confidence: float = Field(ge=0, le=1)
    stage: Stage
    secondary_intents: list[Intent] = Field(default_factory=list, max_length=50)
    sentiment: Sentiment = "neutral"
    entities: Entities = Field(default_factory=Entities)
    text_masked: FreeText = Field(description="the buyer's text with personal data masked")
    item_id: Id | None = None
    order_id: Id | None = None
    buyer_level: Name | None = None
    sent_at: HappenedAt
    classified_at: HappenedAt
    risk_flags: list[RiskFlag] = Field(
        default_factory=list,
        max_length=3,
        description="buyer-side risks found in the text: scam_attempt (posing as platform "
        "staff, phishing, deposits), abuse, threat (since 2026-12; absent before)",
    )

    def business_time(self) -> datetime:
        return self.sent_at


class ReplyRequested(EventPayload):
    """`cs.reply.requested.v1`: xiaoer asks the IM gateway to send a message to the buyer."""

    reply_request_id: LongId
    conversation_id: LongId
    buyer_id: LongId
    in_reply_to: LongId | None = Field(None, description="the buyer message_id this answers")
    text: FreeText
    kind: ReplyKind
    sender: Literal["bot", "system"] = "bot"
    requested_by: Name = Field(description="the service that asks, e.g. presale")
    order_id: Id | None = None
    kb_version: Annotated[int, Field(ge=0, le=INT32_MAX)] | None = None
    requested_at: HappenedAt

    def business_time(self) -> datetime:
        return self.requested_at


class ConversationAssigned(EventPayload):
    """`cs.conversation.assigned.v1`: a conversation was handed to a human agent."""

    conversation_id: LongId
    buyer_id: LongId | None = None
    agent_id: Id
    assigned_at: HappenedAt
    reason: Label
    priority: Priority = "normal"
    skill: Name = "presale"
    queued_for_s: float = Field(0, ge=0, le=1e9, description="seconds it waited for a free agent")

    def business_time(self) -> datetime:
        return self.assigned_at


class ConversationClosed(EventPayload):
    """`cs.conversation.closed.v1`: a session ended after SESSION_GAP of silence."""

    conversation_id: LongId
    agent_id: Id | None = None
    closed_at: HappenedAt
    reason: Label = "idle"

    def business_time(self) -> datetime:
        return self.closed_at


class HandoffRequested(EventPayload):
    """`cs.handoff.requested.v1`: insale or aftersale asks presale to route a human."""

    handoff_id: LongId
    conversation_id: LongId | None = None
    buyer_id: LongId
    skill: Literal["presale", "insale", "aftersale", "senior"]
    priority: Priority = "normal"
    reason: Label
    summary: FreeText = ""
    order_id: Id | None = None
    refund_id: Id | None = None
    requested_by: Name
    requested_at: HappenedAt

    def business_time(self) -> datetime:
        return self.requested_at


class OrderAlert(EventPayload):
    """`cs.order.alert.v1`: something about an order needs the shop's attention."""

    alert_id: LongId
    order_id: Id
    kind: AlertKind
    detail: FreeText
    due_at: HappenedAt | None = None
    raised_at: HappenedAt
    refund_id: Id | None = None

    def business_time(self) -> datetime:
        return self.raised_at


class RefundDecided(EventPayload):
    """`cs.refund.decided.v1`: the policy engine decided a refund; the rule is always cited."""

    refund_id: Id
    order_id: Id
    decision: RefundDecision
    rule_id: Name
    reason: FreeText
    decided_at: HappenedAt
    refund_reason: Name | None = Field(
        default=None,
        description="the platform's reason text of the request, masked (since 2026-12)",
    )
    reason_group: Name | None = Field(
        default=None, description="the shop's reason group the reason matched, if any"
    )
    reason_recognised: bool | None = Field(
        default=None,
        description="false when no reason group of the shop knows the reason (rule "
        "`reason.unrecognised` escalates it); null from versions before 2026-12",
    )

    def business_time(self) -> datetime:
        return self.decided_at


class CaseOpened(EventPayload):
    """`cs.case.opened.v1`: aftersale opened a case."""

    case_id: Id
    kind: CaseKind
    order_id: Id
    buyer_id: LongId
    refund_id: Id | None = None
    review_id: Id | None = None
    opened_at: HappenedAt
    deadline: HappenedAt | None = None

    def business_time(self) -> datetime:
        return self.opened_at


class CaseResolved(EventPayload):
    """`cs.case.resolved.v1`: a case ended."""

    case_id: Id
    order_id: Id
    refund_id: Id | None = None
    outcome: Name
    resolved_at: HappenedAt

    def business_time(self) -> datetime:
        return self.resolved_at


Count = Annotated[int, Field(ge=0, le=INT32_MAX)]


class SnapshotQuality(BaseModel):
    """An agent's quality inspection (质检) in the sessions that started in the hour."""

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    inspected_replies: Count = Field(description="the agent's replies inspected")
    flags: dict[QualityCategory, Count] = Field(
        default_factory=dict, description="flags by category (categories with none left out)"
    )
    scored_sessions: Count = Field(description="sessions the agent took part in, scored")
    score_avg: float | None = Field(
        None, ge=0, le=100, description="mean session score (100 minus weighted deductions)"
    )
    failed_sessions: Count = Field(
        description="sessions failed by an off_platform, personal_data or review_inducement flag"
    )


class KpiSnapshot(EventPayload):
    """`cs.kpi.snapshot.v1`: one agent's KPIs for one hour; a later revision supersedes."""

    agent_id: Id
    hour_start: HappenedAt
    revision: int = Field(ge=1, le=INT32_MAX)
    kpis: dict[Name, float | Annotated[int, Field(ge=-(2**63), lt=2**63)] | None]
    computed_at: HappenedAt
    quality: SnapshotQuality | None = Field(
        None, description="quality inspection KPIs; absent when the agent had no scored session"
    )

    def business_time(self) -> datetime:
        return self.hour_start


class QualityFlagged(EventPayload):
    """`cs.quality.flagged.v1`: quality inspection (质检) found a problem in an agent's reply."""

    flag_id: LongId = Field(description="deterministic: the same finding always has the same id")
    conversation_id: LongId
    agent_id: Id
    message_id: LongId | None = Field(
        None, description="the agent message inspected; null for slow_reply"
    )
    category: QualityCategory
    rule_id: Name
    severity: QualitySeverity
    start: Annotated[int, Field(ge=0, le=INT32_MAX)] | None = Field(
        None,
        description="span of the finding in the message text (characters); null for slow_reply",
    )
    end: Annotated[int, Field(ge=0, le=INT32_MAX)] | None = None
    suggestion: Label = ""
    response_s: float | None = Field(
        None, ge=0, le=1e9, description="slow_reply only: seconds the buyer waited"
    )
    rules_version: Name = Field(description="the shop's effective rule-set version")
    sent_at: HappenedAt = Field(description="when the reply went out (business time)")
    flagged_at: HappenedAt

    def business_time(self) -> datetime:
        return self.sent_at
