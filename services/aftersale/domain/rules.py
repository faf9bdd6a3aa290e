"""A shop's rule set, validated from its parsed YAML with errors that say what to fix.

Reading the files is `services/aftersale/rules_loader.py`'s job; this module does no I/O.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from services.aftersale.domain.reasons import ReasonIndex
from services.aftersale.domain.risk import RiskThresholds

RefundDecision = Literal["approve", "reject", "escalate"]
DECISIONS: tuple[RefundDecision, ...] = ("approve", "reject", "escalate")
RISK_LEVELS = ("low", "medium", "high")
BOOL_CONDITIONS = frozenset(
    {
        "order_known",
        "refund_exceeds_order",
        "claims_not_received",
        "order_shipped",
        "order_signed",
        "with_return",
        "within_seven_days",
        "category_eligible",
        "fee_within_limit",
    }
)
INT_CONDITIONS = frozenset({"fee_at_most", "fee_above"})
OTHER_CONDITIONS = frozenset({"reason_group", "reason_in", "buyer_risk", "refund_phase"})
CONDITIONS = BOOL_CONDITIONS | INT_CONDITIONS | OTHER_CONDITIONS
PLACEHOLDERS = frozenset(
    {
        "fee_yuan",
        "limit_yuan",
        "order_total_yuan",
        "reason",
        "category",
        "window_end",
        "risk_score",
        "risk_level",
        "risk_reasons",
    }
)
RULE_KEYS = frozenset({"id", "when", "decision", "reason", "ask_evidence"})
TOP_KEYS = frozenset({"version", "limits", "seven_day_return", "reason_groups", "risk", "rules"})


class RulesError(ValueError):
    """A rule file that cannot be used; the message names the file, the rule and the fix."""


@dataclass(frozen=True)
class Rule:
    id: str
    when: Mapping[str, Any]
    decision: RefundDecision
    reason: str
    ask_evidence: bool = False


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    auto_approve_limit_fen: int
    window_hours: int
    ineligible_categories: frozenset[str]
    reason_groups: Mapping[str, frozenset[str]]
    risk: RiskThresholds = field(default_factory=RiskThresholds)
    source: str = "default"
    reasons: ReasonIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reasons", ReasonIndex(self.reason_groups))

    def in_group(self, reason: str, group: str) -> bool:
        """Whether the reason, normalised (and classified when no group lists it), is in `group`."""
        return self.reasons.in_group(reason, group)


def parse_rules(data: Any, source: str = "<rules>") -> RuleSet:
    def fail(msg: str) -> RulesError:
        return RulesError(f"{source}: {msg}")

    if not isinstance(data, dict):
        raise fail("expected a mapping with `version` and `rules` at the top")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise fail(f"unknown top-level keys {sorted(unknown)}; allowed: {sorted(TOP_KEYS)}")
    if data.get("version") != 1:
        raise fail(f"`version` must be 1, got {data.get('version')!r}")
    limits = _mapping(data, "limits", fail)
    limit = limits.get("auto_approve_limit_fen", 10000)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise fail("`limits.auto_approve_limit_fen` must be a whole number of fen >= 0")
    seven = _mapping(data, "seven_day_return", fail)
    hours = seven.get("window_hours", 168)
    if not isinstance(hours, int) or isinstance(hours, bool) or hours <= 0:
        raise fail("`seven_day_return.window_hours` must be a positive whole number")
    ineligible = _str_list(seven.get("ineligible_categories", []), "ineligible_categories", fail)
    groups: dict[str, frozenset[str]] = {}
    for name, reasons in _mapping(data, "reason_groups", fail).items():
        groups[str(name)] = frozenset(_str_list(reasons, f"reason_groups.{name}", fail))
    risk_cfg = _mapping(data, "risk", fail)
    risk = RiskThresholds(
        medium_at=int(risk_cfg.get("medium_at", 30)), high_at=int(risk_cfg.get("high_at", 60))
    )
    if not 0 < risk.medium_at <= risk.high_at:
        raise fail("`risk` needs 0 < medium_at <= high_at")
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise fail("`rules` must be a non-empty list")
    rules = tuple(_rule(i, r, groups, fail) for i, r in enumerate(raw_rules))
    ids = [r.id for r in rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise fail(f"rule ids must be unique; repeated: {dupes}")
    if rules[-1].when:
        raise fail(
            f"the last rule ({rules[-1].id}) must have an empty `when: {{}}` so every refund "
            "gets a decision"
        )
    return RuleSet(rules, limit, hours, frozenset(ineligible), groups, risk, source)


def _mapping(data: Mapping[str, Any], key: str, fail: Any) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise fail(f"`{key}` must be a mapping")
    return value


def _str_list(value: Any, where: str, fail: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(f"`{where}` must be a list of strings")
    return value


def _rule(i: int, raw: Any, groups: Mapping[str, frozenset[str]], fail: Any) -> Rule:
    if not isinstance(raw, dict):
        raise fail(f"rule #{i + 1} must be a mapping")
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise fail(f"rule #{i + 1} needs an `id`")
    where = f"rule {rid!r}"
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise fail(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(RULE_KEYS)}")
    decision = raw.get("decision")
    if decision not in DECISIONS:
        raise fail(f"{where}: `decision` must be one of {list(DECISIONS)}, got {decision!r}")
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise fail(f"{where}: needs a `reason` the shop can read")
    names = {f for _, f, _, _ in string.Formatter().parse(reason) if f}
    if names - PLACEHOLDERS:
        raise fail(
            f"{where}: unknown placeholders {sorted(names - PLACEHOLDERS)} in `reason`; "
            f"allowed: {sorted(PLACEHOLDERS)}"
        )
    when = raw.get("when", {}) or {}
    if not isinstance(when, dict):
        raise fail(f"{where}: `when` must be a mapping of conditions")
    for key, value in when.items():
        _check_condition(where, key, value, groups, fail)
    ask = raw.get("ask_evidence", False)
    if not isinstance(ask, bool):
        raise fail(f"{where}: `ask_evidence` must be true or false")
    return Rule(rid, dict(when), cast(RefundDecision, decision), reason, ask)


def _check_condition(
    where: str, key: str, value: Any, groups: Mapping[str, frozenset[str]], fail: Any
) -> None:
    if key not in CONDITIONS:
        raise fail(f"{where}: unknown condition {key!r}; known: {sorted(CONDITIONS)}")
    if key in BOOL_CONDITIONS and not isinstance(value, bool):
        raise fail(f"{where}: `{key}` must be true or false, got {value!r}")
    if key in INT_CONDITIONS and (not isinstance(value, int) or isinstance(value, bool)):
        raise fail(f"{where}: `{key}` must be a whole number of fen, got {value!r}")
    if key == "reason_group":
        for g in [value] if isinstance(value, str) else _str_list(value, key, fail):
            if g not in groups:
                raise fail(f"{where}: reason group {g!r} is not defined in `reason_groups`")
    if key == "reason_in":
        _str_list(value, f"{where}.reason_in", fail)
    if key == "buyer_risk":
        levels = [value] if isinstance(value, str) else _str_list(value, key, fail)
        if not set(levels) <= set(RISK_LEVELS):
            raise fail(f"{where}: `buyer_risk` must be among {list(RISK_LEVELS)}, got {value!r}")
    if key == "refund_phase" and value not in ("onsale", "aftersale"):
        raise fail(f"{where}: `refund_phase` must be onsale or aftersale, got {value!r}")


class RuleBook:
    """The rule set of each shop: its own file in `rules_dir`, else the default."""

    def __init__(self, default: RuleSet, per_shop: Mapping[str, RuleSet] | None = None) -> None:
        self.default = default
        self.per_shop = dict(per_shop or {})

    def for_shop(self, shop_id: str) -> RuleSet:
        return self.per_shop.get(shop_id, self.default)
