"""A conversation's quality score: 100 minus weighted deductions; some categories fail it. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PERFECT = 100


@dataclass(frozen=True)
class Score:
    score: int
    failed: bool
    deductions: int


def score(categories: Iterable[str], weights: Mapping[str, int], fail: Iterable[str]) -> Score:
    """`categories`: one entry per flag (a reply with two ad-law phrases deducts twice)."""
    fails = frozenset(fail)
    deductions = 0
    failed = False
    for c in categories:
        deductions += weights.get(c, 0)
        failed = failed or c in fails
    return Score(max(0, PERFECT - deductions), failed, deductions)
