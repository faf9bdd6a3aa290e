"""Kill -9 services at random moments under simulator load: nothing lost, nothing doubled.

The simulator plays a shop day at 1440x through all the cycles. Each cycle SIGKILLs one
running service and starts it again at once (without waiting for it,
so the next cycle may come before it is back): a random ready service, or, every third cycle,
the one whose relay has unsent outbox rows at that instant — killed mid-publish. CHAOS_CYCLES
sets the number of cycles (30 by default, for CI; the soak runs 100+), CHAOS_SEED replays a
run. Afterwards the oracle reads the topics (see support_chaos) and the KPIs are replayed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter

import pytest

from devstack import SERVICES, LocalStack
from tests.chaos.support_chaos import (
    Backlogs,
    chaos_stack,
    env_int,
    kpis_equal_replay,
    outbox_backlogs,
    poll,
    readiness,
    rng,
    seed_from_env,
    settled_verdict,
    simulator_playing,
    start_simulator,
)

CYCLES = env_int("CHAOS_CYCLES", 30)
PAUSE_S = (0.2, 2.0)  # between kills, drawn from the seed
# Business hours of load: far more than the cycles take (a cycle is 2-6 s of wall time, up to
# 2.4 business hours at SPEED); the simulator is stopped after the last cycle.
HOURS = 12.0 + CYCLES * 5.0

# A cycle took up to 9.3 s on a loaded machine (100 in 931 s), and the settle, oracle and replay
# after the last one grow with the backlog the kills leave.
pytestmark = pytest.mark.timeout(600 + CYCLES * 15)


async def ready_services(stack: LocalStack) -> list[str]:
    status = await readiness(stack)
    return [name for name in SERVICES if status[name] == 200]


async def pick_victim(
    stack: LocalStack, probe: Backlogs, mid_publish: bool, chance: object
) -> tuple[str, bool]:
    """A ready service; with `mid_publish`, one whose outbox has unsent rows right now."""
    ready: list[str] = []

    async def some_ready() -> bool:
        ready[:] = await ready_services(stack)
        return bool(ready)

    await poll(some_ready, 120, "a service to be ready again", every=0.1)
    if mid_publish:
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            backlog = await probe.read()
            busy = [name for name in ready if backlog[name] > 0]
            if busy:
                return max(busy, key=lambda n: backlog[n]), True
    return chance.choice(ready), False  # type: ignore[attr-defined]


async def test_random_kills_under_load_lose_and_double_nothing(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    seed = seed_from_env()
    chance = rng(seed)
    async with chaos_stack(tmp_path_factory.mktemp("chaos-kill")) as stack:
        sim = start_simulator(stack, seed, HOURS, bad_rate=0.002)
        await simulator_playing(sim)
        kills: Counter[str] = Counter()
        mid_publish = 0
        started = time.monotonic()
        async with Backlogs(stack.database_url) as probe:
            for cycle in range(CYCLES):
                await asyncio.sleep(chance.uniform(*PAUSE_S))
                name, busy = await pick_victim(stack, probe, cycle % 3 == 2, chance)
                stack.kill_service(name)
                stack.launch_service(name)
                kills[name] += 1
                mid_publish += busy
        print(
            f"\n{CYCLES} kill cycles in {time.monotonic() - started:.0f}s: {dict(kills)}, "
            f"{mid_publish} of them with the relay mid-publish",
            file=sys.stderr,
        )
        assert sim.alive(), "the load must last as long as the cycles"
        code = await asyncio.to_thread(sim.stop, 60)  # SIGTERM: it ends its plan, drains
        assert code == 0, sim.describe_death()
        await asyncio.gather(*(stack.services[n].wait_ready(120) for n in SERVICES))
        assert not stack.failures(), stack.failures()
        phase = time.monotonic()

        verdict = await settled_verdict(stack.bootstrap, stall_timeout=60)
        print(
            f"oracle ({time.monotonic() - phase:.0f}s to settle): {verdict.describe()}",
            file=sys.stderr,
        )
        assert verdict.messages > 0
        assert verdict.lost_count == 0, verdict.describe()
        assert verdict.doubled_count == 0, verdict.describe()

        # KPIs: once the others stop, nothing else produces what metrics reads.
        for name in ("presale", "insale", "aftersale"):
            stack.stop_service(name)
        phase = time.monotonic()
        diff = await kpis_equal_replay(stack, timeout=90)
        print(f"KPIs vs replay ({time.monotonic() - phase:.0f}s): {diff}", file=sys.stderr)
        assert all(a == b == 0 for a, b in diff.values()), f"live vs replay: {diff}"
        assert set((await outbox_backlogs(stack, parked=True)).values()) == {0}
        assert kills.total() == CYCLES
