"""Pydantic models of every event xiaoer consumes (upstream) or emits."""

from shared.contracts.base import AwareDatetime, EventPayload
from shared.contracts.emitted import (
    CaseOpened,
    CaseResolved,
    ConversationAssigned,
    ConversationClosed,
    Entities,
    HandoffRequested,
    KpiSnapshot,
    MessageClassified,
    OrderAlert,
    RefundDecided,
    ReplyRequested,
)
from shared.contracts.upstream import (
    AgentStatusChanged,
    CsatSubmitted,
    LogisticsUpdated,
    MessageReceived,
    MessageSent,
    OrderChanged,
    OrderItem,
    RefundChanged,
    RefundRequested,
    ReviewPosted,
)

__all__ = [
    "AgentStatusChanged",
    "AwareDatetime",
    "CaseOpened",
    "CaseResolved",
    "ConversationAssigned",
    "ConversationClosed",
    "CsatSubmitted",
    "Entities",
    "EventPayload",
    "HandoffRequested",
    "KpiSnapshot",
    "LogisticsUpdated",
    "MessageClassified",
    "MessageReceived",
    "MessageSent",
    "OrderAlert",
    "OrderChanged",
    "OrderItem",
    "RefundChanged",
    "RefundDecided",
    "RefundRequested",
    "ReplyRequested",
    "ReviewPosted",
]
