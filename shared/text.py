"""Text folding shared by every matcher: full-width to half-width and compatibility forms
(NFKC), then lower case — "７天无理由" and "7天无理由", "ＯＫ" and "ok" compare equal. Services
add their own steps on top (synonyms, particles, traditional to simplified characters)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()
