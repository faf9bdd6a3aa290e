"""After a demo run: the business story (topics + metrics API), events per topic, consumer lag."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from devstack.broker import expected_topics
from devstack.story import Events, business_figures, format_story
from shared.cloudevents import BadEvent, decode, normalize_headers
from shared.contracts import (
    ConversationAssigned,
    MessageClassified,
    MessageReceived,
    OrderAlert,
    RefundDecided,
    ReplyRequested,
)
from shared.topic_reader import high_watermarks, read_to_end
from shared.topics import topic

SHOP_TZ = ZoneInfo("Asia/Shanghai")


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


def service_lags(lags: Mapping[str, int]) -> dict[str, int]:
    """The services' groups only: the simulator's stopped groups fall behind for good."""
    return {g: n for g, n in lags.items() if g.startswith("xiaoer-")}


async def wait_settled(
    bootstrap: str, wait_s: float = 30.0, quiet_for: float = 3.0
) -> dict[str, int]:
    """Wait until the services' lag is zero, or stops changing for `quiet_for` s, or `wait_s` s pass."""
    topics = expected_topics()
    deadline = time.monotonic() + wait_s
    last: dict[str, int] = {}
    last_change = time.monotonic()
    while True:
        lags = service_lags(await group_lags(bootstrap, topics))
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


# -- the business story ------------------------------------------------------------------------
STORY_TOPICS = (
    "cs.message.received.v1",
    "cs.message.classified.v1",
    "cs.reply.requested.v1",
    "cs.conversation.assigned.v1",
    "cs.refund.decided.v1",
    "cs.order.alert.v1",
)


@dataclass(frozen=True)
class DemoRun:
    """Where the demo's figures come from once the simulator has finished."""

    bootstrap: str
    metrics_url: str
    shop_id: str
    token: str
    truth_file: Path
    window: tuple[datetime, datetime]  # business time [from, to) of the API queries
    speed: float
    out_json: Path


def collect_events(records: Iterable[ConsumerRecord], dead_letters: Mapping[str, int]) -> Events:
    """Reduce the records of STORY_TOPICS to what the story counts (unreadable ones skipped)."""
    ev = Events(dead_letters=dict(dead_letters))
    for r in records:
        try:
            _, p = decode(topic(r.topic), r.value, normalize_headers(r.headers or ()))
        except BadEvent:
            continue
        if isinstance(p, MessageReceived):
            ev.received_ms.setdefault(p.message_id, r.timestamp)
        elif isinstance(p, MessageClassified):
            ev.classified[p.message_id] = (p.intent, p.stage)
        elif isinstance(p, ReplyRequested):
            if p.kind == "auto_answer" and p.in_reply_to is not None:
                ev.auto_answers_ms.setdefault(p.in_reply_to, r.timestamp)
        elif isinstance(p, ConversationAssigned):
            ev.handoff_reasons[p.reason] += 1
        elif isinstance(p, RefundDecided):
            ev.refund_rules[(p.decision, p.rule_id)] += 1
        elif isinstance(p, OrderAlert):
            ev.alert_kinds[p.kind] += 1
    return ev


async def metrics_api(run: DemoRun) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """The agents table, the shop totals and 催付 recovery of the demo window."""
    start, end = run.window
    params = {"from": start.isoformat(), "to": end.isoformat()}
    base = f"{run.metrics_url}/api/v1/shops/{run.shop_id}/kpis"
    headers = {"Authorization": f"Bearer {run.token}"}
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        answers = []
        for path in ("agents", "shop", "reminders"):
            r = await client.get(f"{base}/{path}", params=params)
            r.raise_for_status()
            answers.append(r.json())
    agents, shop, reminders = answers
    return agents["agents"], shop, reminders


async def business_summary(run: DemoRun) -> str:
    """Read the topics and the metrics API; write `run.out_json`; return the story as text."""
    truth_doc = json.loads(run.truth_file.read_text()) if run.truth_file.exists() else {}
    dlq = [(name, n) for name, n in expected_topics() if name.endswith(".dlq")]
    records = await read_to_end(run.bootstrap, STORY_TOPICS, timeout_s=120)
    dead = {
        name.removesuffix(".dlq"): n for name, n in (await end_offsets(run.bootstrap, dlq)).items()
    }
    agents, shop, reminders = await metrics_api(run)
    figures = business_figures(
        run.shop_id, collect_events(records, dead), truth_doc.get("intents", {}), agents, shop,
        reminders,
    )  # fmt: skip
    window = {"from": run.window[0].isoformat(), "to": run.window[1].isoformat()}
    figures["window"] = window
    figures["speed"] = run.speed
    run.out_json.write_text(json.dumps(figures, ensure_ascii=False, indent=1))
    shown = {
        k: f"{v:%Y-%m-%d %H:%M}" for k, v in zip(("from", "to"), _local(run.window), strict=True)
    }
    return format_story(figures, run.speed, shown)


def _local(window: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    return tuple(w.astimezone(SHOP_TZ) for w in window)  # type: ignore[return-value]


async def platform_line(bootstrap: str, service_urls: Mapping[str, str]) -> str:
    """One line for the platform engineer: events, the services' consumer lag, timers fired."""
    counts = await end_offsets(bootstrap, expected_topics())
    lags = service_lags(await group_lags(bootstrap, expected_topics()))
    fired = await timers_fired(service_urls)
    events = sum(v for n, v in counts.items() if not n.endswith(".dlq"))
    timers = int(sum(sum(k.values()) for k in fired.values()))
    lag = sum(lags.values())
    line = (
        f"\nPlatform: {events} events on {len(counts) // 2} topics, consumer lag {lag}, "
        f"timers fired {timers}"
    )
    if lag:
        line += (
            "\n  (the services had not caught up when the figures were taken: the machine is"
            " probably too busy for this SPEED; try a lower SPEED)"
        )
    return line
