"""The learned scorer beside the rules: fires above its threshold, explains itself, is a rule."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.metrics.domain.quality.rules import fold
from services.metrics.domain.quality.scorer import NgramScorer, grams
from services.metrics.quality.rulebook import (
    RulesInvalid,
    apply_override,
    load_defaults,
    load_scorers,
)

TOY = NgramScorer(
    "rude", bias=-3.0, weights={"你": 1.5, "烦": 2.0, "烦死": 1.0, "亲": -2.0}, threshold=0.8
)


def test_grams_are_every_one_to_three_character_window_without_spaces() -> None:
    assert [g for g, _ in grams("ab c")] == ["a", "ab", "b", "c"]
    assert [s for g, s in grams("烦死了") if g == "死了"] == [1]


def test_it_fires_only_at_or_above_the_threshold() -> None:
    assert TOY.probability("你好") < 0.8
    assert list(TOY.spans("你好")) == []
    assert TOY.probability("你烦死了") >= 0.8
    [(start, end)] = TOY.spans("你烦死了")
    assert "你烦死了"[start:end] in ("你烦死", "烦死")
    assert list(TOY.spans("亲，烦死了")) == []  # 亲 pulls the score down


def test_it_explains_with_the_ngrams_that_raised_the_score() -> None:
    top = TOY.explain("你烦死了")
    assert [c.gram for c in top] == ["烦", "你", "烦死"]
    assert all(c.weight > 0 for c in top)
    assert "你烦死了"[top[0].start : top[0].end] == "烦"


def test_the_shipped_scorers_load_and_sit_behind_rules() -> None:
    scorers = load_scorers()
    trained = {"ad_law", "off_platform", "rude", "over_promise", "review_inducement"}
    assert set(scorers) == trained  # personal_data is left to the detectors
    assert all(0.9 <= s.threshold <= 0.99 for s in scorers.values())
    rules = load_defaults()
    ids = {r.rule_id for r in rules.rules}
    assert {f"{c}.model" for c in trained} <= ids
    assert all(r.severity == "warn" for r in rules.rules if r.rule_id.endswith(".model"))
    clean = "亲，这款有现货，今天下单明天发"
    assert scorers["rude"].probability(fold(clean)) < scorers["rude"].threshold


def test_a_shop_can_switch_the_scorer_off() -> None:
    rules = load_defaults()
    shop = apply_override(rules, "s", "version: '1'\ndisable: [rude.model]\n", "test")
    assert "rude.model" not in {r.rule_id for r in shop.rules}


def test_a_scorer_rule_needs_a_trained_category() -> None:
    with pytest.raises(RulesInvalid) as err:
        apply_override(
            load_defaults(),
            "s",
            "version: '1'\nrules:\n"
            "  - {id: personal_data.model, category: personal_data, severity: warn,"
            " detector: scorer, suggestion: s}\n",
            "test",
        )
    assert any("personal_data.model.detector" in e for e in err.value.errors)


class CountingWeights(dict[str, float]):
    """The scorer's weights, counting every look-up (the scorer's unit of work)."""

    lookups = 0

    def get(self, key: str, default: float | None = None) -> float | None:  # type: ignore[override]
        self.lookups += 1
        return super().get(key, default)


@pytest.mark.parametrize("repeats", [10, 1000, 4000])
def test_the_scorer_is_linear_on_the_longest_reply(repeats: int) -> None:
    """Counted, not timed: scoring and explaining a firing reply look each n-gram up once per
    pass (at most three per character, two passes), however long the reply."""
    shipped = load_scorers()["rude"]
    weights = CountingWeights(shipped.weights)
    scorer = replace(shipped, weights=weights)
    text = fold("你烦不烦" * repeats)
    assert list(scorer.spans(text))  # it fires, so both passes run
    assert weights.lookups <= 2 * 3 * len(text)


def test_the_scorer_is_a_second_opinion_only() -> None:
    """A scorer's violation is dropped when a rule found the same category in the reply."""
    rules = load_defaults()
    text = "加我微信详聊"
    ids = [v.rule_id for v in rules.check(text).violations]
    assert "off_platform.wechat" in ids
    assert "off_platform.model" not in ids
    without = apply_override(rules, "s", "version: '1'\ndisable: [off_platform.wechat]\n", "t")
    assert [v.category for v in without.check(text).violations] == ["off_platform"]
