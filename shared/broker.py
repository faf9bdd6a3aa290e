"""FastStream KafkaBroker factory: telemetry and Prometheus middlewares, our ack policy.

Offsets are committed by hand (AckPolicy.MANUAL) only after the batch's transaction commits.
"""

from __future__ import annotations

import logging
import ssl

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)
from opentelemetry.trace import TracerProvider

from shared.observability import REGISTRY
from shared.settings import CommonSettings


def broker_security(settings: CommonSettings) -> BaseSecurity | None:
    """FastStream security from KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_* / KAFKA_SSL_CAFILE."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    use_ssl = protocol in ("SSL", "SASL_SSL")
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile) if use_ssl else None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    sasl = {
        "PLAIN": SASLPlaintext,
        "SCRAM-SHA-256": SASLScram256,
        "SCRAM-SHA-512": SASLScram512,
    }[settings.kafka_sasl_mechanism]
    return sasl(
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password.get_secret_value(),
        ssl_context=context,
        use_ssl=use_ssl,
    )


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
        security=broker_security(settings),
        enable_idempotence=False,  # works on any Kafka, including the dev broker
        acks="all",
        linger_ms=2,
        max_request_size=settings.kafka_max_request_bytes,
        # The outbox relay sends one batch per partition and pass (shared/publishing.py): room
        # for a pass's rows of one partition (the default, 16 KiB, holds ~15 events).
        max_batch_size=min(256 * 1024, settings.kafka_max_request_bytes),
        log_level=logging.DEBUG,
        description=f"xiaoer {settings.db_schema} service",
    )
