"""Train the learned scorers (every category but personal_data) and write services/metrics/quality/scorers.json.

    uv run python -m tools.metrics.quality.train_scorer          # train, choose thresholds, write
    uv run python -m tools.metrics.quality.train_scorer --check  # figures only, nothing written

Reads ONLY the sets already used to tune (`TRAINING_SETS`), never the untouched held-out set.
Pure Python: binary logistic regression by AdaGrad with L2 over the character n-grams of
`domain/quality/scorer.py`, averaged over a few shuffles. The threshold is chosen on
out-of-fold probabilities (5 folds): the lowest one at which the scorer alone makes no more
than `MAX_OOF_FALSE_POSITIVES` (none) false positives among the out-of-fold replies, raised by a
margin — precision matters more than recall.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections import Counter

from services.metrics.domain.quality.normalize import normalize
from services.metrics.domain.quality.scorer import NgramScorer, grams
from services.metrics.quality.rulebook import SCORERS_FILE
from tools.metrics.quality.evaluate import Example, read_set

TRAINING_SETS = (
    "train", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7",
    "heldout8", "heldout9", "heldout10", "heldout11",
)  # fmt: skip
# personal_data is numbers and addresses: the detectors, not n-grams.
CATEGORIES = ("ad_law", "off_platform", "rude", "over_promise", "review_inducement")
EPOCHS = 30
L2 = 1e-4
RATE = 0.3
MIN_COUNT = 2
PRUNE_BELOW = 0.05
SEEDS = 3
FOLDS = 5
MAX_OOF_FALSE_POSITIVES = 0
MARGIN = 0.02
FLOOR = 0.9


def features(text: str) -> list[str]:
    return [g for g, _ in grams(normalize(text).text)]


def fit(
    examples: list[tuple[list[str], int]], seeds: int = SEEDS
) -> tuple[float, dict[str, float]]:
    counts = Counter(f for feats, _ in examples for f in set(feats))
    vocab = {f for f, c in counts.items() if c >= MIN_COUNT}
    total_w: dict[str, float] = {}
    total_b = 0.0
    for seed in range(seeds):
        rng = random.Random(seed)
        w: dict[str, float] = {}
        g2: dict[str, float] = {}
        b, gb2 = 0.0, 0.0
        order = list(examples)
        for _ in range(EPOCHS):
            rng.shuffle(order)
            for feats, y in order:
                fs = [f for f in feats if f in vocab]
                z = b + sum(w.get(f, 0.0) for f in fs)
                p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
                err = p - y
                gb2 += err * err
                b -= RATE * err / math.sqrt(gb2 + 1e-8)
                for f in fs:
                    grad = err + L2 * w.get(f, 0.0)
                    g2[f] = g2.get(f, 0.0) + grad * grad
                    w[f] = w.get(f, 0.0) - RATE * grad / math.sqrt(g2[f] + 1e-8)
        for f, v in w.items():
            total_w[f] = total_w.get(f, 0.0) + v / seeds
        total_b += b / seeds
    return total_b, {f: round(v, 4) for f, v in total_w.items() if abs(v) >= PRUNE_BELOW}


def out_of_fold(examples: list[Example], category: str) -> list[tuple[float, bool]]:
    indexed = list(enumerate(examples))
    random.Random(7).shuffle(indexed)
    probs: list[tuple[float, bool]] = []
    for k in range(FOLDS):
        held = [ex for i, (_, ex) in enumerate(indexed) if i % FOLDS == k]
        rest = [ex for i, (_, ex) in enumerate(indexed) if i % FOLDS != k]
        bias, weights = fit([(features(ex.text), int(category in ex.labels)) for ex in rest], 1)
        scorer = NgramScorer(category, bias, weights, 1.0)
        probs += [
            (scorer.probability(normalize(ex.text).text), category in ex.labels) for ex in held
        ]
    return probs


def choose_threshold(probs: list[tuple[float, bool]]) -> tuple[float, int, int]:
    """The lowest threshold with at most MAX_OOF_FALSE_POSITIVES, plus the margin."""
    negatives = sorted((p for p, y in probs if not y), reverse=True)
    edge = negatives[MAX_OOF_FALSE_POSITIVES] if len(negatives) > MAX_OOF_FALSE_POSITIVES else 0
    threshold = min(0.99, max(FLOOR, edge + MARGIN))
    tp = sum(p >= threshold and y for p, y in probs)
    fp = sum(p >= threshold and not y for p, y in probs)
    return round(threshold, 3), tp, fp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="figures only; write nothing")
    args = parser.parse_args()
    examples = [ex for name in TRAINING_SETS for ex in read_set(name)]
    out: dict[str, object] = {"trained_on": list(TRAINING_SETS), "ngrams": [1, 2, 3]}
    for category in CATEGORIES:
        probs = out_of_fold(examples, category)
        threshold, tp, fp = choose_threshold(probs)
        positives = sum(y for _, y in probs)
        print(
            f"{category}: threshold {threshold}; out of fold the scorer alone finds {tp} of "
            f"{positives} ({tp / positives:.2f}) with {fp} false positive(s) in {len(probs)}"
        )
        bias, weights = fit([(features(ex.text), int(category in ex.labels)) for ex in examples])
        top = sorted(weights.items(), key=lambda kv: -kv[1])[:15]
        print("  strongest n-grams:", ", ".join(f"{g}={w:.2f}" for g, w in top))
        out[category] = {"bias": round(bias, 4), "threshold": threshold, "weights": weights}
    if not args.check:
        SCORERS_FILE.write_text(
            json.dumps(out, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
            encoding="utf-8",
        )
        print(f"wrote {SCORERS_FILE}")


if __name__ == "__main__":
    main()
