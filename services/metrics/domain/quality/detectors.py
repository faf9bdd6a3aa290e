"""Detectors of personal data an agent must not type: each yields (start, end) spans. Pure.

Regular expressions alone cannot tell a bank card from an order number, so these add the
checks a person would: the ID number's date, the card's Luhn digit or a 卡 cue, and the
neighbourhood (订单号, 运单号 before a long number make it an order or a parcel). Masked
forms (138****1234) never match: they are not whole numbers. Every pattern is linear.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_SEP = r"[\s\-—]?"
PHONE = re.compile(
    r"(?<![\d*])(?:\+?86[\s\-]?)?1[3-9]\d" + _SEP + r"\d{4}" + _SEP + r"\d{4}(?![\d*])"
)
LANDLINE = re.compile(r"(?<![\d*])0\d{2,3}-\d{7,8}(?![\d*])")
ID_CARD = re.compile(
    r"(?<![0-9a-z*])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dx](?![0-9a-z*])"
)
_ORDER_CUE = re.compile(r"(?:订单|单号|编号|运单|物流|快递|交易号|流水号)[^，。,]{0,6}$")
_CARD_CUE = re.compile(r"(?:卡号?|账号|账户)[^，。,]{0,6}$")
# a card named earlier in the sentence, across a comma (您的工行卡尾号不对，全号应该是6212…):
# only words that name a card, never 卡 alone (卡券, 会员卡 are not bank cards)
_CARD_CUE_SENTENCE = re.compile(
    r"(?:银行卡|储蓄卡|信用卡|借记卡|[工农建中招交邮]行卡|卡尾号|银行账号|银行账户|收款账号|"
    r"(?<!会员)(?<!礼品)(?<!购物)(?<!积分)(?<!充值)(?<!加油)(?<!储值)(?<!电话)(?<!游戏)卡号)"
    r"[^。!?！？]{0,16}$"
)
# a number of unusual length for a card (12–15 or 20–22 digits): personal data only after a
# word that names a bank card in the same sentence (退款卡号我再念一遍：6228…, 20 digits spelled
# out; not 会员卡号)
LONG_CUED_NUMBER = re.compile(r"(?<![0-9a-z*])\d(?:[ \-]?\d){11,21}(?![0-9a-z*])")
# the card named right after the number (打到您6222…这张卡上, 6222…的银行卡)
_CARD_AFTER = re.compile(r"(?:这张|那张|的|这个)?(?:银行)?卡(?!券|片|通|包|套|扣|槽|位)")

_ADDRESS = re.compile(
    r"(?:路|街|道|巷|弄|村|大道|小区|公寓|花园|大厦|广场|院)"
    r"(?=[^号栋幢单室层楼]{0,31}+[号栋幢单室层楼])"
    r"[\u4e00-\u9fa5a-z0-9\-#]{0,20}?"
    r"(?:\d{1,8}\s{0,3}(?:号楼?|号院|栋|幢|单元|室|层|楼)[\da-z\-#]{0,8}){1,6}"
)
_ADDRESS_PREFIX = re.compile(r"[\u4e00-\u9fa5a-z0-9]")
_ADDRESS_PREFIX_CHARS = 16


def _cue_before(pattern: re.Pattern[str], text: str, start: int, reach: int = 12) -> bool:
    return bool(pattern.search(text[max(0, start - reach) : start]))


def phones(text: str) -> Iterator[tuple[int, int]]:
    for m in PHONE.finditer(text):
        yield m.span()
    for m in LANDLINE.finditer(text):
        yield m.span()


def id_cards(text: str) -> Iterator[tuple[int, int]]:
    for m in ID_CARD.finditer(text):
        if not _cue_before(_ORDER_CUE, text, m.start()):
            yield m.span()


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def bank_cards(text: str) -> Iterator[tuple[int, int]]:
    """16–19 digits that pass the Luhn check, follow 卡/卡号/账户 (or a card named earlier in
    the sentence) or come right before 这张卡; 12–15 or 20–22 digits only after such a cue;
    never an order number."""
    for m in LONG_CUED_NUMBER.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if ID_CARD.fullmatch(m.group()) or _cue_before(_ORDER_CUE, text, m.start()):
            continue
        bank_cue = _cue_before(_CARD_CUE_SENTENCE, text, m.start(), 28)
        if 16 <= len(digits) <= 19:
            if (
                luhn(digits)
                or bank_cue
                or _cue_before(_CARD_CUE, text, m.start())
                or _CARD_AFTER.match(text, m.end())
            ):
                yield m.span()
        elif bank_cue:
            yield m.span()


def addresses(text: str) -> Iterator[tuple[int, int]]:
    """A street-level address: a road/estate marker to a house number, with the place name
    before the marker (walked back, at most 16 characters: linear, as in shared/masking)."""
    last_end = 0
    for m in _ADDRESS.finditer(text):
        begin = m.start()
        while (
            begin > last_end
            and m.start() - begin < _ADDRESS_PREFIX_CHARS
            and _ADDRESS_PREFIX.match(text, begin - 1)
        ):
            begin -= 1
        last_end = m.end()
        yield begin, m.end()


DETECTORS = {
    "phone": phones,
    "id_card": id_cards,
    "bank_card": bank_cards,
    "address": addresses,
}
