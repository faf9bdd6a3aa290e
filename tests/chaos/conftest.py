"""Chaos and fuzz suites: the whole stack on a broker and database of the module's own
(`private_infra`), every service started as a real process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from devstack import SERVICES, LocalStack


@pytest.fixture(scope="module")
async def stack(private_infra: LocalStack) -> AsyncIterator[LocalStack]:
    """The four services running on the module's own broker and database."""
    await private_infra.start_services(SERVICES)
    try:
        yield private_infra
    finally:
        for name in SERVICES:
            private_infra.stop_service(name)
