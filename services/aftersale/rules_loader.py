"""Reading the shops' rule files (YAML) into a `RuleBook`, at start-up."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.aftersale.domain.rules import RuleBook, RulesError, RuleSet, parse_rules
from shared import safe_yaml

DEFAULT_RULES_FILE = Path(__file__).resolve().parent / "policy" / "default_rules.yaml"


def load_rules(path: Path) -> RuleSet:
    try:
        data = safe_yaml.load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {exc}") from exc
    return parse_rules(data, source=str(path))


def default_rules() -> RuleSet:
    return load_rules(DEFAULT_RULES_FILE)


def load_rule_book(rules_dir: Path | None) -> RuleBook:
    """Load and validate every file at start-up: a bad file stops the service, loudly."""
    per_shop: dict[str, RuleSet] = {}
    if rules_dir is not None:
        if not rules_dir.is_dir():
            raise RulesError(f"AFTERSALE_RULES_DIR {rules_dir} is not a directory")
        for path in sorted(rules_dir.glob("*.yaml")):
            per_shop[path.stem] = load_rules(path)
    return RuleBook(default_rules(), per_shop)
