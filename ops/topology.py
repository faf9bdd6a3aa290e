"""Who produces and who consumes which topic: the one place ops/ reads it from.

Producers come from the topic registry (`Topic.producer`). What each service consumes is
written here and MUST be kept in sync with the handlers each service registers in its
`build_runtime(...)`; `tests/deploy/test_topology.py` compares the two when the service exists.
"""

from __future__ import annotations

from shared.topics import BY_NAME, TOPICS, UPSTREAM, Topic

SERVICES: tuple[str, ...] = ("presale", "insale", "aftersale", "metrics")

CONSUMES: dict[str, tuple[str, ...]] = {
    "presale": (
        "cs.message.received.v1",
        "cs.message.sent.v1",
        "cs.agent.status.v1",
        "cs.handoff.requested.v1",
        "trade.order.changed.v1",  # each buyer's latest order, for the classifier (issue 16)
    ),
    "insale": (
        "trade.order.changed.v1",
        "trade.logistics.updated.v1",
        "cs.message.classified.v1",
    ),
    "aftersale": (
        "trade.refund.requested.v1",
        "trade.refund.changed.v1",
        "trade.review.posted.v1",
        "trade.order.changed.v1",
        "cs.message.classified.v1",
    ),
    "metrics": (
        "cs.message.received.v1",
        "cs.message.sent.v1",
        "cs.conversation.assigned.v1",
        "cs.csat.submitted.v1",
        "trade.order.changed.v1",
        "trade.refund.requested.v1",
        "trade.refund.changed.v1",
        "cs.refund.decided.v1",
        "cs.reply.requested.v1",  # 催付 reminders and presale's hand-off notices
        "cs.message.classified.v1",  # risk flags (wellbeing); hot questions, complaint themes
    ),
}

REDRIVE_GROUP = "xiaoer-dlq-redrive"
"""Consumer group whose committed offsets record which dead letters were re-driven."""


def consumer_group(service: str) -> str:
    return f"xiaoer-{service}"


def producers(t: Topic) -> tuple[str, ...]:
    """Services (or `upstream`) that publish on the topic."""
    return tuple(p.strip() for p in t.producer.split(",") if p.strip())


def is_emitted(t: Topic) -> bool:
    """True for topics xiaoer itself publishes (its subscribers depend on them)."""
    return UPSTREAM not in producers(t)


def consumed(service: str) -> tuple[Topic, ...]:
    return tuple(BY_NAME[name] for name in CONSUMES[service])


def produced(service: str) -> tuple[Topic, ...]:
    return tuple(t for t in TOPICS if service in producers(t))


def consumers_of(t: Topic) -> tuple[str, ...]:
    return tuple(s for s in SERVICES if t.name in CONSUMES[s])


def consumed_by_xiaoer(t: Topic) -> bool:
    return bool(consumers_of(t))


def check() -> None:
    """Fail loudly when the map names a topic the registry does not know."""
    for service, names in CONSUMES.items():
        for name in names:
            if name not in BY_NAME:
                raise KeyError(f"ops/topology.py: {service} consumes unknown topic {name!r}")
    for t in TOPICS:
        for p in producers(t):
            if p != UPSTREAM and p not in SERVICES:
                raise KeyError(f"{t.name}: unknown producer {p!r}")


check()
