from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.telemetry import setup_tracing

sys.path.insert(0, str(Path(__file__).parent))

from probe_service import create_schema


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    """Tracing set up as a service does it (global provider), spans kept in memory."""
    exporter = InMemorySpanExporter()
    setup_tracing("xiaoer-probe", exporter=exporter)
    return exporter


@pytest.fixture
def schema() -> str:
    return f"probe_{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def probe_db(infra, schema: str) -> AsyncIterator[AsyncEngine]:  # type: ignore[no-untyped-def]
    engine = await create_schema(infra.database_url, schema)
    yield engine
    await engine.dispose()
