"""Plays a plan against a real broker at compressed business time, and runs the reactive parts.

Three concurrent loops share one producer: the plan publisher (sleeps until each event is due
by the business clock), the IM gateway (delivers `cs.reply.requested`), and the agents
(answer `cs.conversation.assigned` conversations and later buyer messages after a human delay).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.clock import ScaledClock
from shared.cloudevents import BadEvent, decode, encode, normalize_headers
from shared.contracts import (
    ConversationAssigned,
    ConversationClosed,
    CsatSubmitted,
    EventPayload,
    MessageReceived,
    MessageSent,
    ReplyRequested,
)
from shared.topics import topic
from simulator.agents import AgentDesk, human_delay
from simulator.gateway import Gateway
from simulator.scenario import IM_SOURCE, BadRecord, Plan, Planned

REPLY_REQUESTED = "cs.reply.requested.v1"
ASSIGNED = "cs.conversation.assigned.v1"
CLOSED = "cs.conversation.closed.v1"
GATEWAY_GROUP = "simulator-gateway"
AGENTS_GROUP = "simulator-agents"


@dataclass
class Stats:
    produced: Counter[str] = field(default_factory=Counter)
    planned: Counter[str] = field(default_factory=Counter)
    bad_records: int = 0
    replies_delivered: int = 0
    agent_messages: int = 0
    unreadable_inputs: int = 0
    send_errors: int = 0
    csat: list[int] = field(default_factory=list)
    orders: set[str] = field(default_factory=set)


@dataclass
class Runner:
    plan_factory: Callable[[datetime], Plan]
    clock: ScaledClock
    bootstrap: str
    out: TextIO = sys.stdout
    progress_every_s: float = 2.0
    drain_idle_s: float = 2.0
    drain_max_s: float = 20.0
    ready_timeout_s: float = 20.0
    stats: Stats = field(default_factory=Stats)
    plan: Plan | None = None

    def __post_init__(self) -> None:
        self.gateway = Gateway()
        self.desk: AgentDesk | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_input = 0.0
        self._stop = asyncio.Event()
        self.producer: AIOKafkaProducer | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def run(self) -> Stats:
        loop = asyncio.get_running_loop()
        self.producer = producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, enable_idempotence=False, acks=1, linger_ms=5
        )
        gw = self._consumer([REPLY_REQUESTED], GATEWAY_GROUP)
        ag = self._consumer([ASSIGNED, CLOSED], AGENTS_GROUP)
        await producer.start()
        await gw.start()
        await ag.start()
        loops = [
            asyncio.create_task(self._consume(gw, self._on_gateway_input)),
            asyncio.create_task(self._consume(ag, self._on_agents_input)),
        ]
        try:
            self._print(f"simulator: broker {self.bootstrap}, waiting for consumer groups")
            await self._wait_assigned(gw, ag)
            self.begin(self.clock.now().replace(microsecond=0))
            assert self.plan is not None
            self._print(f"plan: {len(self.plan.events)} events from {self.plan.start.isoformat()} "
                        f"to {self.plan.end.isoformat()} at speed {self.clock.speed:g}")  # fmt: skip
            progress = asyncio.create_task(self._progress())
            for signum in (2, 15):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(signum, self._stop.set)
            await self._publish_plan()
            await self._drain()
            progress.cancel()
            self._print(self.progress_line())
        finally:
            for t in [*loops, *self._tasks]:
                t.cancel()
            await asyncio.gather(*loops, *self._tasks, return_exceptions=True)
            await gw.stop()
            await ag.stop()
            await producer.flush()
            await producer.stop()
        return self.stats

    def begin(self, start: datetime) -> None:
        """Plan the window from `start` and seat the agents (separate from I/O for tests)."""
        self.plan = self.plan_factory(start)
        profiles = {a.agent_id: a for a in self.plan.agents}
        self.desk = AgentDesk(self.plan.shop_id, profiles, random.Random(self.plan.seed + 1))

    def _consumer(self, topics: list[str], group: str) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *topics,
            bootstrap_servers=self.bootstrap,
            group_id=group,
            session_timeout_ms=3000,
            heartbeat_interval_ms=1000,
            auto_offset_reset="earliest",
            enable_auto_commit=True,
            auto_commit_interval_ms=1000,
        )

    async def _wait_assigned(self, *consumers: AIOKafkaConsumer) -> None:
        """Start the day only once both groups hold partitions, or replies would be missed."""
        for _ in range(int(self.ready_timeout_s * 10)):
            if all(c.assignment() for c in consumers):
                return
            await asyncio.sleep(0.1)
        if not all(c.assignment() for c in consumers):
            self._print("warning: consumer groups not assigned yet; starting anyway")

    # -- business time ---------------------------------------------------------------------
    async def _sleep_until(self, at: datetime) -> None:
        delay = (at - self.clock.now()).total_seconds() / self.clock.speed
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=delay)

    def _later(self, at: datetime, action: Callable[[], Awaitable[None]]) -> None:
        async def job() -> None:
            await self._sleep_until(at)
            await action()

        task = asyncio.create_task(job())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- publishing ------------------------------------------------------------------------
    async def _send(self, topic_name: str, payload: EventPayload, source: str,
                    value: bytes | None = None) -> None:  # fmt: skip
        assert self.producer is not None
        record = encode(topic(topic_name), payload, source=source, time=self.clock.now())
        fut = await self.producer.send(
            record.topic,
            value=record.value if value is None else value,
            key=record.key.encode(),
            headers=[(k, v.encode()) for k, v in record.headers.items()],
        )
        fut.add_done_callback(self._on_sent)
        self.stats.produced[topic_name] += 1

    def _on_sent(self, fut: asyncio.Future[object]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            self.stats.send_errors += 1

    async def _publish_plan(self) -> None:
        assert self.plan is not None
        assert self.desk is not None
        for ev in self.plan.events:
            await self._sleep_until(ev.at)
            if self._stop.is_set():
                self._print("interrupted: stopping early")
                return
            if isinstance(ev, BadRecord):
                await self._send(ev.topic, ev.payload, ev.source, value=ev.value)
                self.stats.bad_records += 1
                continue
            await self._send(ev.topic, ev.payload, ev.source)
            self._account(ev)
        await self._sleep_until(self.plan.end)

    def _account(self, ev: Planned) -> None:
        assert self.desk is not None
        p = ev.payload
        self.stats.planned[ev.topic] += 1
        if isinstance(p, MessageReceived):
            agent = self.desk.on_buyer_message(p, ev.intent, ev.gap)
            if agent:
                self._schedule_agent_reply(p.conversation_id, agent)
        elif isinstance(p, MessageSent) and p.sender_kind == "agent":
            self.stats.agent_messages += 1
        elif isinstance(p, CsatSubmitted):
            self.stats.csat.append(p.rating)
        order_id = getattr(p, "order_id", None)
        if ev.topic == "trade.order.changed.v1" and order_id:
            self.stats.orders.add(order_id)

    def _schedule_agent_reply(self, conversation_id: str, agent_id: str) -> None:
        assert self.desk is not None
        desk = self.desk

        async def answer() -> None:
            msg = desk.reply(conversation_id, agent_id, self.clock.now())
            if msg is not None:
                await self._send("cs.message.sent.v1", msg, IM_SOURCE)
                self.stats.agent_messages += 1

        self._later(self.clock.now() + human_delay(desk.rng), answer)

    # -- reactive inputs -------------------------------------------------------------------
    async def _consume(
        self, consumer: AIOKafkaConsumer, handler: Callable[[str, EventPayload], Awaitable[None]]
    ) -> None:
        async for msg in consumer:
            self._last_input = asyncio.get_running_loop().time()
            try:
                _, payload = decode(
                    topic(msg.topic), msg.value, normalize_headers(msg.headers or ())
                )
            except BadEvent:
                self.stats.unreadable_inputs += 1
                continue
            await handler(msg.topic, payload)

    async def _on_gateway_input(self, topic_name: str, payload: EventPayload) -> None:
        if isinstance(payload, ReplyRequested):
            sent = self.gateway.deliver(payload, self.clock.now())
            if sent is not None:
                await self._send("cs.message.sent.v1", sent, IM_SOURCE)
                self.stats.replies_delivered += 1

    async def _on_agents_input(self, topic_name: str, payload: EventPayload) -> None:
        if self.desk is None:
            return
        if isinstance(payload, ConversationAssigned):
            agent = self.desk.on_assigned(payload)
            if agent:
                self._schedule_agent_reply(payload.conversation_id, agent)
        elif isinstance(payload, ConversationClosed):
            self.desk.on_closed(payload.conversation_id)

    async def _drain(self) -> None:
        """Let the services answer the last buyers: stop once inputs and pending replies settle."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        while loop.time() - began < self.drain_max_s and not self._stop.is_set():
            idle = loop.time() - self._last_input >= self.drain_idle_s
            if idle and not self._tasks:
                break
            await asyncio.sleep(0.2)

    # -- reporting -------------------------------------------------------------------------
    async def _progress(self) -> None:
        while True:
            await asyncio.sleep(self.progress_every_s)
            self._print(self.progress_line())

    def progress_line(self) -> str:
        now = self.clock.now().astimezone(self.plan.start.tzinfo if self.plan else None)
        kinds = " ".join(f"{short(t)}={n}" for t, n in sorted(self.stats.produced.items()))
        return (f"[{now:%Y-%m-%d %H:%M}] {kinds} | replies delivered={self.stats.replies_delivered}"
                f" agent msgs={self.stats.agent_messages} pending={len(self._tasks)}")  # fmt: skip

    def summary(self) -> str:
        s = self.stats
        lines = ["summary:"]
        lines += [f"  {t:32s} {n:6d}" for t, n in sorted(s.produced.items())]
        lines.append(f"  {'total produced':32s} {sum(s.produced.values()):6d}")
        counts = s.planned
        csat = s.csat
        avg = sum(csat) / len(csat) if csat else 0.0
        satisfied = sum(1 for r in csat if r >= 4) / len(csat) if csat else 0.0
        lines += [
            f"  replies delivered (gateway)      {s.replies_delivered}"
            f" (duplicates ignored: {self.gateway.duplicates})",
            f"  agent messages                   {s.agent_messages}",
            f"  orders                           {len(s.orders)}",
            f"  refunds requested                {counts['trade.refund.requested.v1']}",
            f"  reviews                          {counts['trade.review.posted.v1']}",
            f"  CSAT                             {len(csat)} (avg {avg:.2f}, "
            f"satisfied {satisfied:.0%})",
            f"  bad records (for the DLQ)        {s.bad_records}",
            f"  unreadable inputs skipped        {s.unreadable_inputs}",
            f"  send errors                      {s.send_errors}",
        ]
        return "\n".join(lines)

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def short(topic_name: str) -> str:
    """`cs.message.received.v1` → `message.received`."""
    return topic_name.split(".", 1)[1].rsplit(".", 1)[0]
