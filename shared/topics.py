"""The topic registry: every topic xiaoer touches, with its key, partitions and payload schema.

Everything else (launcher, broker wiring, AsyncAPI, Kubernetes topic manifests) reads this.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.contracts import (
    AgentStatusChanged,
    CaseOpened,
    CaseResolved,
    ConversationAssigned,
    ConversationClosed,
    CsatSubmitted,
    EventPayload,
    HandoffRequested,
    KpiSnapshot,
    LogisticsUpdated,
    MessageClassified,
    MessageReceived,
    MessageSent,
    OrderAlert,
    OrderChanged,
    QualityFlagged,
    RefundChanged,
    RefundDecided,
    RefundRequested,
    ReplyRequested,
    ReviewPosted,
)

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class Topic:
    name: str
    model: type[EventPayload]
    key_field: str
    partitions: int
    producer: str
    description: str
    retention_hours: int = 24 * 7

    @property
    def ce_type(self) -> str:
        return f"com.xiaoer.{self.name}"

    @property
    def dlq(self) -> str:
        return self.name + DLQ_SUFFIX

    def key_of(self, payload: EventPayload) -> str:
        return str(getattr(payload, self.key_field))


def _t(
    name: str, model: type[EventPayload], key: str, partitions: int, producer: str, desc: str
) -> Topic:
    return Topic(name, model, key, partitions, producer, desc)


UPSTREAM = "upstream"

TOPICS: tuple[Topic, ...] = (
    # upstream: IM gateway
    _t("cs.message.received.v1", MessageReceived, "conversation_id", 8, UPSTREAM,
       "A buyer wrote to the shop."),
    _t("cs.message.sent.v1", MessageSent, "conversation_id", 8, UPSTREAM,
       "A message actually went out to the buyer (bot, agent or system)."),
    _t("cs.agent.status.v1", AgentStatusChanged, "agent_id", 2, UPSTREAM,
       "An agent's availability changed."),
    _t("cs.csat.submitted.v1", CsatSubmitted, "conversation_id", 2, UPSTREAM,
       "A buyer rated a conversation."),
    # upstream: trade system
    _t("trade.order.changed.v1", OrderChanged, "order_id", 8, UPSTREAM,
       "An order was created or changed state."),
    _t("trade.logistics.updated.v1", LogisticsUpdated, "order_id", 8, UPSTREAM,
       "A tracking event."),
    _t("trade.refund.requested.v1", RefundRequested, "order_id", 4, UPSTREAM,
       "A buyer applied for a refund."),
    _t("trade.refund.changed.v1", RefundChanged, "order_id", 4, UPSTREAM, "A refund moved on."),
    _t("trade.review.posted.v1", ReviewPosted, "order_id", 2, UPSTREAM,
       "A buyer reviewed an order."),
    # xiaoer
    _t("cs.message.classified.v1", MessageClassified, "conversation_id", 8, "presale",
       "Presale understood a buyer message: intent, confidence, stage, entities."),
    _t("cs.reply.requested.v1", ReplyRequested, "conversation_id", 8, "presale,insale,aftersale",
       "xiaoer asks the IM gateway to send a message to a buyer."),
    _t("cs.conversation.assigned.v1", ConversationAssigned, "conversation_id", 4, "presale",
       "A conversation was handed to a human agent."),
    _t("cs.conversation.closed.v1", ConversationClosed, "conversation_id", 4, "presale",
       "A session closed after SESSION_GAP of silence."),
    _t("cs.handoff.requested.v1", HandoffRequested, "buyer_id", 4, "insale,aftersale",
       "Another stage asks presale to route a human agent."),
    _t("cs.order.alert.v1", OrderAlert, "order_id", 4, "insale,aftersale",
       "An order needs the shop's attention (deadlines, stalls, disputes)."),
    _t("cs.refund.decided.v1", RefundDecided, "order_id", 4, "aftersale",
       "The policy engine decided a refund, citing its rule."),
    _t("cs.case.opened.v1", CaseOpened, "order_id", 4, "aftersale", "Aftersale opened a case."),
    _t("cs.case.resolved.v1", CaseResolved, "order_id", 4, "aftersale", "A case ended."),
    _t("cs.kpi.snapshot.v1", KpiSnapshot, "agent_id", 4, "metrics",
       "One agent's KPIs for one hour, revised when late events change it."),
    _t("cs.quality.flagged.v1", QualityFlagged, "conversation_id", 4, "metrics",
       "Quality inspection found a problem in an agent's reply (rule, span, fix) or a slow reply."),
)  # fmt: skip

BY_NAME: dict[str, Topic] = {t.name: t for t in TOPICS}


def topic(name: str) -> Topic:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown topic {name!r}; add it to shared/topics.py") from None


def topic_for_model(model: type[EventPayload]) -> Topic:
    for t in TOPICS:
        if t.model is model:
            return t
    raise KeyError(f"no topic carries {model.__name__}")


def all_topic_names(with_dlq: bool = True) -> list[tuple[str, int]]:
    """(name, partitions) of every topic, each followed by its dead-letter twin."""
    out: list[tuple[str, int]] = []
    for t in TOPICS:
        out.append((t.name, t.partitions))
        if with_dlq:
            out.append((t.dlq, 1))
    return out
