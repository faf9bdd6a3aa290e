"""Helpers for the metrics tests: settings on the test stack, an in-process API client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from services.metrics.app import build_runtime
from services.metrics.settings import MetricsSettings
from shared.clock import Clock
from shared.runtime import ServiceRuntime
from tests.support.groups import new_group
from tests.support.runtime import started


def metrics_settings(infra: Any, **overrides: Any) -> MetricsSettings:
    env = infra.env
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": infra.bootstrap,
        "database_url": infra.database_url,
        "api_tokens": env["API_TOKENS"],
        "operator_token": env["OPERATOR_TOKEN"],
        "gauge_interval_s": 0.5,
        "kafka_group_id": new_group("metrics"),  # reads only what is published from its start
    }
    return MetricsSettings(**{**values, **overrides})


@asynccontextmanager
async def metrics_api(
    infra: Any, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[tuple[ServiceRuntime, httpx.AsyncClient]]:
    """The metrics runtime in-process (consuming the real broker) and a client of its API."""
    runtime = build_runtime(metrics_settings(infra, **overrides), clock=clock)
    async with started(runtime) as rt:
        transport = httpx.ASGITransport(app=rt.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://metrics") as client:
            yield rt, client


def operator(infra: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {infra.env['OPERATOR_TOKEN']}"}
