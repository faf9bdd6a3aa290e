"""Chaos and fuzz suites: the whole stack on a broker and database of the module's own
(`private_infra`), every service started as a real process."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from devstack import SERVICES, LocalStack


@pytest.fixture(scope="module")
async def stack(private_infra: LocalStack) -> AsyncIterator[LocalStack]:
    """The four services running on the module's own broker and database. Batches of at most
    `CHAOS_MAX_POLL_RECORDS` (100) records: a batch's own duration is time without a commit,
    and the suites bound that (a shared 2-core machine runs presale's handlers at ~70 ms)."""
    previous = os.environ.get("KAFKA_MAX_POLL_RECORDS")
    os.environ["KAFKA_MAX_POLL_RECORDS"] = os.environ.get("CHAOS_MAX_POLL_RECORDS", "100")
    try:
        await private_infra.start_services(SERVICES)  # the processes inherit the environment
    finally:
        if previous is None:
            os.environ.pop("KAFKA_MAX_POLL_RECORDS", None)
        else:
            os.environ["KAFKA_MAX_POLL_RECORDS"] = previous
    try:
        yield private_infra
    finally:
        for name in SERVICES:
            private_infra.stop_service(name)
