"""OpenTelemetry set-up from the standard OTEL_* environment variables.

`OTEL_TRACES_EXPORTER` picks the exporter (`otlp` — the default in production —, `console`
or `none`); `OTEL_EXPORTER_OTLP_ENDPOINT` and friends are read by the OTLP exporter itself.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)


def setup_tracing(service_name: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """Install the global tracer provider; `exporter` lets tests capture spans in memory."""
    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        kinds = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")
        for kind in (k.strip() for k in kinds):
            if kind == "otlp":
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter,
                )

                provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            elif kind == "console":
                provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider
