"""Features for the intent model: character n-grams, cue groups, entity flags and context."""

from __future__ import annotations

import re

from services.presale.domain.nlu.keywords import cue_features
from shared.contracts import Entities

_PUNCT = re.compile(r"[\s,.!?;:~'\"()\[\]{}<>/\\|@#$%^&*+=_`，。！？；：、…—～“”‘’（）【】《》·-]+")
_ADDRESS = re.compile(r"^(?:亲爱的|亲亲|亲|宝宝|老板|掌柜的|掌柜|美女|小姐姐|帅哥)")
# Greeting and politeness openers in front of a real question ("你好请问L码有货吗").
_OPENER = re.compile(
    r"^(?:你好|您好|hello|hi|哈喽|嗨|在吗|在不在|在么|请问|问一下|问下|想问下|想问一下|打扰一下|客服)"
)
_TRAILING = re.compile(r"(?:呢|哦|啊|哈|呀|吖|嘛|啦|喔|噢|哟|吧|捏|滴|哇)+$")
_ELLIPTIC_START = re.compile(r"^(?:那|那么|那个|还有|换成|要是|如果是|如果|那要是|那换)")
_ORDER_NUMBER = re.compile(r"\d{12,}")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def core_of(clean: str) -> str:
    """The message without punctuation, address words and trailing particles."""
    core = _PUNCT.sub("", clean)
    core = _ADDRESS.sub("", core)
    while (m := _OPENER.match(core)) and len(core) - m.end() >= 3:
        core = _ADDRESS.sub("", core[m.end() :])
    return _TRAILING.sub("", core) or core


def is_opener(core: str) -> bool:
    """A clause that only addresses the seller ("客服，" / "老板，" / "你好，")."""
    return bool(_OPENER.fullmatch(core) or _ADDRESS.fullmatch(core))


def is_elliptic(clean: str, core: str, cues: list[str]) -> bool:
    """A short follow-up that only makes sense after the previous message (那L呢, 黑色的呢)."""
    if len(core) > 10:
        return False
    bare = _PUNCT.sub("", clean)
    if _ELLIPTIC_START.match(core) or bare.endswith("呢"):
        return True
    return len(core) <= 4 and not (set(cues) - {"KW:size", "KW:stock"})


def _length_bucket(n: int) -> str:
    if n <= 1:
        return "LEN:1"
    if n <= 3:
        return "LEN:2"
    if n <= 6:
        return "LEN:4"
    if n <= 12:
        return "LEN:7"
    return "LEN:13"


def featurize(
    clean: str, emoji_moods: list[str], entities: Entities, prev_intent: str | None
) -> list[str]:
    """Feature names of one message; `clean` is normalised text without emoji."""
    core = core_of(clean)
    shape = _DIGITS.sub("0", _ORDER_NUMBER.sub("#", core))
    padded = f"^{shape}$"
    feats = [f"C:{padded[i : i + n]}" for n in (1, 2, 3) for i in range(len(padded) - n + 1)]
    feats = [f for f in feats if f not in ("C:^", "C:$")]
    cues = cue_features(core)
    feats += cues
    feats.append(_length_bucket(len(core)))
    feats += [f"EMO:{m}" for m in emoji_moods]
    if not core:
        feats.append("EMPTY")
    if "?" in clean or "？" in clean or "吗" in core:
        feats.append("Q")
    for name in ("height_cm", "weight_kg", "size", "colour", "quantity", "order_id"):
        if getattr(entities, name) is not None:
            feats.append(f"E:{name}")
    if prev_intent is not None and is_elliptic(clean, core, cues):
        feats += ["ELLIPTIC", f"PREV:{prev_intent}"]
    return feats
