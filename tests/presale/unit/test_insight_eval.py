"""The insight loop on a simulated shop day with planted gaps (bench/insight.py).

Done-when of issue 14: the top 10 suggestions hold at least 80 % of the planted gaps, each
with the answer agents gave; none repeats an answer the KB has; accepting them and replaying
the same buyers' questions raises the bot's auto-answer share by at least the planted gaps'
share of the questions, with auto-answer precision at least 0.97.
"""

from __future__ import annotations

import pytest

from bench.insight import evaluate


@pytest.mark.parametrize("seed", [7, 8])
def test_planted_gaps_are_suggested_and_accepting_them_raises_coverage(seed: int) -> None:
    r = evaluate(seed)
    assert r["coverage"] >= 0.8, r["top10"]
    assert r["duplicates_of_kb"] == []
    before, after = r["before"], r["after"]
    assert before["planted_messages"] > 0
    gain = after["auto_answer_share"] - before["auto_answer_share"]
    assert gain >= before["planted_share"], (before, after)
    assert after["auto_answer_precision"] >= 0.97
    assert before["auto_answer_precision"] >= 0.97
