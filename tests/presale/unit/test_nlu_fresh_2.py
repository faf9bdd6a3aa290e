"""The second hand-written set (written after the issue-16 model 60d9308f… was frozen; its error
classes, not its texts, guided the broader training data since, so it is now seen and only
guards against regressions; the fresh set is test_nlu_fresh_3) and the held-out split.
Figures: `uv run python -m bench.presale_nlu_fresh`."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from bench.presale_nlu_fresh import HELDOUT_BEFORE_WIRING, fresh_accuracy, heldout_accuracy
from services.presale.domain.nlu.context import ORDER_PHASES
from services.presale.domain.nlu.stages import INTENTS
from shared.contracts.emitted import Stage
from tools.presale.data.fresh_written_2 import FRESH_2

MEASURED_AT_FREEZE = 0.924
"""Accuracy with context on the model it was written for (354 of 383)."""
MEASURED_NOW = 0.961
"""Accuracy with context on the current model (368 of 383); the set is no longer fresh."""


@pytest.fixture(scope="module")
def fresh() -> dict[str, Any]:
    return fresh_accuracy()


def test_the_set_is_big_enough_covers_every_intent_and_labels_what_is_known() -> None:
    assert len(FRESH_2) >= 300
    assert {r.intent for r in FRESH_2} == set(INTENTS)
    assert len({(r.text, r.history, r.order, r.stage) for r in FRESH_2}) == len(FRESH_2)
    assert {r.order for r in FRESH_2} <= {None, *ORDER_PHASES}
    assert {r.stage for r in FRESH_2} <= {None, *get_args(Stage)}


def test_heldout_accuracy_is_not_lower_than_before_the_wiring() -> None:
    assert heldout_accuracy()["accuracy"] >= HELDOUT_BEFORE_WIRING


def test_what_presale_knows_of_the_buyer_helps(fresh: dict[str, Any]) -> None:
    assert fresh["accuracy"] > fresh["accuracy_without_context"], fresh
    ctx = fresh["by_kind"]["with_context"]
    assert ctx["accuracy"] > ctx["without_context"], ctx


def test_fresh_accuracy_is_not_lower_than_measured_at_freeze(fresh: dict[str, Any]) -> None:
    assert round(fresh["accuracy"], 3) >= MEASURED_AT_FREEZE, fresh


def test_accuracy_on_the_seen_set_is_not_lower_than_measured(fresh: dict[str, Any]) -> None:
    assert round(fresh["accuracy"], 3) >= MEASURED_NOW, fresh
