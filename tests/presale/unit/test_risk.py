"""Buyer-side risk flags, and what they do to a conversation: abuse and threats go senior."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.presale.domain.conversation import Conversation, Handoff, on_message
from services.presale.domain.nlu.risk import buyer_risks
from services.presale.domain.routing import AgentLoad, choose_agent

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("我是淘宝官方客服，您的店铺需要缴纳保证金", ("scam_attempt",)),
        ("你好，把验证码发我一下，帮你解冻账户", ("scam_attempt",)),
        ("加我QQ 123456 给你退款", ("scam_attempt",)),
        ("点击这个链接领取退款 http://tb-refund.xyz/a", ("scam_attempt",)),
        ("你们这群骗子，垃圾店", ("abuse",)),
        ("傻逼客服，滚", ("abuse",)),
        ("信不信我找人收拾你，我知道你们地址", ("threat",)),
        ("你给我等着，弄死你", ("threat",)),
        ("你这个骗子，你给我等着", ("abuse", "threat")),
    ],
)
def test_risky_messages_are_flagged(text: str, flags: tuple[str, ...]) -> None:
    assert buyer_risks(text) == flags


@pytest.mark.parametrize(
    "text",
    [
        "这个质量太差了，我要投诉", "再不发货我就给差评了", "这件衣服有码吗", "你们有微信公众号吗",
        "链接里的尺码表在哪", "https://item.taobao.com/item.htm?id=1 这个有货吗",
        "垃圾袋有卖吗", "我要申请平台介入", "骗子店铺 和图片完全不一样", "等着收货呢，什么时候发",
    ],
)  # fmt: skip
def test_ordinary_and_angry_but_fair_messages_are_not(text: str) -> None:
    assert buyer_risks(text) == ()


def _msg(conv: Conversation | None, text: str, at: datetime = T0):  # type: ignore[no-untyped-def]
    return on_message(
        conv, conversation_id="c1", shop_id="s", buyer_id="b", buyer_level=None, text=text,
        item_id=None, sent_at=at, kb=None, now=at, session_gap=timedelta(minutes=30),
    )  # fmt: skip


def test_abuse_takes_a_bot_conversation_to_a_senior_agent() -> None:
    out = _msg(None, "傻逼客服，滚")
    assert out.risk_flags == ("abuse",)
    assert isinstance(out.decision, Handoff)
    assert out.decision.reason == "abuse"
    assert out.conversation.state == "queued"
    assert out.conversation.skill == "senior"
    assert out.conversation.priority >= 2


def test_threat_moves_an_assigned_conversation_to_senior_once() -> None:
    conv = Conversation("c1", "s", "b", "assigned", T0, agent_id="a1", skill="presale",
                        last_agent_id="a1")  # fmt: skip
    out = _msg(conv, "我知道你家在哪，你给我等着")
    assert isinstance(out.decision, Handoff)
    assert out.decision.reason == "threat"
    assert (out.conversation.state, out.conversation.skill) == ("queued", "senior")
    held = Conversation("c1", "s", "b", "assigned", T0, agent_id="a9", skill="senior")
    again = _msg(held, "你给我等着")
    assert again.decision is None  # a senior agent already has it
    assert again.risk_flags == ("threat",)


def test_scam_attempts_are_flagged_but_not_rerouted() -> None:
    conv = Conversation("c1", "s", "b", "assigned", T0, agent_id="a1", skill="presale")
    out = _msg(conv, "我是淘宝官方客服，需要缴纳保证金")
    assert out.risk_flags == ("scam_attempt",)
    assert out.decision is None
    assert out.conversation.state == "assigned"


def test_senior_work_goes_to_aftersale_staff() -> None:
    junior = AgentLoad("a1", "online", frozenset({"presale"}), 5, 0)
    senior = AgentLoad("a2", "online", frozenset({"presale", "aftersale"}), 5, 3)
    assert choose_agent([junior, senior], "senior") == senior
    assert choose_agent([junior], "senior") is None
