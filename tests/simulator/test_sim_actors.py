"""Agents, gateway, catalogue and CLI clock: the parts the runner drives."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from shared.contracts import ConversationAssigned, MessageReceived, ReplyRequested
from simulator import catalog
from simulator.__main__ import make_clock, parse_args
from simulator.agents import AgentDesk, human_delay, roster, status_timeline
from simulator.gateway import Gateway
from simulator.scenario import TZ, generate

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=TZ)


def request(rid: str = "r1", sender: str = "bot") -> ReplyRequested:
    return ReplyRequested(
        shop_id="shop-demo", reply_request_id=rid, conversation_id="c1", buyer_id="AAFx",
        text="亲,在的", kind="auto_answer", sender=sender, requested_by="presale",
        requested_at=NOW,
    )  # fmt: skip


def test_gateway_delivers_each_request_once() -> None:
    gw = Gateway()
    sent = gw.deliver(request(), NOW)
    assert sent is not None
    assert (sent.sender_kind, sent.sender_id, sent.reply_request_id) == ("bot", "presale", "r1")
    assert sent.sent_at == NOW
    assert gw.deliver(request(), NOW) is None
    assert gw.duplicates == 1
    system = gw.deliver(request("r2", sender="system"), NOW)
    assert system is not None
    assert system.sender_kind == "system"


def test_roster_is_realistic() -> None:
    for seed in range(20):
        agents = roster(random.Random(seed))
        assert 6 <= len(agents) <= 10
        assert all(a.agent_id.startswith("agent-") for a in agents)
        assert all(3 <= a.max_concurrent <= 8 for a in agents)
        skills = {s for a in agents for s in a.skills}
        assert skills == {"presale", "insale", "aftersale", "vip"}


def test_agents_online_in_the_morning_and_break_at_lunch() -> None:
    plan = generate(7, datetime(2026, 11, 28, 0, 0, tzinfo=UTC), 24)  # 08:00–08:00 Shanghai
    statuses = [e.payload for e in plan.events if e.topic == "cs.agent.status.v1"]
    at = {(s.status, s.changed_at.astimezone(TZ).hour) for s in statuses}  # type: ignore[attr-defined]
    assert any(st == "online" and 8 <= h <= 9 for st, h in at)
    assert any(st in ("busy", "offline") and 11 <= h <= 13 for st, h in at)
    assert any(st == "offline" and h >= 17 for st, h in at)


def test_status_timeline_starts_before_window() -> None:
    profile = roster(random.Random(1))[0]
    timeline = status_timeline(profile, NOW, NOW + timedelta(hours=24), TZ, random.Random(1))
    assert timeline[0][0] <= NOW
    assert [t for t, _ in timeline] == sorted(t for t, _ in timeline)


def test_human_delay_is_human() -> None:
    rng = random.Random(3)
    delays = [human_delay(rng).total_seconds() for _ in range(2000)]
    assert 30 <= statistics.median(delays) <= 90
    slow = sum(d > 180 for d in delays) / len(delays)
    assert 0.03 < slow < 0.2


def desk() -> AgentDesk:
    profiles = {a.agent_id: a for a in roster(random.Random(1))}
    return AgentDesk("shop-demo", profiles, random.Random(2))


def buyer_message(conv: str = "c1") -> MessageReceived:
    return MessageReceived(
        shop_id="shop-demo", message_id="m1", conversation_id=conv, buyer_id="AAFx",
        text="什么时候发货", sent_at=NOW,
    )  # fmt: skip


def assigned(agent: str, conv: str = "c1") -> ConversationAssigned:
    return ConversationAssigned(
        shop_id="shop-demo", conversation_id=conv, buyer_id="AAFx", agent_id=agent,
        assigned_at=NOW, reason="human_agent",
    )  # fmt: skip


def test_agent_answers_assigned_conversation_and_later_messages() -> None:
    d = desk()
    agent = next(iter(d.profiles))
    assert d.on_buyer_message(buyer_message(), "shipping_time") is None  # nobody holds it yet
    assert d.on_assigned(assigned(agent)) == agent
    reply = d.reply("c1", agent, NOW)
    assert reply is not None
    assert (reply.sender_kind, reply.sender_id, reply.buyer_id) == ("agent", agent, "AAFx")
    assert reply.text
    assert d.on_buyer_message(buyer_message(), "logistics_status") == agent
    assert d.on_buyer_message(buyer_message(), "complaint") is None  # one pending reply
    assert d.reply("c1", agent, NOW) is not None
    d.on_closed("c1")
    assert d.on_buyer_message(buyer_message(), "greeting") is None


def test_catalogue_is_clean_data() -> None:
    assert 6 <= len(catalog.ITEMS) <= 10
    for it in catalog.ITEMS:
        assert it.category == "apparel"
        assert len(it.skus) == len(it.colours) * len(it.sizes)
        assert all(s.price == it.price and s.price % 100 == 0 for s in it.skus)
        assert {s.size for s in it.skus} >= {"S", "M", "L", "XL"}
    assert len({s.sku_id for it in catalog.ITEMS for s in it.skus}) == sum(
        len(it.skus) for it in catalog.ITEMS
    )
    assert catalog.ITEMS[0].size_for(160, 100) == "M"
    assert catalog.total_for([25900]) == 23900


def test_cli_defaults_and_clock_env(monkeypatch: pytest.MonkeyPatch) -> None:
    args = parse_args(["--seed", "7", "--speed", "720", "--hours", "24"])
    assert (args.seed, args.speed, args.hours, args.shop, args.bad_rate) == (
        7, 720.0, 24.0, "shop-demo", 0.002
    )  # fmt: skip
    monkeypatch.setenv("CLOCK_SPEED", "60")
    monkeypatch.setenv("CLOCK_EPOCH", "2026-11-28T08:00:00+08:00")
    clock = make_clock(None)
    assert clock.speed == 60
    assert clock.epoch == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    assert make_clock(3600).speed == 3600
