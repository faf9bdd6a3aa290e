"""Rule files: the default one loads; broken ones fail with a message that says what to fix."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.aftersale.domain.rules import RulesError, parse_rules
from services.aftersale.rules_loader import DEFAULT_RULES_FILE, load_rule_book, load_rules

BASE: dict[str, Any] = yaml.safe_load(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))


def with_rule(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["rules"][0].update(changes)
    return data


def test_default_rules_load() -> None:
    rules = load_rules(DEFAULT_RULES_FILE)
    assert rules.rules[-1].id == "default.escalate"
    assert rules.auto_approve_limit_fen == 10000
    assert {"custom_made", "fresh_food", "digital_download"} <= rules.ineligible_categories


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a mapping"),
        ({**BASE, "version": 2}, "`version` must be 1"),
        ({**BASE, "colour": "red"}, "unknown top-level keys ['colour']"),
        ({**BASE, "rules": []}, "`rules` must be a non-empty list"),
        (with_rule(decision="refund"), "`decision` must be one of"),
        (with_rule(when={"order_know": False}), "unknown condition 'order_know'"),
        (with_rule(when={"order_known": "no"}), "`order_known` must be true or false"),
        (with_rule(when={"fee_at_most": "100"}), "`fee_at_most` must be a whole number"),
        (with_rule(when={"reason_group": "fun"}), "reason group 'fun' is not defined"),
        (with_rule(when={"buyer_risk": "extreme"}), "`buyer_risk` must be among"),
        (with_rule(reason="金额{amount}"), "unknown placeholders ['amount']"),
        (with_rule(reason=""), "needs a `reason`"),
        (with_rule(id="default.escalate"), "repeated: ['default.escalate']"),
        (with_rule(ask_evidence="yes"), "`ask_evidence` must be true or false"),
        (with_rule(then="approve"), "unknown keys ['then']"),
        ({**BASE, "rules": BASE["rules"][:-1]}, "must have an empty `when: {}`"),
        ({**BASE, "limits": {"auto_approve_limit_fen": 99.5}}, "auto_approve_limit_fen"),
        ({**BASE, "risk": {"medium_at": 70, "high_at": 60}}, "medium_at <= high_at"),
    ],
)
def test_bad_rule_files_are_explained(data: Any, message: str) -> None:
    with pytest.raises(RulesError) as err:
        parse_rules(data, source="shop-x.yaml")
    assert message in str(err.value)
    assert str(err.value).startswith("shop-x.yaml: ")


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "shop-1.yaml"
    bad.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"shop-1\.yaml: not valid YAML"):
        load_rules(bad)


def test_rule_book_uses_a_shop_file_else_the_default(tmp_path: Path) -> None:
    own = copy.deepcopy(BASE)
    own["limits"] = {"auto_approve_limit_fen": 30000}
    (tmp_path / "shop-big.yaml").write_text(yaml.safe_dump(own, allow_unicode=True), "utf-8")
    book = load_rule_book(tmp_path)
    assert book.for_shop("shop-big").auto_approve_limit_fen == 30000
    assert book.for_shop("shop-other").auto_approve_limit_fen == 10000


def test_rule_book_rejects_a_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="not a directory"):
        load_rule_book(tmp_path / "nope")


def test_a_policy_with_yaml_aliases_is_refused(tmp_path: Path) -> None:
    """A 'billion laughs' policy file (nested aliases) fails fast instead of expanding."""
    laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        laughs.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = tmp_path / "shop-laughs.yaml"
    path.write_text("\n".join(laughs) + "\n", encoding="utf-8")
    with pytest.raises(RulesError, match="aliases"):
        load_rules(path)
