"""Prometheus metrics shared by every service (names follow Prometheus conventions)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
TIMERS_FIRED = Counter(
    "xiaoer_timers_fired_total", "Timers fired.", ["service", "kind"], registry=REGISTRY
)
BUSINESS = Counter(
    "xiaoer_business_events_total",
    "Business outcomes (replies, hand-offs, decisions...) by kind.",
    ["service", "kind"],
    registry=REGISTRY,
)
