"""An in-process OTLP/HTTP trace receiver: what a collector would get from the services.

Services export with their standard OTLP exporter (`OTEL_TRACES_EXPORTER=otlp`,
`OTEL_EXPORTER_OTLP_ENDPOINT=<receiver.endpoint>`); the receiver decodes each
`ExportTraceServiceRequest` (protobuf, optionally gzip) into plain `ReceivedSpan`s.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def _attributes(kvs: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in kvs if isinstance(kv, KeyValue)}


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, Any]
    linked_trace_ids: tuple[str, ...]

    def touches(self, trace_id: str) -> bool:
        """In that trace, or linked to it (a batch span links every record's context)."""
        return self.trace_id == trace_id or trace_id in self.linked_trace_ids


@dataclass
class OtlpReceiver:
    spans: list[ReceivedSpan] = field(default_factory=list)
    requests: int = 0
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        got: list[ReceivedSpan] = []
        for rs in request.resource_spans:
            service = str(_attributes(rs.resource.attributes).get("service.name", "?"))
            for ss in rs.scope_spans:
                for s in ss.spans:
                    got.append(
                        ReceivedSpan(
                            service=service,
                            name=s.name,
                            trace_id=s.trace_id.hex(),
                            span_id=s.span_id.hex(),
                            parent_span_id=s.parent_span_id.hex(),
                            kind=s.kind,
                            attributes=_attributes(s.attributes),
                            linked_trace_ids=tuple(link.trace_id.hex() for link in s.links),
                        )
                    )
        with self._lock:
            self.spans.extend(got)
            self.requests += 1

    def touching(self, trace_id: str) -> list[ReceivedSpan]:
        with self._lock:
            return [s for s in self.spans if s.touches(trace_id)]

    async def wait_for(
        self,
        predicate: Callable[[OtlpReceiver], bool],
        timeout: float,
        what: str,
        describe: Callable[[OtlpReceiver], str] | None = None,
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return
            await asyncio.sleep(0.1)
        services = sorted({s.service for s in self.spans})
        raise AssertionError(
            f"timed out after {timeout}s waiting for {what}; received {len(self.spans)} spans "
            f"in {self.requests} exports from {services}"
            + (f"; {describe(self)}" if describe else "")
        )


@contextmanager
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """Serve `POST /v1/traces` on a free loopback port until the block ends."""
    receiver = OtlpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path.rstrip("/") != "/v1/traces":
                self.send_response(404)
                self.end_headers()
                return
            receiver.add(body)
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="otlp-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
