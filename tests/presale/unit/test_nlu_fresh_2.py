"""The issue-16 targets on the second fresh hand-written set (written after the model was frozen)
and on the held-out split. Figures: `uv run python -m bench.presale_nlu_fresh`."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from bench.presale_nlu_fresh import HELDOUT_BEFORE_WIRING, fresh_accuracy, heldout_accuracy
from services.presale.data.fresh_written_2 import FRESH_2
from services.presale.domain.nlu.context import ORDER_PHASES
from services.presale.domain.nlu.stages import INTENTS
from shared.contracts.emitted import Stage

MEASURED_AT_FREEZE = 0.924
"""Accuracy with context on the frozen model (354 of 383), measured once the set was written."""


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


@pytest.mark.xfail(
    strict=True,
    reason="issue 16 target not met: 0.924 on the second fresh set with the frozen model; "
    "not tuned on it (see the h16 report) — the lead decides",
)
def test_fresh_accuracy_at_least_93_percent(fresh: dict[str, Any]) -> None:
    assert fresh["accuracy"] >= 0.93, fresh
