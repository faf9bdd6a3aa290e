"""Shared fixtures. Stack fixtures start the real broker and database through devstack.

- `infra` (session): broker + database + migrations, a `devstack.LocalStack` with
  `.bootstrap`, `.database_url`, `.state_dir`, `.env`, `.topics`, `.tokens`.
- `running_services` (function): `await running_services("presale", ...)` starts services
  against `infra` and stops them after the test.

Tests that use either are marked `stack` automatically (`pytest -m "not stack"` skips them).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the project is not installed (tool.uv package = false)
    sys.path.insert(0, str(ROOT))

from devstack import SERVICES, LocalStack  # noqa: E402
from devstack.config import isolated_config, service_env  # noqa: E402
from devstack.processes import ServiceProcess  # noqa: E402
from tests.support.groups import service_group_at_end  # noqa: E402

STACK_FIXTURES = {"infra", "running_services", "private_infra"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.stack)


@pytest.fixture(scope="session")
async def infra(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalStack]:
    """Broker with every topic, database `xiaoer` with every service's migrations applied."""
    stack = LocalStack(isolated_config(tmp_path_factory.mktemp("stack")))
    try:
        await stack.start_infra()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
async def private_infra(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalStack]:
    """A broker and database of the module's own, for tests that flood the topics (tens of
    thousands of events): services in later tests would otherwise have to read through them."""
    stack = LocalStack(isolated_config(tmp_path_factory.mktemp("private-stack")))
    try:
        await stack.start_infra()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
async def running_services(
    infra: LocalStack,
) -> AsyncIterator[Callable[..., Awaitable[LocalStack]]]:
    """Start services by name for one test; they are stopped (SIGTERM) afterwards.

    Each service gets a consumer group of this test's own (`KAFKA_GROUP_ID`), positioned at
    the end of its topics before it starts: it reads what this test publishes, never what
    earlier tests did. Restarting it within the test (`infra.start_service`) keeps the group.
    """
    started: list[str] = []

    async def start(*names: str) -> LocalStack:
        chosen = names or SERVICES
        for name in chosen:
            if name not in started:
                group = await service_group_at_end(infra.bootstrap, name)
                cfg = infra.config
                env = {**service_env(cfg, infra.env, name), "KAFKA_GROUP_ID": group}
                infra.services[name] = ServiceProcess.create(
                    name, cfg.ports[name], env, cfg.logs_dir, cfg.service_argv
                )
        started.extend(chosen)
        await infra.start_services(chosen)
        return infra

    yield start
    for name in dict.fromkeys(started):
        infra.stop_service(name)
        infra.services.pop(name, None)  # the next test starts from a clean slate (own group)
