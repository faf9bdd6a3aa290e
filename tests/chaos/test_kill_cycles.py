"""Kill -9 services at random moments under simulator load: nothing lost, nothing doubled.

Each cycle SIGKILLs one service — a random one, or (every third cycle) one whose relay has
unsent outbox rows at that moment, i.e. mid-publish — restarts it and lets it run a random
while. CHAOS_CYCLES sets the number of cycles (30 by default, for CI; the soak runs 100+),
CHAOS_SEED replays a run. Afterwards the oracle reads the topics (see support_chaos).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter

import pytest

from devstack import SERVICES, LocalStack
from tests.chaos.support_chaos import (
    SPEED,
    chaos_stack,
    env_int,
    kpis_equal_replay,
    outbox_backlogs,
    readiness,
    rng,
    seed_from_env,
    settled_verdict,
    simulator_done,
    start_simulator,
)

CYCLES = env_int("CHAOS_CYCLES", 30)
MEAN_PAUSE_S = 1.2
# Long enough for the simulator to outlast the cycles (about 3 s each with the restart).
HOURS = max(8.0, CYCLES * 3.0 * SPEED / 3600 * 0.8)

pytestmark = pytest.mark.timeout(240 + CYCLES * 10)


async def kill_mid_publish(
    stack: LocalStack, fallback: str, wait_s: float = 1.0
) -> tuple[str, bool]:
    """The service with unsent outbox rows (its relay is publishing), else `fallback`."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        backlog = await outbox_backlogs(stack)
        busy = [name for name, n in backlog.items() if n > 0]
        if busy:
            return max(busy, key=lambda n: backlog[n]), True
        await asyncio.sleep(0.02)
    return fallback, False


async def test_random_kills_under_load_lose_and_double_nothing(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    seed = seed_from_env()
    chance = rng(seed)
    async with chaos_stack(tmp_path_factory.mktemp("chaos-kill")) as stack:
        sim = start_simulator(stack, seed, HOURS, bad_rate=0.002)
        kills: Counter[str] = Counter()
        mid_publish = 0
        started = time.monotonic()
        for cycle in range(CYCLES):
            name = chance.choice(SERVICES)
            if cycle % 3 == 2:
                name, busy = await kill_mid_publish(stack, name)
                mid_publish += busy
            await asyncio.sleep(chance.uniform(0, MEAN_PAUSE_S))  # a random moment
            stack.kill_service(name)
            kills[name] += 1
            await stack.start_service(name)
            await asyncio.sleep(chance.uniform(0, MEAN_PAUSE_S))
        print(
            f"\n{CYCLES} kill cycles in {time.monotonic() - started:.0f}s: {dict(kills)}, "
            f"{mid_publish} with the relay mid-publish",
            file=sys.stderr,
        )
        assert set((await readiness(stack)).values()) == {200}
        await simulator_done(sim, timeout=HOURS * 3600 / SPEED + 120)
        assert not stack.failures(), stack.failures()

        verdict = await settled_verdict(stack.bootstrap, timeout=120)
        print(f"oracle: {verdict.describe()}", file=sys.stderr)
        assert verdict.messages > 0
        assert verdict.refunds > 0
        assert verdict.lost_count == 0, verdict.describe()
        assert verdict.doubled_count == 0, verdict.describe()

        # KPIs: nothing else produces what metrics reads once the others stop.
        for name in ("presale", "insale", "aftersale"):
            stack.stop_service(name)
        diff = await kpis_equal_replay(stack, timeout=90)
        assert all(a == b == 0 for a, b in diff.values()), f"live vs replay: {diff}"
        assert set((await outbox_backlogs(stack, parked=True)).values()) == {0}
        assert kills.total() == CYCLES
