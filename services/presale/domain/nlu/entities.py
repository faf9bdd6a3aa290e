"""Entities in a normalised buyer message: height, weight, size, colour, quantity, order id."""

from __future__ import annotations

import re

from shared.contracts import Entities

_ORDER_ID = re.compile(r"(?<!\d)(\d{15,20})(?!\d)")
_HEIGHT_PATTERNS = (
    re.compile(r"(?<![\d.])1\s*米\s*(\d{1,2})(?!\d)"),  # 1米65, 1米6
    re.compile(r"(?<![\d.])1\.(\d{1,2})\s*(?:米|m)(?![a-z])"),  # 1.65米, 1.7m
    re.compile(r"(?<![\d.])1\s*m\s*(\d{1,2})(?!\d)"),  # 1m65
    re.compile(r"(?<![\d.])(1\d{2})\s*(?:cm|厘米|公分)"),  # 165cm
    re.compile(r"(?:身高|高|个子)\s*[:：是有]?\s*(1\d{2})(?![\d.])"),  # 身高165
)
_WEIGHT_JIN = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d)?)\s*斤")
_WEIGHT_KG = re.compile(r"(?<![\d.])(\d{2,3}(?:\.\d)?)\s*(?:kg|公斤|千克)")
_WEIGHT_BARE = re.compile(r"(?:体重|重)\s*[:：是有]?\s*(\d{2,3}(?:\.\d)?)(?![\d.])")
# "165 110" / "165/55": a plausible height followed by a plausible weight, no units.
_PAIR = re.compile(r"(?<![\d.])(1[4-9]\d)\s*[/,，、 ]\s*(\d{2,3})(?![\d.])")
_SIZE = re.compile(
    r"(?<![a-z])(xxxxl|xxxl|xxl|xl|xs|[2-5]xl|[smlx])(?![a-z])(?:\s*[码号])?"
    r"|(均码|加大码|大码|小码)"
    r"|(?<!\d)(3[4-9]|4[0-6])\s*码"
)
_SIZE_CANON = {"2xl": "XXL", "3xl": "XXXL", "4xl": "XXXXL", "5xl": "XXXXXL"}
COLOURS = (
    "米白", "藏青", "卡其", "咖啡", "酒红", "墨绿", "雾霾蓝", "浅灰", "深灰", "浅蓝", "深蓝", "天蓝",
    "奶白", "杏", "黑", "白", "红", "蓝", "灰", "粉", "绿", "黄", "紫", "橙", "棕", "银", "金", "米",
)  # fmt: skip
_COLOUR = re.compile(
    "(" + "|".join(COLOURS) + ")(?:色|的(?!话)|款)"
    "|(" + "|".join(c for c in COLOURS if len(c) > 1) + ")"
)
_QUANTITY = re.compile(r"(?<![\d.])(\d{1,3})\s*(?:件|个|条|双|套|瓶|盒|包|只|份|箱|支|台)")


def _height(text: str) -> int | None:
    for i, pattern in enumerate(_HEIGHT_PATTERNS):
        m = pattern.search(text)
        if not m:
            continue
        digits = m.group(1)
        if i < 3:  # metres with a decimal part: 1米6 → 160, 1米65 → 165
            value = 100 + (int(digits) * 10 if len(digits) == 1 else int(digits))
        else:
            value = int(digits)
        if 90 <= value <= 220:
            return value
    m = _PAIR.search(text)
    return int(m.group(1)) if m else None


def _weight(text: str) -> float | None:
    if m := _WEIGHT_JIN.search(text):
        return float(m.group(1)) / 2
    if m := _WEIGHT_KG.search(text):
        return float(m.group(1))
    m = _WEIGHT_BARE.search(text) or _PAIR.search(text)
    if not m:
        return None
    value = float(m.group(m.lastindex or 1))
    # Without a unit Chinese buyers mean 斤 for anything above a plausible kilogram weight.
    return value / 2 if value > 75 else value


def _size(text: str) -> str | None:
    for m in _SIZE.finditer(text):
        letter, word, number = m.group(1), m.group(2), m.group(3)
        if letter:
            if len(letter) == 1 and not m.group(0).rstrip().endswith(("码", "号")):
                # a lone s/m/l/x counts only when it stands alone, not inside "1m65" or "5l"
                before = text[m.start() - 1 : m.start()]
                if before.isdigit() or before == ".":
                    continue
            return _SIZE_CANON.get(letter, letter.upper())
        if word:
            return word
        if number:
            return number
    return None


def _colour(text: str) -> str | None:
    m = _COLOUR.search(text)
    if not m:
        return None
    name = m.group(1) or m.group(2)
    return name if name.endswith("色") else f"{name}色"


def _quantity(text: str) -> int | None:
    m = _QUANTITY.search(text)
    return int(m.group(1)) if m else None


def extract(text: str) -> Entities:
    """`text` must already be normalised (see normalize.normalize)."""
    order = _ORDER_ID.search(text)
    scrubbed = _ORDER_ID.sub(" ", text)
    return Entities(
        height_cm=_height(scrubbed),
        weight_kg=_weight(scrubbed),
        size=_size(scrubbed),
        colour=_colour(scrubbed),
        quantity=_quantity(scrubbed),
        order_id=order.group(1) if order else None,
    )
