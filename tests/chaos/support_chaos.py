"""What the chaos tests share: a private stack under simulator load, and the oracle.

The oracle reads the topics themselves, never the services' word for it:
- every valid buyer message has exactly one classification (distinct `ce_id`s: the relay may
  publish a row twice after a crash — the same event, which inboxes absorb — but a second,
  different classification would be a doubled effect);
- every unpaid order has at most the configured reminders, each sent once;
- every refund has exactly one decision;
- (by the caller) metrics' KPIs equal a replay of the topics.

Seeded: CHAOS_SEED (default: from the clock) is printed, so a failure can be replayed.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import ConsumerRecord
from sqlalchemy import text

from devstack import SERVICES, LocalStack
from devstack.config import isolated_config
from devstack.processes import ManagedProcess
from ops.metrics_replay import compare, rebuild
from services.insale.handlers import effect_id
from services.metrics.settings import MetricsSettings
from shared.cloudevents import BadEvent, decode, normalize_headers
from shared.contracts import (
    CaseResolved,
    MessageClassified,
    MessageReceived,
    OrderChanged,
    RefundDecided,
    RefundRequested,
    ReplyRequested,
)
from shared.db import create_engine
from shared.topic_reader import read_to_end
from shared.topics import BY_NAME, DLQ_SUFFIX, TOPICS

SPEED = 1440.0  # business seconds per wall second: an hour of shop time in 2.5 s
MAX_REMINDERS = 1  # INSALE_UNPAID_MAX_REMINDERS (the default)


def seed_from_env() -> int:
    raw = os.environ.get("CHAOS_SEED")
    seed = int(raw) if raw else int(time.time()) % 1_000_000
    print(f"\nchaos seed: CHAOS_SEED={seed}", file=sys.stderr, flush=True)
    return seed


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@asynccontextmanager
async def chaos_stack(
    state_dir: Path, *, durable_broker: bool = False
) -> AsyncIterator[LocalStack]:
    """A broker, database and the four services of the test's own, on a fast business clock."""
    config = isolated_config(
        state_dir, clock_speed=SPEED, log_level="INFO", durable_broker=durable_broker
    )
    stack = LocalStack(config)
    try:
        await stack.start_infra()
        await stack.start_services()
        yield stack
    finally:
        stack.stop()


BUYERS_PER_HOUR = 5  # a small, steady load: the simulator's default is 12.5 an hour


def start_simulator(stack: LocalStack, seed: int, hours: float, bad_rate: float) -> ManagedProcess:
    argv = [sys.executable, "-m", "simulator", "--seed", str(seed), "--speed", f"{SPEED:g}"]
    argv += ["--hours", f"{hours:g}", "--bad-rate", f"{bad_rate:g}"]
    argv += ["--buyers", str(max(20, round(hours * BUYERS_PER_HOUR)))]
    return stack.start_job("simulator", argv)


async def poll(
    check: Callable[[], Awaitable[bool]], timeout: float, what: str, every: float = 0.2
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


async def readiness(stack: LocalStack, names: Iterable[str] = SERVICES) -> dict[str, int]:
    """HTTP status of every service's /readyz (0: no answer)."""
    out: dict[str, int] = {}
    async with httpx.AsyncClient(timeout=2.0) as client:
        for name in names:
            try:
                out[name] = (await client.get(f"{stack.service_url(name)}/readyz")).status_code
            except httpx.HTTPError:
                out[name] = 0
    return out


async def simulator_playing(job: ManagedProcess, timeout: float = 90) -> None:
    """Wait until the simulator has planned its day and publishes (its log says `plan:`)."""

    async def playing() -> bool:
        assert job.alive(), job.describe_death()
        return job.log_path.exists() and "plan: " in job.log_path.read_text(errors="replace")

    await poll(playing, timeout, "the simulator to start playing its plan", every=0.2)


async def simulator_done(job: ManagedProcess, timeout: float) -> None:
    async def done() -> bool:
        return not job.alive()

    await poll(done, timeout, "the simulator to play its whole plan", every=0.5)
    assert job.returncode() == 0, job.describe_death()


async def outbox_backlogs(stack: LocalStack, *, parked: bool = False) -> dict[str, int]:
    """Unsent outbox rows per service: pending ones, or with `parked` the parked ones."""
    async with Backlogs(stack.database_url) as probe:
        return await probe.read(parked=parked)


class Backlogs:
    """Reads every service's outbox backlog in one query, on one connection kept open."""

    def __init__(self, database_url: str) -> None:
        self._engine = create_engine(database_url, "public", pool_size=1)

    async def __aenter__(self) -> Backlogs:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._engine.dispose()

    async def read(self, *, parked: bool = False) -> dict[str, int]:
        where = "parked_at IS NOT NULL" if parked else "parked_at IS NULL"
        columns = ", ".join(
            f"(SELECT count(*) FROM {name}.outbox WHERE sent_at IS NULL AND {where}) AS {name}"
            for name in SERVICES
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(text(f"SELECT {columns}"))).one()
        return {name: int(getattr(row, name)) for name in SERVICES}


# -- the oracle ----------------------------------------------------------------------------
ORACLE_TOPICS = [
    "cs.message.received.v1",
    "cs.message.classified.v1",
    "trade.order.changed.v1",
    "cs.reply.requested.v1",
    "trade.refund.requested.v1",
    "cs.refund.decided.v1",
    "cs.case.resolved.v1",
]


@dataclass
class Verdict:
    messages: int = 0
    orders: int = 0
    refunds: int = 0
    closed_undecided: int = 0  # the platform ended the refund before the rules decided it
    reminders: int = 0
    republished: int = 0  # the same event published again by a relay (absorbed downstream)
    lost: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    doubled: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def lost_count(self) -> int:
        return sum(len(v) for v in self.lost.values())

    @property
    def doubled_count(self) -> int:
        return sum(len(v) for v in self.doubled.values())

    def describe(self) -> str:
        return (
            f"{self.messages} buyer messages, {self.orders} orders, {self.refunds} refunds "
            f"({self.closed_undecided} closed before a decision), "
            f"{self.reminders} reminders; lost {self.lost_count} {dict(self.lost)}, "
            f"doubled {self.doubled_count} {dict(self.doubled)}; "
            f"{self.republished} records republished as the same event"
        )


def _valid(records: list[ConsumerRecord]) -> list[tuple[str, Any]]:
    """(ce_id, payload) of every record that decodes; bad input is the consumers' business."""
    out = []
    for r in records:
        try:
            headers = normalize_headers(r.headers)
            envelope, payload = decode(BY_NAME[r.topic], r.value, headers)
        except BadEvent:
            continue
        out.append((envelope.id, payload))
    return out


async def read_oracle_topics(bootstrap: str) -> dict[str, list[tuple[str, Any]]]:
    # Generous: a soak leaves 100k+ records, and services may still be appending.
    records = await read_to_end(bootstrap, ORACLE_TOPICS, timeout_s=300)
    by_topic: dict[str, list[ConsumerRecord]] = defaultdict(list)
    for r in records:
        by_topic[r.topic].append(r)
    return {name: _valid(by_topic[name]) for name in ORACLE_TOPICS}


def judge(events: dict[str, list[tuple[str, Any]]], max_reminders: int = MAX_REMINDERS) -> Verdict:
    v = Verdict()
    seen_ids: set[str] = set()
    for name in ("cs.message.classified.v1", "cs.reply.requested.v1", "cs.refund.decided.v1"):
        for ce_id, _ in events[name]:
            v.republished += ce_id in seen_ids
            seen_ids.add(ce_id)

    messages = {p.message_id for _, p in events["cs.message.received.v1"]
                if isinstance(p, MessageReceived)}  # fmt: skip
    classified: dict[str, set[str]] = defaultdict(set)
    for ce_id, p in events["cs.message.classified.v1"]:
        assert isinstance(p, MessageClassified)
        classified[p.message_id].add(ce_id)
    v.messages = len(messages)
    v.lost["classification"] = sorted(messages - set(classified))
    v.doubled["classification"] = sorted(m for m, ids in classified.items() if len(ids) > 1)

    refunds = {p.refund_id for _, p in events["trade.refund.requested.v1"]
               if isinstance(p, RefundRequested)}  # fmt: skip
    decided: dict[str, set[str]] = defaultdict(set)
    for ce_id, p in events["cs.refund.decided.v1"]:
        assert isinstance(p, RefundDecided)
        decided[p.refund_id].add(ce_id)
    v.refunds = len(refunds)
    # A refund the platform closed before the rules decided it (its change overtook it, on
    # another topic) ends without a decision: that is an outcome, not a loss.
    resolved = {p.refund_id for _, p in events["cs.case.resolved.v1"]
                if isinstance(p, CaseResolved) and p.refund_id}  # fmt: skip
    undecided = refunds - set(decided)
    v.closed_undecided = len(undecided & resolved)
    v.lost["refund decision"] = sorted(undecided - resolved)
    v.doubled["refund decision"] = sorted(r for r, ids in decided.items() if len(ids) > 1)

    orders = {p.order_id for _, p in events["trade.order.changed.v1"]
              if isinstance(p, OrderChanged)}  # fmt: skip
    v.orders = len(orders)
    number_of = {
        effect_id(o, f"reminder:{n}"): (o, n) for o in orders for n in range(1, max_reminders + 3)
    }
    reminders: dict[str, set[str]] = defaultdict(set)
    for ce_id, p in events["cs.reply.requested.v1"]:
        if isinstance(p, ReplyRequested) and p.kind == "reminder":
            reminders[p.reply_request_id].add(ce_id)
    v.reminders = len(reminders)
    for rid, ids in reminders.items():
        order, n = number_of.get(rid, (rid, 0))
        if len(ids) > 1 or n > max_reminders or n == 0:
            v.doubled["reminder"].append(f"{order}#{n}")
    for kind in list(v.lost):
        if not v.lost[kind]:
            del v.lost[kind]
    for kind in list(v.doubled):
        if not v.doubled[kind]:
            del v.doubled[kind]
    return v


async def settled_verdict(bootstrap: str, stall_timeout: float) -> Verdict:
    """Read the topics until nothing is missing; give up only when the services make no progress
    (nothing more handled) for `stall_timeout` seconds — a soak leaves a long backlog."""
    best, stalled_since = None, time.monotonic()
    while True:
        verdict = judge(await read_oracle_topics(bootstrap))
        if not verdict.lost:
            return verdict
        if best is None or verdict.lost_count < best:
            best, stalled_since = verdict.lost_count, time.monotonic()
        elif time.monotonic() - stalled_since > stall_timeout:
            return verdict
        await asyncio.sleep(2.0)


async def kpis_equal_replay(stack: LocalStack, timeout: float) -> dict[str, tuple[int, int]]:
    """Rebuild metrics from the topics and compare with live until equal (metrics may still be
    catching up) or the deadline; the last difference (all zeros: equal)."""
    settings = MetricsSettings(
        kafka_bootstrap_servers=stack.bootstrap, database_url=stack.database_url
    )
    deadline = time.monotonic() + timeout
    while True:
        await rebuild(settings)
        engine = create_engine(stack.database_url, "metrics", pool_size=1)
        try:
            diff = await compare(engine)
        finally:
            await engine.dispose()
        if all(a == b == 0 for a, b in diff.values()) or time.monotonic() > deadline:
            return diff
        await asyncio.sleep(1.0)


async def dead_letters(bootstrap: str) -> list[ConsumerRecord]:
    names = [t.name + DLQ_SUFFIX for t in TOPICS]
    return await read_to_end(bootstrap, names, timeout_s=300)


def rng(seed: int) -> random.Random:
    return random.Random(seed)
