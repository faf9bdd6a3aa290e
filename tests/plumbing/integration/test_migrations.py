"""Every service's migrations go up, down to nothing and up again on an empty database, and
what they build is exactly what the service's tables declare (Alembic's autogenerate finds
nothing to add, drop or alter)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic import command

from shared.migrate import SERVICES, alembic_config


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_round_trip_and_match_the_models(infra, service: str) -> None:  # type: ignore[no-untyped-def]
    name = f"migrations_{service}_{uuid.uuid4().hex[:8]}"
    await infra.database.create_database(name)
    url = infra.database_url.replace("/xiaoer?", f"/{name}?")
    cfg = alembic_config(service, url)
    await asyncio.to_thread(command.upgrade, cfg, "head")
    await asyncio.to_thread(command.downgrade, cfg, "base")
    await asyncio.to_thread(command.upgrade, cfg, "head")
    await asyncio.to_thread(command.check, cfg)  # raises when the models and the schema differ
