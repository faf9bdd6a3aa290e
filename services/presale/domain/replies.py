"""Texts the bot sends, rendered in the shop's tone (`ReplyTone`)."""

from __future__ import annotations

from services.presale.domain.kb import ReplyTone
from shared import money

DEFAULT_TONE = ReplyTone()
GREETING_REPLY = "亲，" + DEFAULT_TONE.greeting
HANDOFF_NOTICE = "已为您转接人工客服，请稍等"
QUEUED_NOTICE = "当前咨询人数较多，已为您排队，客服空闲后会第一时间回复您"
ASK_ITEM = "请问您咨询的是哪款宝贝呢？从宝贝页面点“联系客服”发给我就可以"
ASK_HEIGHT = "方便告诉我您的身高吗？我帮您对照尺码表推荐"
ASK_WEIGHT = "方便告诉我您的体重吗？我帮您对照尺码表推荐"
ASK_BOTH = "告诉我您的身高和体重，我帮您对照尺码表推荐合适的尺码"

_WARM_ENDINGS = ("哦", "呢", "哈", "～", "~", "！", "？", "!", "?")


def render(tone: ReplyTone, body: str) -> str:
    """Address the buyer the shop's way: `亲，…哦～` when warm, plain `您好，…。` when formal."""
    body = body.strip().rstrip("。")
    if tone.style == "formal":
        text = f"您好，{body}。"
    else:
        ending = "" if body.endswith(_WARM_ENDINGS) else "哦～"
        text = f"{tone.address}，{body}{ending}" if tone.address else f"{body}{ending}"
    return f"{text}{tone.signature}" if tone.signature else text


def yuan(fen: int) -> str:
    """Integer fen as a buyer reads it: 19900 → 199元, 1250 → 12.5元."""
    return money.yuan(fen, trim=True) + "元"
