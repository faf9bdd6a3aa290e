"""A buyer question the bot did not answer (the insight loop's gap), as it is kept: masked,
no personal data. Pure: built from the message and its understanding in the batch's decision;
saved in the batch's bulk save (`store.gaps`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.presale.domain.nlu import Understanding
from shared.contracts import MessageReceived
from shared.masking import mask


@dataclass(frozen=True)
class Unanswered:
    message_id: str
    shop_id: str
    conversation_id: str
    buyer_id: str
    item_id: str | None
    intent: str
    confidence: float
    reason: str
    """low_confidence | no_kb_answer | no_kb | no_progress | with_agent (`coverage.gap_reason`)"""
    entities: Mapping[str, object]
    text_masked: str
    asked_at: datetime


def unanswered(
    m: MessageReceived, u: Understanding, reason: str, text_masked: str | None = None
) -> Unanswered:
    """The gap of a buyer message: masked text (`text_masked` when the caller has already
    masked it), no personal data."""
    return Unanswered(
        message_id=m.message_id,
        shop_id=m.shop_id,
        conversation_id=m.conversation_id,
        buyer_id=m.buyer_id,
        item_id=m.item_id,
        intent=u.intent,
        confidence=u.confidence,
        reason=reason,
        entities=u.entities.model_dump(mode="json", exclude_none=True),
        text_masked=text_masked if text_masked is not None else mask(m.text),
        asked_at=m.sent_at,
    )


@dataclass(frozen=True)
class GapAnswer:
    """An agent's message, as the answer to the conversation's latest question before it, if
    that one is a gap nobody has answered yet (an agent answers a burst of questions at its
    last one). Which gap, if any, is found when it is saved (`store.gaps.link_replies`)."""

    conversation_id: str
    answer_masked: str
    agent_id: str
    at: datetime
    since: datetime
    """Only a question asked after this (one SESSION_GAP before) is answered by it."""


def gap_answer(
    conversation_id: str, text: str, agent_id: str, at: datetime, within: timedelta
) -> GapAnswer:
    return GapAnswer(conversation_id, mask(text), agent_id[:100], at, at - within)
