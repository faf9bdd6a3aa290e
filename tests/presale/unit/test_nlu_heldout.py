"""The issue's "Done when" targets, measured on the fixed held-out split."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import get_args

import pytest

from bench.presale_nlu import auto_answer, load_heldout, per_intent, score
from services.presale.domain.nlu import DEFAULT_AUTO_REPLY_THRESHOLD, understand
from services.presale.nlu_loader import BUYER_TEXTS_PATH
from shared.contracts.emitted import Intent

DATA = Path(__file__).resolve().parents[3] / "tools" / "presale" / "data"
TRAIN_SCRIPT = Path(__file__).resolve().parents[3] / "tools/presale/train.py"


@pytest.fixture(scope="module")
def scored():  # type: ignore[no-untyped-def]
    return score(load_heldout())


def _records(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


def test_dataset_is_big_enough_and_covers_every_intent() -> None:
    train, heldout = _records("train.jsonl"), _records("heldout.jsonl")
    assert len(train) + len(heldout) >= 2500
    counts = Counter(r["intent"] for r in train + heldout)
    assert set(counts) == set(get_args(Intent))
    assert min(counts.values()) >= 60
    assert all(c > 0 for c in Counter(r["intent"] for r in heldout).values())


def test_heldout_never_seen_in_training() -> None:
    train = {(r["text"], tuple(r["history"])) for r in _records("train.jsonl")}
    heldout = {(r["text"], tuple(r["history"])) for r in _records("heldout.jsonl")}
    assert not train & heldout
    assert "heldout" not in TRAIN_SCRIPT.read_text(encoding="utf-8").replace("held-out", "")


def test_heldout_intent_accuracy_at_least_90_percent(scored) -> None:  # type: ignore[no-untyped-def]
    accuracy = sum(s.right for s in scored) / len(scored)
    assert accuracy >= 0.90, accuracy


def test_no_intent_is_neglected(scored) -> None:  # type: ignore[no-untyped-def]
    worst = min(row["recall"] for row in per_intent(scored).values())
    assert worst >= 0.6, per_intent(scored)


def test_auto_answers_are_precise_and_cover_most_presale_messages(scored) -> None:  # type: ignore[no-untyped-def]
    at = auto_answer(scored, DEFAULT_AUTO_REPLY_THRESHOLD)
    assert at["precision"] >= 0.97, at
    assert at["presale_coverage"] >= 0.60, at


def test_confidence_is_honest_higher_threshold_is_not_less_accurate(scored) -> None:  # type: ignore[no-untyped-def]
    def accuracy_above(t: float) -> float:
        kept = [s for s in scored if s.result.confidence >= t]
        return sum(s.right for s in kept) / len(kept)

    assert accuracy_above(0.9) >= accuracy_above(0.5) >= accuracy_above(0.0)
    assert all(0.0 <= s.result.confidence <= 1.0 for s in scored)


def test_one_message_costs_well_under_two_milliseconds() -> None:
    texts = [r["text"] for r in load_heldout()[:300]]
    understand("预热")
    costs = []
    for text in texts:
        start = time.thread_time_ns()
        understand(text, ("这件M码有货吗",))
        costs.append((time.thread_time_ns() - start) / 1e6)
    costs.sort()
    assert costs[int(len(costs) * 0.99) - 1] <= 2.0


def test_shipped_buyer_texts_are_the_training_texts() -> None:
    """The insight loop's buyers' language (`nlu_loader.buyer_language`) ships with the service;
    it must be what the model was trained on (`python -m tools.presale.train` writes both)."""
    shipped = json.loads(BUYER_TEXTS_PATH.read_text(encoding="utf-8"))
    assert shipped == [r["text"] for r in _records("train.jsonl")]
