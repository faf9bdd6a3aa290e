"""The runner's wiring, against an in-memory producer (no broker)."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from shared.clock import ScaledClock
from shared.cloudevents import BadEvent, decode, normalize_headers
from shared.contracts import ConversationAssigned, MessageSent, ReplyRequested
from shared.topics import topic
from simulator.runner import ASSIGNED, REPLY_REQUESTED, Runner
from simulator.scenario import generate

START = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


@dataclass
class FakeProducer:
    sent: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]] = field(default_factory=list)

    async def send(self, topic_name: str, value: bytes, key: bytes, headers: Any) -> asyncio.Future:
        self.sent.append((topic_name, value, key, headers))
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut


def runner() -> tuple[Runner, FakeProducer]:
    factory = partial(generate, 3, hours=6, buyers=60, bad_rate=0.02)
    r = Runner(factory, ScaledClock(1e9), "unused:9092", out=io.StringIO())
    fake = FakeProducer()
    r.producer = fake  # type: ignore[assignment]
    r.begin(START)
    return r, fake


async def test_publishes_the_whole_plan_as_cloudevents() -> None:
    r, fake = runner()
    assert r.plan is not None
    await r._publish_plan()
    assert len(fake.sent) == len(r.plan.events)
    bad = 0
    for name, value, key, headers in fake.sent:
        assert all(isinstance(v, bytes) for _, v in headers)
        try:
            _, payload = decode(topic(name), value, normalize_headers(headers))
        except BadEvent:
            bad += 1
            continue
        assert key == topic(name).key_of(payload).encode()
    assert bad == r.stats.bad_records == len(r.plan.bad)
    assert "summary:" in r.summary()


async def test_gateway_and_agents_react() -> None:
    r, fake = runner()
    now = datetime.now(UTC)
    req = ReplyRequested(
        shop_id="shop-demo", reply_request_id="rr-1", conversation_id="c1", buyer_id="AAFx",
        text="亲,在的", kind="auto_answer", requested_by="presale", requested_at=now,
    )  # fmt: skip
    await r._on_gateway_input(REPLY_REQUESTED, req)
    await r._on_gateway_input(REPLY_REQUESTED, req)  # redelivered: not sent twice
    agent = r.plan.agents[0].agent_id  # type: ignore[union-attr]
    assign = ConversationAssigned(
        shop_id="shop-demo", conversation_id="c1", buyer_id="AAFx", agent_id=agent,
        assigned_at=now, reason="human_agent",
    )  # fmt: skip
    await r._on_agents_input(ASSIGNED, assign)
    await asyncio.gather(*list(r._tasks))
    sent = [decode(topic(n), v, normalize_headers(h))[1] for n, v, _, h in fake.sent]
    assert all(isinstance(m, MessageSent) for m in sent)
    kinds = sorted((m.sender_kind, m.sender_id) for m in sent)  # type: ignore[attr-defined]
    assert kinds == [("agent", agent), ("bot", "presale")]
    assert r.stats.replies_delivered == 1
    assert r.stats.agent_messages == 1
