"""Fuzz: tens of thousands of hostile records on every consumed topic, through the real stack.

Every record must end handled (or recognised as a duplicate) or in `<topic>.dlq` with a reason;
no consumer group may stall longer than `MAX_STALL_S`; no service may restart. The accounting
uses each service's own `xiaoer_events_total` (which must count every record exactly once, even
when a batch is re-run) against the topics' real ends, and the dead-letter topics' contents
against the `dead_lettered` counts.

Counts (records per topic): `FUZZ_RECORDS` sets every topic (the soak of `make chaos`: 10,000
on every consumed topic); by default the suite's bounded run sends `FUZZ_INCIDENT_RECORDS`
(2,000) on the two topics of the incident (`cs.message.received.v1`, `trade.order.changed.v1`)
and `FUZZ_OTHER_RECORDS` (200) on each other consumed topic.
`FUZZ_SERVICES` (e.g. `presale`) limits the run to the topics those services consume.
`FUZZ_SEED` replays a run (the seed is printed either way).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from devstack import LocalStack
from ops.topology import CONSUMES
from shared.topic_reader import read_to_end
from shared.topics import BY_NAME, DLQ_SUFFIX
from tests.chaos.fuzz_records import Mutator

INCIDENT_TOPICS = ("cs.message.received.v1", "trade.order.changed.v1")
# No group may stand still longer than this (issue #10): 5 s, in CI and in the soak. Measured on
# 2026-12-03 at 10,000 hostile records on every topic (`make chaos`, seed 1453097550): longest
# stall 3.2 s (presale), in CI's bounded run 3.2 s. What used to come near or over it: presale's
# per-event roster and hand-off handlers reading the whole queue and locking every agent of a
# shop (now `queue_room` and one advisory lock per shop), messages sent handled one by one (now
# in its batches), deadlocks between a consume path and its timer runner (the runner now gives
# way), and this watcher itself: it did not count presale's commits on trade.order.changed.v1
# (the topics now come from ops/topology.py, which a test checks against the services), so the
# ~10,000 order records presale works through at the end of a soak read as a 12-14 s stall.
# The longest stall per group is printed either way.
MAX_STALL_S = float(os.environ.get("FUZZ_MAX_STALL_S", "5"))
SOAK = bool(os.environ.get("FUZZ_RECORDS"))
SETTLE_TIMEOUT_S = float(os.environ.get("FUZZ_SETTLE_TIMEOUT_S", "3000" if SOAK else "600"))


def _counts() -> dict[str, int]:
    topics = sorted({t for ts in CONSUMES.values() for t in ts})
    chosen = os.environ.get("FUZZ_SERVICES")  # e.g. "presale": only the topics it consumes
    if chosen:
        topics = sorted({t for s in chosen.split(",") for t in CONSUMES[s.strip()]})
    every = os.environ.get("FUZZ_RECORDS")
    if every:
        return dict.fromkeys(topics, int(every))
    # The suite's bounded run (CI: the whole suite has 15 minutes on 2 cores); `make chaos`
    # sets FUZZ_RECORDS for the soak of 10,000+ on every topic.
    incident = int(os.environ.get("FUZZ_INCIDENT_RECORDS", "2000"))
    other = int(os.environ.get("FUZZ_OTHER_RECORDS", "200"))
    return {t: incident if t in INCIDENT_TOPICS else other for t in topics}


def _group(service: str) -> str:
    return f"xiaoer-{service}"


@dataclass
class Progress:
    """Committed offsets of every group against the topics' real ends, sampled over time."""

    stall: dict[str, float] = field(default_factory=dict)  # longest stall seen, per group
    stalled_since: dict[str, str] = field(default_factory=dict)  # wall time it began
    lag: dict[str, int] = field(default_factory=dict)
    ends: dict[TopicPartition, int] = field(default_factory=dict)
    samples: int = 0


class Watcher:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.progress = Progress()
        self.partitions = {
            svc: [TopicPartition(t, p) for t in topics for p in range(BY_NAME[t].partitions)]
            for svc, topics in CONSUMES.items()
        }
        self._all = sorted({tp for tps in self.partitions.values() for tp in tps})
        self._moved: dict[str, float] = {}
        self._last: dict[str, int] = {}

    async def __aenter__(self) -> Watcher:
        self.admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self.admin.start()
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
            max_partition_fetch_bytes=1,
        )
        await self.consumer.start()
        self.consumer.assign(self._all)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()
        await self.admin.close()

    async def ends(self) -> dict[TopicPartition, int]:
        """The high watermarks (see shared/topic_reader.py for why not `end_offsets`)."""
        reported = await self.consumer.end_offsets(self._all)
        for tp in self._all:
            self.consumer.seek(tp, reported[tp])
        await self.consumer.getmany(*self._all, timeout_ms=50)
        return {tp: max(self.consumer.highwater(tp) or 0, reported[tp]) for tp in self._all}

    async def sample(self) -> bool:
        """One look at every group; True when every group is at the end of its topics."""
        now = time.monotonic()
        ends = await self.ends()
        self.progress.ends = ends
        self.progress.samples += 1
        settled = True
        for svc, tps in self.partitions.items():
            committed = await self.admin.list_consumer_group_offsets(_group(svc), partitions=tps)
            done = {tp: max(committed[tp].offset, 0) if tp in committed else 0 for tp in tps}
            lag = sum(max(ends[tp] - done[tp], 0) for tp in tps)
            total = sum(done.values())
            self.progress.lag[svc] = lag
            if lag == 0 or total != self._last.get(svc):
                self._moved[svc] = now
            self._last[svc] = total
            stalled = now - self._moved.setdefault(svc, now)
            if stalled > self.progress.stall.get(svc, 0.0):
                self.progress.stall[svc] = stalled
                began = time.time() - stalled
                self.progress.stalled_since[svc] = time.strftime("%H:%M:%S", time.gmtime(began))
            settled = settled and lag == 0
        return settled

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.sample()
            await asyncio.sleep(0.25)


async def _produce(bootstrap: str, mutator: Mutator, counts: dict[str, int]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,
        linger_ms=20,
        max_request_size=4 * 1024 * 1024,
        max_batch_size=1024 * 1024,
    )
    await producer.start()
    try:
        for topic, n in counts.items():
            pending = []
            for r in mutator.records(topic, n):
                pending.append(
                    await producer.send(r.topic, r.value, key=r.key, headers=r.headers)  # type: ignore[arg-type]
                )
                if len(pending) >= 2000:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
    finally:
        await producer.stop()


def _events_total(text: str, service: str) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "xiaoer_events":
            continue
        for s in family.samples:
            if s.name == "xiaoer_events_total" and s.labels.get("service") == service:
                out[(s.labels["topic"], s.labels["outcome"])] = s.value
    return out


async def _service_counts(stack: LocalStack) -> dict[str, dict[tuple[str, str], float]]:
    out = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for svc in CONSUMES:
            r = await client.get(f"{stack.service_url(svc)}/metrics")
            r.raise_for_status()
            out[svc] = _events_total(r.text, svc)
    return out


@pytest.mark.timeout(SETTLE_TIMEOUT_S + 300)
async def test_hostile_records_end_handled_or_dead_lettered(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
    counts = _counts()
    with capsys.disabled():
        print(f"\nfuzz seed {seed} (replay: FUZZ_SEED={seed}); records per topic {counts}")
    pids = {svc: stack.services[svc].pid for svc in CONSUMES}
    started = time.monotonic()

    async with Watcher(stack.bootstrap) as watcher:
        stop = asyncio.Event()
        watching = asyncio.create_task(watcher.watch(stop))
        try:
            await _produce(stack.bootstrap, Mutator(seed), counts)
            produced_s = time.monotonic() - started
            deadline = time.monotonic() + SETTLE_TIMEOUT_S
            calm_since = None
            while True:  # settled: every group at the end, and the ends stay put for 2 s
                assert not stack.failures(), stack.failures()
                if all(lag == 0 for lag in watcher.progress.lag.values()) and (
                    watcher.progress.samples > 1
                ):
                    calm_since = calm_since or time.monotonic()
                    if time.monotonic() - calm_since > 2:
                        break
                else:
                    calm_since = None
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"groups did not reach the end in {SETTLE_TIMEOUT_S}s "
                        f"(seed {seed}): lag {watcher.progress.lag}"
                    )
                await asyncio.sleep(0.25)
        finally:
            stop.set()
            await watching
        ends = watcher.progress.ends
    settled_s = time.monotonic() - started

    # Dead letters: every one with a reason; as many as each service counted.
    dlq_topics = sorted({t + DLQ_SUFFIX for ts in CONSUMES.values() for t in ts})
    # The soak dead-letters tens of thousands of records, some carrying 100 KB headers: reading
    # them back takes longer than the bounded run's minute.
    read_s = max(60.0, sum(counts.values()) / 500)
    deadline = time.monotonic() + read_s
    while True:
        dead = await read_to_end(stack.bootstrap, dlq_topics, timeout_s=read_s)
        per: Counter[tuple[str, str]] = Counter()
        for r in dead:
            h = {k: (v or b"").decode(errors="replace") for k, v in r.headers}
            assert h.get("x-dlq-reason"), f"a dead letter without a reason: {h}"
            per[(h.get("x-dlq-consumer", ""), h.get("x-dlq-topic", ""))] += 1
        seen = await _service_counts(stack)
        counted = {
            (_group(svc), topic): n
            for svc, c in seen.items()
            for (topic, outcome), n in c.items()
            if outcome == "dead_lettered" and n
        }
        if {k: float(v) for k, v in per.items()} == counted or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert {k: float(v) for k, v in per.items()} == counted

    # Every record counted once: handled, duplicate or dead-lettered.
    on_topic = defaultdict(int)
    for tp, end in ends.items():
        on_topic[tp.topic] += end
    report = [f"fuzz seed {seed}: produced in {produced_s:.0f}s, settled in {settled_s:.0f}s"]
    for svc, topics in CONSUMES.items():
        c = seen[svc]
        for topic in topics:
            handled = c.get((topic, "handled"), 0)
            dup = c.get((topic, "duplicate"), 0)
            dead_n = c.get((topic, "dead_lettered"), 0)
            total = handled + dead_n + (0 if svc == "metrics" else dup)
            report.append(
                f"  {svc:9} {topic:28} records {on_topic[topic]:6} handled {handled:6.0f} "
                f"duplicate {dup:5.0f} dead-lettered {dead_n:6.0f}"
            )
            assert total == on_topic[topic], (svc, topic, c, on_topic[topic], seed)
    stalls = watcher.progress.stall
    report.append(
        "  longest stall per group: "
        + ", ".join(
            f"{k} {v:.1f}s (from {watcher.progress.stalled_since.get(k, '-')} UTC)"
            for k, v in stalls.items()
        )
    )
    with capsys.disabled():
        print("\n".join(report))

    assert not stack.failures(), stack.failures()
    assert {svc: stack.services[svc].pid for svc in CONSUMES} == pids, "a service restarted"
    async with httpx.AsyncClient(timeout=10) as client:
        for svc in CONSUMES:
            r = await client.get(f"{stack.service_url(svc)}/readyz")
            assert r.status_code == 200, (svc, r.text)
    assert max(stalls.values()) <= MAX_STALL_S, (stalls, seed)
