"""Prometheus metrics shared by every service (names follow Prometheus conventions).

Label values are bounded: services and kinds are fixed by the code, topics come only from the
registry (`topic_label`), and no value read from an event (shop, agent, buyer) is a label.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shared.topics import BY_NAME, DLQ_SUFFIX

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS = Counter(
    "xiaoer_events_total",
    "Consumed events by outcome (handled, duplicate, dead_lettered).",
    ["service", "topic", "outcome"],
    registry=REGISTRY,
)
HANDLER_SECONDS = Histogram(
    "xiaoer_handler_duration_seconds",
    "Time to handle one event inside its transaction.",
    ["service", "topic"],
    registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
BATCH_SECONDS = Histogram(
    "xiaoer_batch_duration_seconds",
    "Time to handle and commit one consumed batch.",
    ["service"],
    registry=REGISTRY,
)
TRANSIENT_RETRIES = Counter(
    "xiaoer_transient_retries_total",
    "Batches retried after a transient failure (database or broker unavailable).",
    ["service"],
    registry=REGISTRY,
)
BATCH_FAILURES = Counter(
    "xiaoer_batch_failures_total",
    "Consumed batches that failed outside the consume path's fallbacks (a bug): rewound, and "
    "dead-lettered as they are after a few attempts.",
    ["service"],
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "xiaoer_consumer_lag",
    "Records not yet consumed, per topic partition.",
    ["service", "topic", "partition"],
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "xiaoer_outbox_backlog", "Outbox rows not yet published.", ["service"], registry=REGISTRY
)
OUTBOX_PARKED = Counter(
    "xiaoer_outbox_parked_total",
    "Outbox rows parked because the broker will never accept them (see ops.dlq parked).",
    ["service", "reason"],
    registry=REGISTRY,
)
OUTBOX_PARKED_ROWS = Gauge(
    "xiaoer_outbox_parked_rows",
    "Outbox rows parked now, waiting for an operator (python -m ops.dlq unpark).",
    ["service"],
    registry=REGISTRY,
)
OUTBOX_PUBLISHED = Counter(
    "xiaoer_outbox_published_total", "Outbox rows published.", ["service"], registry=REGISTRY
)
TIMERS_DUE = Gauge(
    "xiaoer_timers_due", "Timers due now and not yet fired.", ["service"], registry=REGISTRY
)
_TIMERS_FIRED = Counter(
    "xiaoer_timers_fired_total", "Timers fired.", ["service", "kind"], registry=REGISTRY
)
TIMERS_DEFERRED = Counter(
    "xiaoer_timers_deferred_total",
    "Due timers put off to the next pass: a row their handler needs was held (lock_timeout).",
    ["service", "kind"],
    registry=REGISTRY,
)
_BUSINESS = Counter(
    "xiaoer_business_events_total",
    "Business outcomes (replies, hand-offs, decisions...) by kind.",
    ["service", "kind"],
    registry=REGISTRY,
)


# -- counts that belong to a transaction ---------------------------------------------------
# A consumed batch may run more than once (fast path rolled back then safe path, a transient
# retry, a fallback record by record): a counter bumped inside it would count the re-runs.
# While `counted_on_commit()` is active, `.labels(...).inc()` of a counter wrapped by
# `on_commit` is held back and applied only by `PendingCounts.commit()`.

_PENDING: ContextVar[PendingCounts | None] = ContextVar("xiaoer_pending_counts", default=None)


class PendingCounts:
    """Increments held back until their transaction commits."""

    def __init__(self) -> None:
        self._held: list[tuple[Counter, tuple[str, ...], float]] = []

    def hold(self, counter: Counter, labels: tuple[str, ...], amount: float) -> None:
        self._held.append((counter, labels, amount))

    def mark(self) -> int:
        return len(self._held)

    def rollback_to(self, mark: int) -> None:
        del self._held[mark:]

    def commit(self) -> None:
        for counter, labels, amount in self._held:
            counter.labels(*labels).inc(amount)
        self._held.clear()


@contextmanager
def counted_on_commit() -> Iterator[PendingCounts]:
    pending = PendingCounts()
    token = _PENDING.set(pending)
    try:
        yield pending
    finally:
        _PENDING.reset(token)


def pending_counts() -> PendingCounts | None:
    return _PENDING.get()


class _Child:
    def __init__(self, counter: Counter, labels: tuple[str, ...]) -> None:
        self._counter, self._labels = counter, labels

    def inc(self, amount: float = 1) -> None:
        pending = _PENDING.get()
        if pending is None:
            self._counter.labels(*self._labels).inc(amount)
        else:
            pending.hold(self._counter, self._labels, amount)


class OnCommitCounter:
    """A counter whose increments inside a consumed batch count once, when it commits."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    def labels(self, *labels: str) -> _Child:
        return _Child(self.counter, tuple(str(v) for v in labels))


BUSINESS = OnCommitCounter(_BUSINESS)
TIMERS_FIRED = OnCommitCounter(_TIMERS_FIRED)


_KNOWN_TOPICS = frozenset(BY_NAME) | {name + DLQ_SUFFIX for name in BY_NAME}


# -- labels from events ----------------------------------------------------------------------
def topic_label(topic: str) -> str:
    """A topic as a label value: only topics of the registry, anything else is `other`."""
    return topic if topic in _KNOWN_TOPICS else "other"
