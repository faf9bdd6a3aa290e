"""What buyers ask about and complain about, from a message's intent and words. Pure.

`topic` refines presale's intent where a shop acts on the detail: product questions by what
they ask (面料, 起球, 尺码 …). `complaint_theme` sorts complaints — buyer messages with a
complaint intent or an upset tone, and refund reasons — into the themes a shop fixes in its
listing or its stock: quality, size, colour, logistics (else `other`). Only these labels are
stored, never the text.
"""

from __future__ import annotations

from shared.text import fold

THEMES = ("quality", "size", "colour", "logistics", "other")
COMPLAINT_INTENTS = frozenset(
    {"complaint", "quality_issue", "missing_or_wrong_item", "return_exchange", "refund"}
)
QUESTION_STAGE = "presale"
_NOT_QUESTIONS = frozenset({"greeting", "acknowledgement", "human_agent"})

_SPEC_TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("起球", ("起球", "起毛")),
    ("缩水", ("缩水", "会缩")),
    ("掉色", ("掉色", "褪色", "染色")),
    ("色差", ("色差", "实物")),
    ("弹力", ("弹力", "弹性")),
    ("厚薄", ("厚", "薄")),
    ("透", ("透",)),
    ("面料", ("面料", "材质", "料子", "纯棉", "成分", "真丝")),
    ("版型", ("版型", "偏大", "偏小", "修身", "宽松")),
)  # fmt: skip
_THEME_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("colour", ("色差", "颜色", "掉色", "褪色", "染色", "串色", "发黄", "色不对")),
    ("size", ("尺码", "码数", "偏大", "偏小", "太大", "太小", "大了", "小了", "不合身", "太紧",
              "太松", "太长", "太短", "肥", "尺寸")),
    ("logistics", ("物流", "快递", "发货", "没收到", "还没到", "没到", "派送", "配送", "丢件",
                   "丢了", "慢", "催", "签收", "驿站", "包裹", "压坏", "少发", "漏发", "发错")),
    ("quality", ("质量", "起球", "破洞", "破了", "线头", "开线", "脱线", "做工", "瑕疵", "污渍",
                 "脏", "坏了", "拉链", "异味", "味道", "缩水", "变形", "掉毛", "勾丝", "次品",
                 "假货", "残次", "褶皱", "掉扣")),
)  # fmt: skip


def _norm(text: str) -> str:
    return fold(text)


def is_question(intent: str, stage: str) -> bool:
    """A presale question worth counting (not a greeting, thanks, or a call for a human)."""
    return stage == QUESTION_STAGE and intent not in _NOT_QUESTIONS


def topic(intent: str, text: str) -> str:
    """The intent, refined for product questions: `product_spec:起球`."""
    if intent != "product_spec":
        return intent
    t = _norm(text)
    found = next((name for name, words in _SPEC_TOPICS if any(w in t for w in words)), None)
    return f"product_spec:{found}" if found else intent


def is_complaint(intent: str, sentiment: str) -> bool:
    return intent in COMPLAINT_INTENTS or sentiment in ("negative", "angry")


def complaint_theme(text: str) -> str:
    """The first theme whose words occur (colour before size before logistics before quality:
    色差 is a colour complaint even though it is about the product's quality)."""
    t = _norm(text)
    return next((theme for theme, words in _THEME_WORDS if any(w in t for w in words)), "other")
