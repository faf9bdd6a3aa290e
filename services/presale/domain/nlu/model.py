"""A multinomial logistic-regression model over sparse named features, in pure Python.

The model file (`model.json` next to this module, read by `services.presale.nlu_loader`, written
by `python -m tools.presale.train`) is JSON: classes, bias, temperature, and per feature the
non-zero weights as `[[class_index, weight], ...]`. Scores are `bias + Σ weights`; probabilities are the softmax of
scores / temperature (temperature fitted on a calibration split so confidence is honest).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class LinearModel:
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[tuple[int, float], ...]]
    temperature: float = 1.0

    def scores(self, features: Iterable[str]) -> list[float]:
        out = list(self.bias)
        for f in features:
            for k, w in self.weights.get(f, ()):
                out[k] += w
        return out

    def probabilities(self, features: Iterable[str]) -> list[float]:
        return softmax(self.scores(features), self.temperature)

    def to_json(self) -> dict[str, object]:
        return {
            "classes": list(self.classes),
            "bias": [round(b, 4) for b in self.bias],
            "temperature": round(self.temperature, 4),
            "weights": {f: [[k, round(w, 4)] for k, w in ws] for f, ws in self.weights.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> LinearModel:
        weights = data["weights"]
        assert isinstance(weights, dict)
        return cls(
            classes=tuple(data["classes"]),  # type: ignore[arg-type]
            bias=tuple(float(b) for b in data["bias"]),  # type: ignore[attr-defined]
            weights={f: tuple((int(k), float(w)) for k, w in ws) for f, ws in weights.items()},
            temperature=float(data.get("temperature", 1.0)),  # type: ignore[arg-type]
        )


def softmax(scores: list[float], temperature: float = 1.0) -> list[float]:
    top = max(scores)
    exps = [math.exp((s - top) / temperature) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]
