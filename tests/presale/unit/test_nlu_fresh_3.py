"""The issue-16 targets on the third fresh hand-written set (written after model 2f26e412… was
frozen, committed before anything was measured on it) and the training data's independence of
all three hand-written sets. Figures: `uv run python -m bench.presale_nlu_fresh`."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest

from bench.presale_nlu_fresh import FRESH_1, fresh_accuracy, model_sha256
from services.presale.domain.nlu.context import ORDER_PHASES
from services.presale.domain.nlu.stages import INTENTS
from shared.contracts.emitted import Stage
from tools.presale.data.fresh_written_2 import FRESH_2
from tools.presale.data.fresh_written_3 import FRESH_3
from tools.presale.data.generate import _FORMULAIC_MAX, TRAIN_PATH, _core

FROZEN_MODEL = "2f26e41250ddf12c4fe292da4faebbe840a71d9800cb0760e6a98a8367091947"
"""The model set 3 was written for (its docstring names it): a new model needs a new set."""
MEASURED_AT_FREEZE = 0.933
"""Set 3 with context on the frozen model (347 of 372), measured once after the set was committed."""
PRECISION_TARGET = 0.97
PRECISION_MEASURED = {"fresh_written_3": 0.950, "fresh_written_1": 0.957}
"""Auto-answer precision at the default 0.65 threshold where the target is not met (170 of 179
and 111 of 116 answered right; set 1 was 0.944 before this model)."""


@pytest.fixture(scope="module")
def fresh3() -> dict[str, Any]:
    return fresh_accuracy(FRESH_3)


def test_the_third_set_is_big_enough_covers_every_intent_and_labels_what_is_known() -> None:
    assert len(FRESH_3) >= 300
    assert {r.intent for r in FRESH_3} == set(INTENTS)
    assert len({(r.text, r.history, r.order, r.stage) for r in FRESH_3}) == len(FRESH_3)
    assert {r.order for r in FRESH_3} <= {None, *ORDER_PHASES}
    assert {r.stage for r in FRESH_3} <= {None, *get_args(Stage)}
    assert sum(r.order is not None or r.stage is not None for r in FRESH_3) >= 60


def test_the_model_is_the_one_the_third_set_was_written_for() -> None:
    assert model_sha256() == FROZEN_MODEL


def test_training_data_copies_no_message_of_the_seen_sets(fresh3: dict[str, Any]) -> None:
    """No training text is a message of sets 1 or 2 (the generator drops them). Set 3 was
    written independently of the templates; a few common questions (可以开专票吗) and the
    formulas (好的, 在吗) have a training twin anyway: most of it is unseen."""
    train = [json.loads(line) for line in TRAIN_PATH.read_text(encoding="utf-8").splitlines()]
    texts = {r["text"] for r in train}
    cores = {_core(r["text"]) for r in train}
    seen = [row.text for row in [*FRESH_1, *FRESH_2]]
    assert not texts & set(seen)
    assert not {c for t in seen if len(c := _core(t)) > _FORMULAIC_MAX} & cores
    assert fresh3["unseen_messages"] >= 0.85 * len(FRESH_3), fresh3["unseen_messages"]


def test_fresh_accuracy_reaches_the_issue_target(fresh3: dict[str, Any]) -> None:
    assert fresh3["accuracy"] >= 0.93, fresh3
    assert round(fresh3["accuracy"], 3) >= MEASURED_AT_FREEZE, fresh3


def test_what_presale_knows_of_the_buyer_helps(fresh3: dict[str, Any]) -> None:
    assert fresh3["accuracy"] > fresh3["accuracy_without_context"], fresh3
    ctx = fresh3["by_kind"]["with_context"]
    assert ctx["accuracy"] > ctx["without_context"], ctx


def test_auto_answer_precision_on_the_seen_second_set() -> None:
    assert fresh_accuracy(FRESH_2)["auto_answer_at_default"]["precision"] >= PRECISION_TARGET


@pytest.mark.parametrize("name", sorted(PRECISION_MEASURED))
def test_auto_answer_precision_not_lower_than_measured(name: str, fresh3: dict[str, Any]) -> None:
    rows = fresh3 if name == "fresh_written_3" else fresh_accuracy(FRESH_1)
    assert round(rows["auto_answer_at_default"]["precision"], 3) >= PRECISION_MEASURED[name]


@pytest.mark.xfail(
    strict=True,
    reason="precision target not met: 0.950 on fresh set 3 at 0.65 with the frozen model; not "
    "tuned on it (see the h16b report) — the lead decides",
)
def test_auto_answer_precision_at_least_97_percent_on_the_fresh_set(
    fresh3: dict[str, Any],
) -> None:
    assert fresh3["auto_answer_at_default"]["precision"] >= PRECISION_TARGET
