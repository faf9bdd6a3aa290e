"""Intent classification of buyer messages.

The walking skeleton knows greetings; everything else is `other` and goes to a human.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shared.contracts.emitted import Intent, Stage

_PARTICLES = re.compile(r"[亲哦呢哈啊呀吧嘛啦~～!！?？。，,.\s]+")
_GREETING = re.compile(
    r"^(?:在吗|在不在|在么|有人吗|有人在吗|你好|您好|hello|hi|嗨|哈喽|早上好|晚上好|下午好|在)+$"
)


@dataclass(frozen=True)
class Classification:
    intent: Intent
    confidence: float
    stage: Stage


STAGE_OF: dict[str, Stage] = {
    **dict.fromkeys(
        ["logistics_status", "urge_shipping", "address_change", "payment_issue", "order_modify",
         "cancel_order"], "insale"),
    **dict.fromkeys(
        ["refund", "return_exchange", "quality_issue", "missing_or_wrong_item", "complaint"],
        "aftersale"),
}  # fmt: skip


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, no particles or punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _PARTICLES.sub("", text)


def classify(text: str) -> Classification:
    core = normalize(text)
    if core and _GREETING.match(core):
        return Classification("greeting", 0.97, "presale")
    return Classification("other", 0.5, STAGE_OF.get("other", "presale"))
