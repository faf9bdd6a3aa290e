"""Masking of personal data that buyers type: phones, ID numbers, addresses, names, emails.

Buyers are known to xiaoer only by the platform's pseudonymous id; anything else they type
that identifies a person is masked before it reaches logs, spans, metric rows or events.

Masking runs on the event loop, so it must stay cheap whatever a buyer types: text longer
than `MAX_MASKED_CHARS` is cut before masking, and every pattern is linear in the length of
the text (each repetition is bounded, and the e-mail pattern only starts at the beginning of
a run of address characters, see `_mask_emails`). 1 MB masks in about 20 ms on this machine.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MAX_MASKED_CHARS = 8_000
"""Free text longer than this is cut (ending with `TRUNCATION_MARK`) before it is masked."""
TRUNCATION_MARK = "…"

_DIGIT_SEP = r"[\s\-－—]?"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Mainland resident ID: 17 digits + digit/X (allow separators buyers type).
    (
        re.compile(r"(?<![0-9A-Za-z])\d{6}(?:19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx](?![0-9A-Za-z])"),
        "[身份证]",
    ),
    # Mobile numbers: 11 digits from 1[3-9], possibly +86 and separators like 138-1234-5678.
    (
        re.compile(
            r"(?<!\d)(?:\+?86[\s\-]?)?1[3-9]\d"
            + _DIGIT_SEP
            + r"\d{4}"
            + _DIGIT_SEP
            + r"\d{4}(?!\d)"
        ),
        "[手机号]",
    ),
    # Landlines: 0571-88888888
    (re.compile(r"(?<!\d)0\d{2,3}[\-－]\d{7,8}(?!\d)"), "[电话]"),
    # Names introduced as such: 收件人张三 / 我叫李四 / 姓名：王五
    (
        re.compile(
            r"((?:收件人|收货人|联系人|姓名|名字|我叫)\s{0,3}[:：]?\s{0,3})[\u4e00-\u9fa5]{2,4}"
        ),
        r"\1[姓名]",
    ),
)

# Street-level address: from a road/street/village marker to a house number (文三路100号,
# 阳光花园3栋2单元501室), plus up to 12 name characters before the marker (see _mask_addresses).
_ADDRESS_PREFIX_CHARS = 12
_ADDRESS_FROM_MARKER = re.compile(
    r"(?:路|街|道|巷|弄|村|大道|小区|公寓|花园|大厦|广场)"
    # Quick necessary condition: a unit within 20 + 8 + 3 characters (a tight scan), so runs
    # of markers without house numbers fail fast.
    r"(?=[^号栋幢单室层楼]{0,31}+[号栋幢单室层楼])"
    r"[\u4e00-\u9fa5A-Za-z0-9\-#]{0,20}?"
    r"(?:\d{1,8}\s{0,3}(?:号楼?|栋|幢|单元|室|层|楼)[\dA-Za-z\-#]{0,8}){1,6}"
)
_ADDRESS_PREFIX = re.compile(r"[\u4e00-\u9fa5A-Za-z0-9]")

_EMAIL = r"[\w.+-]+@[\w-]+\.[\w.]+"
_EMAIL_ANYWHERE = re.compile(_EMAIL)
_EMAIL_AT_RUN_START = re.compile(r"(?<![\w.+-])" + _EMAIL)
# A cut can split a phone number or an e-mail: the trailing fragment is dropped with the rest.
_TRAILING_FRAGMENT = re.compile(r"[0-9A-Za-z.+@_#\s\-－—]{1,64}\Z")


def _mask_emails(text: str) -> str:
    """`re.sub(_EMAIL, "[邮箱]", text)`, in linear time.

    Tried at every position, the pattern rescans the rest of a run of word characters from
    each of them (quadratic: 40k CJK characters took seconds). The leftmost match always
    starts where such a run starts, or right where the previous match ended, so those are
    the only places tried.
    """
    parts: list[str] = []
    start = 0
    found = _EMAIL_AT_RUN_START.search(text)
    while found:
        parts += [text[start : found.start()], "[邮箱]"]
        start = found.end()
        found = _EMAIL_ANYWHERE.match(text, start) or _EMAIL_AT_RUN_START.search(text, start)
    if not parts:
        return text
    parts.append(text[start:])
    return "".join(parts)


def _mask_addresses(text: str) -> str:
    """Like substituting `[name chars]{0,12}` + `_ADDRESS_FROM_MARKER`, in linear time.

    As one pattern, the optional prefix made every position try every split of the next 12
    characters (7 s for 1 MB of 路); the leftmost match starts at most 12 prefix characters
    before the leftmost marker whose tail matches, so the marker is searched for and the
    prefix added by walking back.
    """
    parts: list[str] = []
    start = 0
    for found in _ADDRESS_FROM_MARKER.finditer(text):
        begin = found.start()
        while (
            begin > start
            and found.start() - begin < _ADDRESS_PREFIX_CHARS
            and _ADDRESS_PREFIX.match(text, begin - 1)
        ):
            begin -= 1
        if not parts or begin > start:  # an address right after another one is one address
            parts += [text[start:begin], "[地址]"]
        start = found.end()
    if not parts:
        return text
    parts.append(text[start:])
    return "".join(parts)


def _substitute(pattern: re.Pattern[str], replacement: str) -> Callable[[str], str]:
    return lambda text: pattern.sub(replacement, text)


_PHONES_AND_IDS, _NAMES = _PATTERNS[:3], _PATTERNS[3:]
_STEPS: tuple[Callable[[str], str], ...] = (
    *(_substitute(p, r) for p, r in _PHONES_AND_IDS),
    _mask_emails,
    _mask_addresses,
    *(_substitute(p, r) for p, r in _NAMES),
)
"""In this order: numbers first (an ID is not a phone), e-mails before addresses."""


def truncate(text: str, limit: int = MAX_MASKED_CHARS) -> str:
    """`text` cut to at most `limit` characters plus `TRUNCATION_MARK`, without a trailing
    fragment of a number or address that the cut may have split."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    fragment = _TRAILING_FRAGMENT.search(head, max(0, limit - 64))
    if fragment:
        head = head[: fragment.start()]
    return head + TRUNCATION_MARK


def mask(text: str, limit: int = MAX_MASKED_CHARS) -> str:
    """`text` cut to `limit` characters (see `truncate`), with personal data replaced."""
    text = truncate(text, limit)
    for step in _STEPS:
        text = step(text)
    return text


def contains_personal_data(text: str) -> bool:
    return mask(text, limit=len(text)) != text
