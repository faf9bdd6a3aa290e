"""A learned scorer beside the rules, for the open-ended categories (rude, over-promise). Pure.

A binary logistic regression over the character n-grams (1–3) of the folded reply, trained
offline (`tools/metrics/quality/train_scorer.py`) on the labelled replies; the weights are a
JSON file read outside the domain (`quality/rulebook.py`). It fires only when the probability
reaches a threshold chosen for precision on out-of-fold predictions, and it explains itself:
the span it reports is the run of the n-grams that pushed the score up most, and `explain`
lists them with their weights. A rule in the YAML uses it as `detector: scorer`, so it has a
rule id, a severity and a suggestion like every rule, and a shop can disable it.

Cost is linear: at most three dictionary look-ups per character of the reply.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import repeat

NGRAMS = (1, 2, 3)
REACH = 12
# Every digit is the same feature: 返5元 and 返3元, q123456 and q987654 share their n-grams.
_DIGITS = str.maketrans("123456789", "000000000")


@dataclass(frozen=True)
class Contribution:
    gram: str
    start: int
    end: int
    weight: float


def grams(folded: str) -> Iterator[tuple[str, int]]:
    """Every character n-gram of the text with its start (spaces are not features; every
    digit reads as 0)."""
    folded = folded.translate(_DIGITS)
    length = len(folded)
    for start in range(length):
        for n in NGRAMS:
            end = start + n
            if end > length:
                break
            gram = folded[start:end]
            if " " in gram:
                break
            yield gram, start


_LAST: list[tuple[str, tuple[str, ...]]] = []


def ngram_list(folded: str) -> tuple[str, ...]:
    """All n-grams of the text, computed once per text: every scorer of a check reads the
    same folded string, so the last one is kept (a one-entry memo; same input, same output)."""
    if _LAST and _LAST[0][0] is folded:
        return _LAST[0][1]
    text = folded.translate(_DIGITS)
    found = tuple(text[i : i + n] for n in NGRAMS for i in range(len(text) - n + 1))
    _LAST[:] = [(folded, found)]
    return found


@dataclass(frozen=True)
class NgramScorer:
    category: str
    bias: float
    weights: Mapping[str, float]
    threshold: float

    def probability(self, folded: str) -> float:
        # The hot path: one look-up per n-gram, no span bookkeeping. N-grams with a space are
        # never features (training skips them), so they simply miss the dictionary here.
        z = self.bias + sum(map(self.weights.get, ngram_list(folded), repeat(0.0)))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def explain(self, folded: str, top: int = 5) -> list[Contribution]:
        """The n-grams that raised the score most, strongest first."""
        found = [
            Contribution(g, s, s + len(g), w)
            for g, s in grams(folded)
            if (w := self.weights.get(g, 0.0)) > 0
        ]
        found.sort(key=lambda c: (-c.weight, c.start))
        return found[:top]

    def spans(self, folded: str) -> Iterator[tuple[int, int]]:
        """One span when the reply scores at or above the threshold: from the first to the
        last of the three n-grams that raised the score most (those within `REACH` characters
        of the strongest), so the span shows what the scorer reacted to."""
        if not folded or self.probability(folded) < self.threshold:
            return
        strong = self.explain(folded, top=3)
        if not strong:
            return
        first = strong[0]
        near = [c for c in strong if abs(c.start - first.start) <= REACH]
        yield min(c.start for c in near), max(c.end for c in near)
