"""Events per topic and consumer lag, read from the broker after a demo run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping

import httpx
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from devstack.broker import expected_topics
from shared.topic_reader import high_watermarks


async def end_offsets(bootstrap: str, topics: Iterable[tuple[str, int]]) -> dict[str, int]:
    """{topic: events ever written} (sum of end offsets; Tansu keeps everything in memory)."""
    tps = [TopicPartition(name, p) for name, n in topics for p in range(n)]
    out: dict[str, int] = {}
    for tp, offset in (await _end_offsets_by_tp(bootstrap, tps)).items():
        out[tp.topic] = out.get(tp.topic, 0) + offset
    return out


async def group_lags(bootstrap: str, topics: Iterable[tuple[str, int]]) -> dict[str, int]:
    """{consumer group: messages not yet committed} over the topics the group committed on."""
    topics = list(topics)
    tps = [TopicPartition(name, p) for name, n in topics for p in range(n)]
    ends_by_tp = await _end_offsets_by_tp(bootstrap, tps)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        groups = [g[0] for g in await admin.list_consumer_groups()]
        lags: dict[str, int] = {}
        for group in sorted(groups):
            # Tansu needs explicit partitions (STACK_NOTES).
            committed = await admin.list_consumer_group_offsets(group, partitions=tps)
            lag = 0
            for tp, meta in committed.items():
                if meta.offset >= 0:
                    lag += max(0, ends_by_tp.get(tp, 0) - meta.offset)
            lags[group] = lag
        return lags
    finally:
        await admin.close()


async def _end_offsets_by_tp(
    bootstrap: str, tps: list[TopicPartition]
) -> dict[TopicPartition, int]:
    return await high_watermarks(bootstrap, tps)


async def wait_settled(
    bootstrap: str, wait_s: float = 30.0, quiet_for: float = 3.0
) -> dict[str, int]:
    """Wait until consumer lag is zero, or stops changing for `quiet_for` s, or `wait_s` s pass."""
    topics = expected_topics()
    deadline = time.monotonic() + wait_s
    last: dict[str, int] = {}
    last_change = time.monotonic()
    while True:
        lags = await group_lags(bootstrap, topics)
        if lags != last:
            last, last_change = lags, time.monotonic()
        if not any(lags.values()):
            return lags
        now = time.monotonic()
        if now - last_change >= quiet_for or now >= deadline:
            return lags
        await asyncio.sleep(0.5)


def format_summary(counts: dict[str, int], lags: dict[str, int]) -> str:
    names = sorted(n for n in counts if not n.endswith(".dlq"))
    width = max((len(n) for n in names), default=10) + 2
    lines = ["", "Events per topic", "-" * (width + 20)]
    lines.append(f"{'topic':<{width}}{'events':>9}{'dead letters':>14}")
    for name in names:
        lines.append(f"{name:<{width}}{counts[name]:>9}{counts.get(name + '.dlq', 0):>14}")
    total = sum(counts[n] for n in names)
    dead = sum(v for n, v in counts.items() if n.endswith(".dlq"))
    lines.append(f"{'total':<{width}}{total:>9}{dead:>14}")
    if lags:
        lines += ["", "Consumer groups (uncommitted messages)"]
        lines += [f"  {group:<{width}}{lag:>9}" for group, lag in lags.items()]
    return "\n".join(lines)


HEADLINES = (
    ("buyer messages", "cs.message.received.v1"),
    ("replies requested", "cs.reply.requested.v1"),
    ("hand-offs to agents", "cs.conversation.assigned.v1"),
    ("order alerts", "cs.order.alert.v1"),
    ("refund decisions", "cs.refund.decided.v1"),
)


async def timers_fired(service_urls: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """{service: {timer kind: fired}} scraped from each running service's /metrics."""
    out: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(timeout=5) as client:
        for name, url in service_urls.items():
            try:
                text = (await client.get(f"{url}/metrics")).text
            except httpx.HTTPError:
                continue
            kinds: dict[str, float] = {}
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name == "xiaoer_timers_fired_total":
                        kind = sample.labels.get("kind", "?")
                        kinds[kind] = kinds.get(kind, 0) + sample.value
            out[name] = kinds
    return out


def format_activity(counts: dict[str, int], fired: dict[str, dict[str, float]]) -> str:
    lines = ["", "What happened", "-" * 40]
    lines += [f"  {label:<26}{counts.get(topic, 0):>8}" for label, topic in HEADLINES]
    dead = sum(v for n, v in counts.items() if n.endswith(".dlq"))
    lines.append(f"  {'dead letters':<26}{dead:>8}")
    total = sum(sum(kinds.values()) for kinds in fired.values())
    lines.append(f"  {'timers fired':<26}{int(total):>8}")
    for service, kinds in fired.items():
        for kind, n in sorted(kinds.items()):
            lines.append(f"    {service + ' ' + kind:<24}{int(n):>8}")
    return "\n".join(lines)


async def summarize(
    bootstrap: str, settle_timeout: float = 30.0, service_urls: Mapping[str, str] | None = None
) -> str:
    lags = await wait_settled(bootstrap, settle_timeout)
    counts = await end_offsets(bootstrap, expected_topics())
    fired = await timers_fired(service_urls or {})
    return format_summary(counts, lags) + "\n" + format_activity(counts, fired)
