"""JSON logs carrying trace and span ids, with personal data masked."""

from __future__ import annotations

import logging
import sys

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

from shared.masking import mask

_TRACEBACK_CHARS = 32_000


class TraceAndMaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        span = trace.get_current_span().get_span_context()
        record.trace_id = format(span.trace_id, "032x") if span.is_valid else None
        record.span_id = format(span.span_id, "016x") if span.is_valid else None
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class MaskingJsonFormatter(JsonFormatter):
    """Tracebacks can quote buyer text (an exception's message): mask them too."""

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]
        formatted = super().formatException(ei)
        text = formatted if isinstance(formatted, str) else "\n".join(formatted)
        return mask(text[-_TRACEBACK_CHARS:], limit=_TRACEBACK_CHARS)  # the end names the error


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        MaskingJsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    handler.addFilter(TraceAndMaskFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
