"""Train the intent model offline and write the service's `domain/nlu/model.json`.

    uv run python -m tools.presale.data.generate   # (re)build the dataset
    uv run python -m tools.presale.train           # train, calibrate, write model.json

Also writes `domain/nlu/buyer_texts.json` (the training texts: the insight loop's buyers'
language in general), the other runtime file `services.presale.nlu_loader` reads.

Reads ONLY tools/presale/data/train.jsonl — never the held-out file. Pure Python:
multinomial logistic regression by SGD with L2, over the features of features.py. Confidence is
calibrated by temperature scaling on a calibration split made of whole templates the fitting
run did not see (so the temperature reflects unseen phrasings), then the model is refit on
everything with that temperature.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

from services.presale.domain.nlu import entities as entity_extraction
from services.presale.domain.nlu.features import featurize
from services.presale.domain.nlu.model import LinearModel, softmax
from services.presale.domain.nlu.normalize import emoji_moods, normalize, split_emoji
from services.presale.domain.nlu.stages import INTENTS
from services.presale.nlu_loader import BUYER_TEXTS_PATH, MODEL_PATH

TRAIN_PATH = Path(__file__).resolve().parent / "data" / "train.jsonl"
EPOCHS = 14
L2 = 2e-5
MIN_FEATURE_COUNT = 2
PRUNE_BELOW = 0.02
CALIBRATION_SHARE = 0.2
SEEDS = 3


def features_of(record: dict[str, Any]) -> list[str]:
    """Training features; the history's intent is the gold intent of its conversation pattern."""
    clean, emoji = split_emoji(normalize(record["text"]))
    prev = record["intent"] if record["history"] else None
    return sorted(set(featurize(clean, emoji_moods(emoji), entity_extraction.extract(clean), prev)))


def fit(
    examples: list[tuple[list[str], int]], n_classes: int
) -> tuple[dict[str, list[float]], list[float]]:
    """Average of SEEDS runs over different shuffles: steadier than any single SGD run."""
    runs = [fit_once(examples, n_classes, seed) for seed in range(SEEDS)]
    weights = {
        f: [sum(run[0][f][k] for run in runs) / SEEDS for k in range(n_classes)] for f in runs[0][0]
    }
    bias = [sum(run[1][k] for run in runs) / SEEDS for k in range(n_classes)]
    return weights, bias


def fit_once(
    examples: list[tuple[list[str], int]], n_classes: int, seed: int
) -> tuple[dict[str, list[float]], list[float]]:
    counts = Counter(f for feats, _ in examples for f in feats)
    vocab = {f for f, c in counts.items() if c >= MIN_FEATURE_COUNT}
    weights: dict[str, list[float]] = {f: [0.0] * n_classes for f in vocab}
    bias = [0.0] * n_classes
    data = [([weights[f] for f in feats if f in vocab], y) for feats, y in examples]
    rng = random.Random(seed)
    step = 0
    for epoch in range(EPOCHS):
        rng.shuffle(data)
        lr = 0.5 / (1 + epoch * 0.5)
        for rows, y in data:
            step += 1
            scores = bias[:]
            for row in rows:
                for k in range(n_classes):
                    scores[k] += row[k]
            probs = softmax(scores)
            probs[y] -= 1.0
            for k in range(n_classes):
                g = probs[k]
                if -1e-4 < g < 1e-4:
                    continue
                bias[k] -= lr * g * 0.1
                for row in rows:
                    row[k] -= lr * (g + L2 * row[k])
    return weights, bias


def compact(weights: dict[str, list[float]], bias: list[float], temperature: float) -> LinearModel:
    sparse = {
        f: tuple((k, w) for k, w in enumerate(row) if abs(w) >= PRUNE_BELOW)
        for f, row in weights.items()
    }
    return LinearModel(
        classes=tuple(INTENTS),
        bias=tuple(bias),
        weights={f: ws for f, ws in sorted(sparse.items()) if ws},
        temperature=temperature,
    )


def fit_temperature(model: LinearModel, examples: list[tuple[list[str], int]]) -> float:
    """The temperature minimising negative log-likelihood on the calibration examples."""
    scored = [(model.scores(feats), y) for feats, y in examples]
    best_t, best_nll = 1.0, math.inf
    for i in range(20, 401, 5):
        t = i / 100
        nll = -sum(math.log(max(softmax(s, t)[y], 1e-12)) for s, y in scored)
        if nll < best_nll:
            best_t, best_nll = t, nll
    return best_t


def _accuracy(model: LinearModel, examples: list[tuple[list[str], int]]) -> float:
    right = 0
    for feats, y in examples:
        p = model.probabilities(feats)
        right += max(range(len(p)), key=p.__getitem__) == y
    return right / max(len(examples), 1)


def main() -> None:
    records = [json.loads(line) for line in TRAIN_PATH.read_text(encoding="utf-8").splitlines()]
    index = {intent: i for i, intent in enumerate(INTENTS)}
    examples = [(features_of(r), index[r["intent"]]) for r in records]
    sources = sorted({r["source"] for r in records})
    rng = random.Random(42)
    calib_sources = set(rng.sample(sources, int(len(sources) * CALIBRATION_SHARE)))
    fit_part = [
        e for e, r in zip(examples, records, strict=True) if r["source"] not in calib_sources
    ]
    calib_part = [e for e, r in zip(examples, records, strict=True) if r["source"] in calib_sources]

    weights, bias = fit(fit_part, len(INTENTS))
    probe = compact(weights, bias, 1.0)
    temperature = fit_temperature(probe, calib_part)
    print(
        f"calibration split: {len(calib_part)} messages from {len(calib_sources)} unseen templates"
    )
    print(
        f"  accuracy on unseen templates {_accuracy(probe, calib_part):.3f}, temperature {temperature}"
    )

    weights, bias = fit(examples, len(INTENTS))
    model = compact(weights, bias, temperature)
    MODEL_PATH.write_text(
        json.dumps(model.to_json(), ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    print(f"train accuracy {_accuracy(model, examples):.3f}; {len(model.weights)} features")
    print(f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size // 1024} KiB)")
    texts = [r["text"] for r in records]
    BUYER_TEXTS_PATH.write_text(json.dumps(texts, ensure_ascii=False, indent=0) + "\n", "utf-8")
    print(f"wrote {BUYER_TEXTS_PATH} ({len(texts)} texts)")


if __name__ == "__main__":
    main()
