"""The rule engine: a versioned set of rules checks one agent reply. Pure and deterministic.

A rule finds spans of the text — with a regular expression or a named detector
(`detectors.py`) — and each span is a `Violation` with the rule's category, id, severity and
suggested fix. Exceptions keep harmless uses quiet: `unless_before` looks at the few
characters before a span in the same clause (negations such as 请勿添加微信, warnings; a
negation that begins before the span and runs into it counts too: 不能治疗, 不能保证…),
`unless_after` at the ones right after it, `unless_match` at the span itself (a Taobao link
is no off-platform link). Allowed terms (brand names such as 最生活) are blanked before any
rule runs, so nothing inside them fires. Matching is on a normalised copy of the text
(`normalize.py`: full-width to half-width, lower case, spaces and inserted separators dropped,
spelled-out numbers to digits, variant spellings of contact words unified); every span found
there is mapped back, so violations index the original text.

Precision matters more than recall: a rule should only fire on wording that is wrong in a
shop agent's mouth whatever the context.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from services.metrics.domain.quality.normalize import fold as fold
from services.metrics.domain.quality.normalize import normalize as normalize

Category = Literal[
    "ad_law", "off_platform", "personal_data", "rude", "over_promise", "review_inducement"
]  # fmt: skip
CATEGORIES: tuple[Category, ...] = (
    "ad_law", "off_platform", "personal_data", "rude", "over_promise", "review_inducement"
)  # fmt: skip
Severity = Literal["info", "warn", "block"]
SEVERITY_RANK: Mapping[str, int] = {"ok": 0, "info": 1, "warn": 2, "block": 3}
Verdict = Literal["ok", "info", "warn", "block"]

Detector = Callable[[str], Iterable[tuple[int, int]]]
"""Spans (start, end) of what a detector finds in the folded text."""

MAX_VIOLATIONS = 50
_SENTENCE_END = re.compile(r"[。！？!?\n，,；;]")
_BLANK = "\u25a1"  # □: an allowed term is blanked with it, which no rule matches


@dataclass(frozen=True)
class Violation:
    category: str
    rule_id: str
    severity: Severity
    start: int
    end: int
    suggestion: str


@dataclass(frozen=True)
class Rule:
    rule_id: str
    category: Category
    severity: Severity
    suggestion: str
    pattern: re.Pattern[str] | None = None
    detector: Detector | None = None
    unless_before: re.Pattern[str] | None = None
    unless_after: re.Pattern[str] | None = None
    unless_match: re.Pattern[str] | None = None
    window: int = 8
    # How far `unless_after` reads (default: `window`): a disclaimer later in the sentence
    # (…，不是我们的联系方式; …，请注意辨别，谨防诈骗) may lie beyond the words before a match.
    after_window: int | None = None
    # A second opinion (the learned scorers): reported only when no other rule found the
    # same category in the reply, so a reply is not flagged twice for one thing.
    fallback: bool = False

    def spans(self, folded: str) -> Iterator[tuple[int, int]]:
        """Where this rule fires in the folded text, exceptions applied."""
        if self.pattern is not None:
            found: Iterable[tuple[int, int]] = (m.span() for m in self.pattern.finditer(folded))
        elif self.detector is not None:
            found = self.detector(folded)
        else:
            return
        for start, end in found:
            if start == end or self._excused(folded, start, end):
                continue
            yield start, end

    def _excused(self, folded: str, start: int, end: int) -> bool:
        if self.unless_match is not None and self.unless_match.search(folded, start, end):
            return True
        if self.unless_before is not None:
            lo = max(0, start - self.window)
            ends = [m.end() for m in _SENTENCE_END.finditer(folded, lo, start)]
            if ends:
                lo = ends[-1]
            # A negation that begins before the span counts even when it runs into it:
            # 不能治疗 excuses the 能治 found inside it, 不能保证 the 保证… after it.
            for m in self.unless_before.finditer(folded, lo, end):
                if m.start() >= start:
                    break
                return True
        return self.unless_after is not None and bool(
            self.unless_after.match(
                folded, end, min(len(folded), end + (self.after_window or self.window))
            )
        )


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    violations: tuple[Violation, ...]

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(v.category for v in self.violations)


@dataclass(frozen=True)
class RuleSet:
    """One shop's effective rules: the packaged defaults with its override applied."""

    version: str
    rules: tuple[Rule, ...]
    allow: tuple[str, ...] = ()
    weights: Mapping[str, int] = field(default_factory=dict)
    fail: frozenset[str] = frozenset()

    def check(self, text: str) -> Check:
        """Every violation in the text, by position; the verdict is the worst severity."""
        normal = normalize(text)
        folded = self._blank_allowed(normal.text)
        found: list[Violation] = []
        for rule in self.rules:
            for start, end in rule.spans(folded):
                start, end = normal.span(start, end)
                found.append(
                    Violation(
                        rule.category, rule.rule_id, rule.severity, start, end, rule.suggestion
                    )
                )
        if fallbacks := {r.rule_id for r in self.rules if r.fallback}:
            firm = {v.category for v in found if v.rule_id not in fallbacks}
            found = [v for v in found if v.rule_id not in fallbacks or v.category not in firm]
        found.sort(key=lambda v: (v.start, v.end, v.rule_id))
        found = found[:MAX_VIOLATIONS]
        worst = max((SEVERITY_RANK[v.severity] for v in found), default=0)
        verdict = next(k for k, r in SEVERITY_RANK.items() if r == worst)
        return Check(verdict, tuple(found))  # type: ignore[arg-type]

    def _blank_allowed(self, folded: str) -> str:
        for term in self.allow:
            if term and term in folded:
                folded = folded.replace(term, _BLANK * len(term))
        return folded
