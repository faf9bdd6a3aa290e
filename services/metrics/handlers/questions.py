"""Facts for hot questions and complaint themes: presale's classified messages, its hand-offs.

`cs.message.classified.v1` becomes a `fact_questions` row (item, intent, topic, complaint
theme — labels only, never the text); a presale `handoff_notice` reply (`cs.reply.requested.v1`
with `in_reply_to`) becomes a `fact_handoffs` row, so a question's hand-off share is a join.
Both are keyed by their event's identity, like every fact (replay rebuilds them, `replay.py`).
"""

from __future__ import annotations

from typing import Any

from services.metrics.domain import themes
from shared.cloudevents import Envelope
from shared.contracts import MessageClassified, ReplyRequested


def question_row(m: MessageClassified, env: Envelope) -> dict[str, Any]:
    """The `fact_questions` row of a classified buyer message."""
    complaint = themes.is_complaint(m.intent, m.sentiment)
    return {
        "event_id": env.id,
        "event_source": env.source,
        "shop_id": m.shop_id,
        "message_id": m.message_id,
        "item_id": m.item_id,
        "intent": m.intent,
        "stage": m.stage,
        "topic": themes.topic(m.intent, m.text_masked),
        "question": themes.is_question(m.intent, m.stage),
        "theme": themes.complaint_theme(m.text_masked) if complaint else None,
        "sent_at": m.sent_at,
    }


def handoff_row(r: ReplyRequested, env: Envelope) -> dict[str, Any] | None:
    """Presale told the buyer a human takes over: the question `in_reply_to` was handed off."""
    if r.kind != "handoff_notice" or r.in_reply_to is None:
        return None
    return {
        "reply_request_id": r.reply_request_id,
        "event_id": env.id,
        "shop_id": r.shop_id,
        "message_id": r.in_reply_to,
        "requested_at": r.requested_at,
    }
