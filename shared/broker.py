"""FastStream KafkaBroker factory: telemetry and Prometheus middlewares, our ack policy.

Offsets are committed by hand (AckPolicy.MANUAL) only after the batch's transaction commits.
"""

from __future__ import annotations

import logging

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from opentelemetry.trace import TracerProvider

from shared.observability import REGISTRY
from shared.settings import CommonSettings


def make_broker(
    settings: CommonSettings, tracer_provider: TracerProvider | None = None
) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_servers,
        client_id=settings.service_name,
        middlewares=[
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
            KafkaPrometheusMiddleware(registry=REGISTRY, app_name=settings.service_name),
        ],
        graceful_timeout=settings.graceful_timeout_s,
        enable_idempotence=False,  # works on any Kafka, including the dev broker
        acks="all",
        linger_ms=2,
        log_level=logging.DEBUG,
        description=f"xiaoer {settings.db_schema} service",
    )
