"""What metrics does with each event it consumes: record it as an immutable fact.

Each function turns one event into one fact row (no free text: facts hold no personal data),
or into none when the event is not one metrics counts (a reply request that is no reminder).
The batch ingest (`ingest.py`) inserts a whole batch of facts at once, keyed by their
identity — CloudEvents' `source` + `id` for a fact that is the event itself — so a
redelivered event changes nothing, then recomputes what they touched (`projection.py`).

An agent's reply also yields what quality inspection finds in it (`inspection.py`); a
classified buyer message its question labels (`questions.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.metrics.domain.model import BOT
from services.metrics.handlers import questions
from services.metrics.handlers.inspection import quality_violations
from services.metrics.quality.rulebook import RuleBook
from services.metrics.store import fact_tables as tables
from services.metrics.store.facts import Fact
from shared.cloudevents import Envelope
from shared.contracts import (
    ConversationAssigned,
    CsatSubmitted,
    EventPayload,
    MessageClassified,
    MessageReceived,
    MessageSent,
    OrderChanged,
    RefundChanged,
    RefundDecided,
    RefundRequested,
    ReplyRequested,
)
from shared.masking import mask

__all__ = ["FACT_OF", "Fact", "facts_of"]


def identity(env: Envelope) -> dict[str, str]:
    """A fact's key where the event itself is the fact: CloudEvents `source` + `id`."""
    return {"event_id": env.id, "event_source": env.source}


def message_received(m: MessageReceived, env: Envelope) -> Fact:
    """A buyer message: opens or joins a round, may start a session."""
    return Fact(
        tables.fact_messages,
        {
            "direction": "in",
            "message_id": m.message_id,
            "event_id": env.id,
            "shop_id": m.shop_id,
            "conversation_id": m.conversation_id,
            "buyer_id": m.buyer_id,
            "sender_kind": "buyer",
            "responder": None,
            "sent_at": m.sent_at,
        },
    )


def message_sent(m: MessageSent, env: Envelope) -> Fact:
    """An agent or bot message answers; a system message is kept but counts for nobody."""
    responder = {"agent": m.sender_id, "bot": BOT}.get(m.sender_kind)
    return Fact(
        tables.fact_messages,
        {
            "direction": "out",
            "message_id": m.message_id,
            "event_id": env.id,
            "shop_id": m.shop_id,
            "conversation_id": m.conversation_id,
            "buyer_id": m.buyer_id,
            "sender_kind": m.sender_kind,
            "responder": responder,
            "sent_at": m.sent_at,
        },
    )


def conversation_assigned(a: ConversationAssigned, env: Envelope) -> Fact:
    return Fact(
        tables.fact_assignments,
        {
            **identity(env),
            "shop_id": a.shop_id,
            "conversation_id": a.conversation_id,
            "agent_id": a.agent_id,
            "assigned_at": a.assigned_at,
        },
    )


def csat_submitted(c: CsatSubmitted, env: Envelope) -> Fact:
    """A rating; the comment (free text) is not kept."""
    return Fact(
        tables.fact_csat,
        {
            **identity(env),
            "shop_id": c.shop_id,
            "conversation_id": c.conversation_id,
            "buyer_id": c.buyer_id,
            "rating": c.rating,
            "submitted_at": c.submitted_at,
        },
    )


def order_changed(o: OrderChanged, env: Envelope) -> Fact:
    return Fact(
        tables.fact_order_events,
        {
            **identity(env),
            "shop_id": o.shop_id,
            "order_id": o.order_id,
            "buyer_id": o.buyer_id,
            "status": o.status,
            "total_fee": o.total_fee,
            "created_at": o.created_at,
            "paid_at": o.paid_at,
            "changed_at": o.changed_at,
        },
    )


def refund_requested(r: RefundRequested, env: Envelope) -> Fact:
    return Fact(
        tables.fact_refund_events,
        {
            **identity(env),
            "shop_id": r.shop_id,
            "refund_id": r.refund_id,
            "order_id": r.order_id,
            "kind": "requested",
            "status": None,
            "cs_status": None,
            "at": r.requested_at,
        },
    )


def refund_changed(r: RefundChanged, env: Envelope) -> Fact:
    return Fact(
        tables.fact_refund_events,
        {
            **identity(env),
            "shop_id": r.shop_id,
            "refund_id": r.refund_id,
            "order_id": r.order_id,
            "kind": "changed",
            "status": r.status,
            "cs_status": r.cs_status,
            "at": r.changed_at,
        },
    )


def refund_decided(d: RefundDecided, env: Envelope) -> Fact:
    """Whether the shop's policy recognised the refund's reason (see api/refund_reasons.py)."""
    return Fact(
        tables.fact_refund_decisions,
        {
            **identity(env),
            "shop_id": d.shop_id,
            "refund_id": d.refund_id,
            "rule_id": d.rule_id,
            "refund_reason": mask(d.refund_reason)[:100] if d.refund_reason else None,
            "recognised": d.reason_recognised,
            "decided_at": d.decided_at,
        },
    )


def reply_requested(r: ReplyRequested, env: Envelope) -> Fact | None:
    """A 催付 reminder (kind `reminder` with an order), or presale's hand-off notice to a
    question (`questions`): the other replies are not facts."""
    handoff = questions.handoff_row(r, env)
    if handoff is not None:
        return Fact(tables.fact_handoffs, handoff)
    if r.kind != "reminder" or r.order_id is None:
        return None
    return Fact(
        tables.fact_reminders,
        {
            "reply_request_id": r.reply_request_id,
            "event_id": env.id,
            "shop_id": r.shop_id,
            "order_id": r.order_id,
            "sent_at": r.requested_at,
        },
    )


def message_classified(c: MessageClassified, env: Envelope) -> Fact | None:
    """A buyer message presale flagged as a scam attempt, abuse or a threat; others: none."""
    if not c.risk_flags:
        return None
    return Fact(
        tables.fact_risk_messages,
        {
            "message_id": c.message_id,
            "event_id": env.id,
            "shop_id": c.shop_id,
            "conversation_id": c.conversation_id,
            "scam_attempt": "scam_attempt" in c.risk_flags,
            "abuse": "abuse" in c.risk_flags,
            "threat": "threat" in c.risk_flags,
            "sent_at": c.sent_at,
        },
    )


FACT_OF: dict[str, Callable[[Any, Envelope], Fact | None]] = {
    "cs.message.received.v1": message_received,
    "cs.message.sent.v1": message_sent,
    "cs.conversation.assigned.v1": conversation_assigned,
    "cs.csat.submitted.v1": csat_submitted,
    "trade.order.changed.v1": order_changed,
    "trade.refund.requested.v1": refund_requested,
    "trade.refund.changed.v1": refund_changed,
    "cs.refund.decided.v1": refund_decided,
    "cs.reply.requested.v1": reply_requested,
    "cs.message.classified.v1": message_classified,
}


def facts_of(topic: str, payload: EventPayload, env: Envelope, rules: RuleBook) -> list[Fact]:
    """The event's facts: none for an event metrics reads but does not count; an agent's
    reply also yields what quality inspection found in it; a classified buyer message also
    its question labels (`questions`: hot questions, complaint themes)."""
    fact = FACT_OF[topic](payload, env)
    out = [fact] if fact is not None else []
    if isinstance(payload, MessageSent):
        out += quality_violations(payload, env, rules)
    if isinstance(payload, MessageClassified):  # what buyers ask and complain about
        out.append(Fact(tables.fact_questions, questions.question_row(payload, env)))
    return out
