"""Masking of personal data that buyers type: phones, ID numbers, addresses, names, emails.

Buyers are known to xiaoer only by the platform's pseudonymous id; anything else they type
that identifies a person is masked before it reaches logs, spans, metric rows or events.
"""

from __future__ import annotations

import re

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
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"), "[邮箱]"),
    # Street-level address: anything from a road/street/village marker to a house number.
    (
        re.compile(
            r"[\u4e00-\u9fa5A-Za-z0-9]{0,12}(?:路|街|道|巷|弄|村|大道|小区|公寓|花园|大厦|广场)"
            r"[\u4e00-\u9fa5A-Za-z0-9\-#]{0,20}?(?:\d+\s*(?:号楼?|栋|幢|单元|室|层|楼)[\dA-Za-z\-#]*)+"
        ),
        "[地址]",
    ),
    # Names introduced as such: 收件人张三 / 我叫李四 / 姓名：王五
    (
        re.compile(r"((?:收件人|收货人|联系人|姓名|名字|我叫)\s*[:：]?\s*)[\u4e00-\u9fa5]{2,4}"),
        r"\1[姓名]",
    ),
)


def mask(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def contains_personal_data(text: str) -> bool:
    return mask(text) != text
