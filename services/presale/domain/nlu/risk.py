"""Buyer-side risks in one message: scam attempts, abuse, threats. Pure and cheap.

Runs on every buyer message beside the classifier, so it is three compiled patterns over the
text (NFKC, lower case, simplified characters) — microseconds — and it only flags wording
that is unambiguous in a buyer's mouth:
- `scam_attempt`: posing as platform staff (我是淘宝客服…), deposits and unfreezing fees
  (保证金, 解冻), verification codes, 刷单, asking the agent onto QQ/WeChat, links that are not
  Taobao's/Alipay's;
- `abuse`: insults aimed at the agent or the shop (a complaint about the goods is not abuse);
- `threat`: violence, doxxing, harassment at home (投诉 and 差评 are a buyer's right, not
  threats).
An abusive or threatening conversation is routed to a senior agent (`conversation.py`).
"""

from __future__ import annotations

import re
from typing import Literal

from services.presale.domain.nlu.normalize import TRAD_TO_SIMP, to_simplified
from shared.text import fold

RISK_FLAGS = ("scam_attempt", "abuse", "threat")
_TRADITIONAL = frozenset(TRAD_TO_SIMP)

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "scam_attempt",
        re.compile(
            r"(?:我是|我们是|这里是|本人是)(?:淘宝|天猫|阿里|支付宝|平台|官方)[^，。,]{0,4}"
            r"(?:客服|工作人员|小二|审核|安全中心|专员)"
            r"|保证金|解冻|冻结(?:你|您)?的?(?:店铺|账户|账号|资金)|激活(?:账户|店铺|账号)"
            r"|验证码(?:发|告诉|给)|(?:发|告诉|给)(?:我|一下)?验证码|刷单|返利任务|做任务"
            r"|加(?:我|一下)?(?:的)?(?:qq|微信|vx|v信|扣扣)"
            r"|(?:点击|打开)(?:这个|下面|下方)?链接(?:领取|退款|理赔|激活|验证)"
            r"|(?:退款|理赔|赔付)链接|扫码(?:退款|理赔|领取)"
            r"|https?://(?![a-z0-9.\-]*(?:taobao|tmall|alipay|tb)\.(?:com|cn)(?![a-z]))"
        ),
    ),
    (
        "abuse",
        re.compile(
            r"傻[逼bB比屄]|煞笔|(?<![a-z])sb(?![a-z])|妈的|他妈|你妈|尼玛|草泥马|cnm|nmsl|艹你"
            r"|滚(?:蛋|开|犊子)|去死|狗(?:东西|日的|娘)|畜生|王八蛋|贱人|脑残|弱智|废物|白痴"
            r"|(?:你|你们)(?:这个|这群|这帮|就是|都是)?(?:一群)?骗子|垃圾(?:店|客服|商家)|你们?是猪|fuck"
        ),
    ),
    (
        "threat",
        re.compile(
            r"弄死|砍死|杀了你|杀你全家|打死你|炸了你|炸掉你|烧了你|泼油漆|找人(?:收拾|弄|打|砍)"
            r"|上门(?:找你|收拾|堵|砸)|(?:知道|查到)你(?:们)?(?:家|住|地址|在哪)|你给我等着|等着瞧"
            r"|人肉你|让你(?:们)?(?:好看|付出代价|活不)|砸(?:了)?你(?:们)?(?:店|公司)"
        ),
    ),
)


def buyer_risks(text: str) -> tuple[str, ...]:
    """The risk flags of one buyer message, in `RISK_FLAGS` order (empty when none)."""
    folded = fold(text)
    if not _TRADITIONAL.isdisjoint(folded):  # translating costs more than the patterns
        folded = to_simplified(folded)
    return tuple(flag for flag, pattern in _PATTERNS if pattern.search(folded))


def escalation(risks: tuple[str, ...]) -> Literal["abuse", "threat"] | None:
    """Why the conversation goes to a senior agent: a threat, else abuse; None otherwise."""
    if "threat" in risks:
        return "threat"
    return "abuse" if "abuse" in risks else None
