"""Precision and recall of a rule set per category on a labelled set of agent replies.

    python -m tools.metrics.quality.evaluate train      # errors listed: for tuning rules
    python -m tools.metrics.quality.evaluate heldout    # figures only

The sets are `tools/metrics/quality/{train,heldout…}.tsv`: one reply per line, its categories
(comma-separated, `-` for a clean reply), a tab, the text. A reply counts as a true positive
of a category when the rules find that category anywhere in it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from services.metrics.domain.quality.rules import CATEGORIES, RuleSet
from services.metrics.quality.rulebook import load_defaults

DATA = Path(__file__).parent


@dataclass(frozen=True)
class Example:
    text: str
    labels: frozenset[str]


@dataclass(frozen=True)
class Figures:
    category: str
    support: int
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def read_set(name: str) -> list[Example]:
    out = []
    for line in (DATA / f"{name}.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        labels, text = line.split("\t", 1)
        out.append(Example(text, frozenset() if labels == "-" else frozenset(labels.split(","))))
    return out


def evaluate(
    rules: RuleSet, examples: list[Example]
) -> tuple[dict[str, Figures], list[tuple[Example, frozenset[str]]]]:
    """Figures per category, and the examples whose predicted categories differ."""
    counts = {c: [0, 0, 0, 0] for c in CATEGORIES}  # support, tp, fp, fn
    wrong = []
    for ex in examples:
        got = rules.check(ex.text).categories
        if got != ex.labels:
            wrong.append((ex, got))
        for c in CATEGORIES:
            counts[c][0] += c in ex.labels
            counts[c][1] += c in ex.labels and c in got
            counts[c][2] += c not in ex.labels and c in got
            counts[c][3] += c in ex.labels and c not in got
    return {c: Figures(c, *v) for c, v in counts.items()}, wrong


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "train"
    quiet = name.startswith("heldout")
    figures, wrong = evaluate(load_defaults(), read_set(name))
    for f in figures.values():
        print(
            f"{f.category:18} n={f.support:3}  precision {f.precision:.3f}  recall {f.recall:.3f}"
        )
    if not quiet:
        for ex, got in wrong:
            print(f"  want {sorted(ex.labels)} got {sorted(got)}: {ex.text}")


if __name__ == "__main__":
    main()
