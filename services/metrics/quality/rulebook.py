"""Reading quality rules from YAML: the packaged defaults and each shop's override.

The engine (`domain/quality/rules.py`) knows nothing of files; this module turns documents
into `RuleSet`s. `default-rules.yaml` next to this file is the packaged default; a shop's
override is `<QUALITY_RULES_DIR>/<shop_id>.yaml`:

    version: "3"                  # the shop's own revision; the effective version is
                                  # "<default version>+<shop_id>.<version>"
    allow: [最生活, 第一坊]        # brand/product names that never fire
    disable: [ad_law.grade]       # rule ids switched off
    severity: {rude.blame: block} # severities changed
    scoring: {weights: {rude: 20}, fail: [off_platform, personal_data, review_inducement, rude]}
    macros: {…}                   # more "@name" patterns
    rules: [ … ]                  # added rules; an id that exists replaces that rule

Every document is validated and every pattern compiled when loaded, with errors that name
the rule and the field, so a bad override fails at start-up, not on a reply.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.metrics.domain.quality.detectors import DETECTORS
from services.metrics.domain.quality.rules import (
    CATEGORIES,
    Category,
    Detector,
    Rule,
    RuleSet,
    Severity,
    normalize,
)
from services.metrics.domain.quality.scorer import NgramScorer
from shared import safe_yaml

log = logging.getLogger(__name__)

DEFAULT_FILE = Path(__file__).with_name("default-rules.yaml")
SCORERS_FILE = Path(__file__).with_name("scorers.json")
SCORED = (*CATEGORIES, "slow_reply")


_M = TypeVar("_M", bound=BaseModel)


class RulesInvalid(ValueError):
    """A rules document is not valid; `errors` has one line per problem."""

    def __init__(self, source: str, errors: list[str]) -> None:
        super().__init__(f"invalid quality rules ({source}):\n  " + "\n  ".join(errors))
        self.errors = errors


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleDoc(_Doc):
    id: str = Field(min_length=3, max_length=100, pattern=r"^[a-z_]+\.[a-z0-9_.]+$")
    category: Category
    severity: Severity
    suggestion: str = Field(min_length=1, max_length=200)
    match: list[str] = Field(default_factory=list, max_length=50)
    detector: Literal["phone", "id_card", "bank_card", "address", "scorer"] | None = None
    unless_before: str | None = None
    unless_after: str | None = None
    unless_match: str | None = None
    window: int = Field(8, ge=1, le=40)
    after_window: int | None = Field(None, ge=1, le=40)

    @model_validator(mode="after")
    def _one_finder(self) -> RuleDoc:
        if bool(self.match) == (self.detector is not None):
            raise ValueError("give either `match` (patterns) or `detector`, not both or neither")
        return self


class ScoringDoc(_Doc):
    weights: dict[Literal[SCORED], int] = Field(default_factory=dict)  # type: ignore[valid-type]
    fail: list[Literal[SCORED]] | None = None  # type: ignore[valid-type]


class DefaultsDoc(_Doc):
    version: str = Field(min_length=1, max_length=40)
    scoring: ScoringDoc
    allow: list[str] = Field(default_factory=list)
    macros: dict[str, str] = Field(default_factory=dict)
    rules: list[RuleDoc]


class OverrideDoc(_Doc):
    version: str = Field(min_length=1, max_length=40)
    allow: list[str] = Field(default_factory=list, max_length=500)
    disable: list[str] = Field(default_factory=list)
    severity: dict[str, Severity] = Field(default_factory=dict)
    scoring: ScoringDoc | None = None
    macros: dict[str, str] = Field(default_factory=dict)
    rules: list[RuleDoc] = Field(default_factory=list, max_length=200)


def _read(raw: str | bytes, source: str) -> dict[str, Any]:
    try:
        data = safe_yaml.load(raw)
    except yaml.YAMLError as exc:
        raise RulesInvalid(source, [f"not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise RulesInvalid(source, ["expected a mapping at the top"])
    return data


def _validate(model: type[_M], data: Mapping[str, Any], source: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            f"{'.'.join(str(p) for p in e['loc']) or '(document)'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise RulesInvalid(source, errors) from None


def _pattern(
    value: str | None, macros: Mapping[str, str], where: str, errors: list[str]
) -> re.Pattern[str] | None:
    if value is None:
        return None
    if value.startswith("@"):
        if value[1:] not in macros:
            errors.append(f"{where}: unknown macro {value!r}")
            return None
        value = macros[value[1:]]
    try:
        return re.compile(value)
    except re.error as exc:
        errors.append(f"{where}: not a valid pattern: {exc}")
        return None


def load_scorers(path: Path = SCORERS_FILE) -> dict[str, NgramScorer]:
    """The learned scorers per category (`tools/metrics/quality/train_scorer.py` writes them)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        category: NgramScorer(
            category,
            float(m["bias"]),
            {g: float(w) for g, w in m["weights"].items()},
            float(m["threshold"]),
        )
        for category, m in data.items()
        if isinstance(m, dict)
    }


_SCORERS: dict[str, NgramScorer] | None = None


def _scorers() -> dict[str, NgramScorer]:
    global _SCORERS
    if _SCORERS is None:
        _SCORERS = load_scorers()
    return _SCORERS


def _detector(doc: RuleDoc, errors: list[str]) -> Detector | None:
    if doc.detector is None:
        return None
    if doc.detector != "scorer":
        return DETECTORS[doc.detector]
    scorer = _scorers().get(doc.category)
    if scorer is None:
        errors.append(f"{doc.id}.detector: no learned scorer for {doc.category!r}")
        return None
    return scorer.spans


def _compile(doc: RuleDoc, macros: Mapping[str, str], errors: list[str]) -> Rule | None:
    before = len(errors)
    pattern = _pattern("|".join(f"(?:{m})" for m in doc.match), macros, f"{doc.id}.match", errors)
    rule = Rule(
        rule_id=doc.id,
        category=doc.category,
        severity=doc.severity,
        suggestion=doc.suggestion,
        pattern=pattern if doc.match else None,
        detector=_detector(doc, errors),
        unless_before=_pattern(doc.unless_before, macros, f"{doc.id}.unless_before", errors),
        unless_after=_pattern(doc.unless_after, macros, f"{doc.id}.unless_after", errors),
        unless_match=_pattern(doc.unless_match, macros, f"{doc.id}.unless_match", errors),
        window=doc.window,
        after_window=doc.after_window,
        fallback=doc.detector == "scorer",
    )
    return rule if len(errors) == before else None


def _fold_terms(terms: list[str]) -> tuple[str, ...]:
    return tuple(sorted({normalize(t).text for t in terms if t}, key=lambda t: (-len(t), t)))


def load_defaults(raw: str | bytes | None = None, source: str = "default-rules.yaml") -> RuleSet:
    doc = _validate(DefaultsDoc, _read(raw or DEFAULT_FILE.read_bytes(), source), source)
    errors: list[str] = []
    seen: set[str] = set()
    rules: list[Rule] = []
    for r in doc.rules:
        if r.id in seen:
            errors.append(f"{r.id}: defined twice")
        seen.add(r.id)
        compiled = _compile(r, doc.macros, errors)
        if compiled is not None:
            rules.append(compiled)
    if errors:
        raise RulesInvalid(source, errors)
    return RuleSet(
        version=doc.version,
        rules=tuple(rules),
        allow=_fold_terms(doc.allow),
        weights=dict(doc.scoring.weights),
        fail=frozenset(doc.scoring.fail or ()),
    )


def apply_override(base: RuleSet, shop_id: str, raw: str | bytes, source: str) -> RuleSet:
    """The shop's effective rules: `base` with the override document applied."""
    doc = _validate(OverrideDoc, _read(raw, source), source)
    errors: list[str] = []
    known = {r.rule_id for r in base.rules}
    for rule_id in [*doc.disable, *doc.severity]:
        if rule_id not in known:
            errors.append(f"{rule_id}: no such rule in the defaults")
    macros = dict(doc.macros)
    added: dict[str, Rule] = {}
    for d in doc.rules:
        compiled = _compile(d, macros, errors)
        if compiled is not None:
            added[d.id] = compiled
    if errors:
        raise RulesInvalid(source, errors)
    rules: list[Rule] = []
    for default in base.rules:
        if default.rule_id in doc.disable:
            continue
        rule = added.pop(default.rule_id, default)
        if rule.rule_id in doc.severity:
            rule = replace(rule, severity=doc.severity[rule.rule_id])
        rules.append(rule)
    rules += added.values()
    weights = dict(base.weights)
    fail = base.fail
    if doc.scoring is not None:
        weights.update(doc.scoring.weights)
        if doc.scoring.fail is not None:
            fail = frozenset(doc.scoring.fail)
    return RuleSet(
        version=f"{base.version}+{shop_id}.{doc.version}",
        rules=tuple(rules),
        allow=_fold_terms([*base.allow, *doc.allow]),
        weights=weights,
        fail=fail,
    )


class RuleBook:
    """Every shop's effective rules: the defaults and the overrides in `folder`.

    Overrides are read at start-up (an invalid one stops the service) and re-read when they
    change: at most every `reload_interval_s` seconds, the first `for_shop` after the interval
    looks at the folder (one `stat` per file) and reloads the files whose modification time or
    size changed, adds new ones and drops deleted ones. Between two looks the hot path costs a
    monotonic-clock read. A changed file that is invalid is refused with an error in the log,
    and the shop keeps its previous rules until the file is fixed.
    """

    def __init__(
        self,
        folder: Path | None = None,
        defaults: RuleSet | None = None,
        *,
        reload_interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.defaults = defaults or load_defaults()
        self._folder = folder
        self._interval = reload_interval_s
        self._clock = clock
        self._shops: dict[str, RuleSet] = {}
        self._seen: dict[str, tuple[int, int]] = {}  # shop -> (mtime_ns, size) last read
        if folder is not None:
            for path in sorted(folder.glob("*.yaml")):
                stat = path.stat()
                self._shops[path.stem] = self._load(path)
                self._seen[path.stem] = (stat.st_mtime_ns, stat.st_size)
        self._next_look = clock() + reload_interval_s

    def _load(self, path: Path) -> RuleSet:
        return apply_override(self.defaults, path.stem, path.read_bytes(), str(path))

    def for_shop(self, shop_id: str) -> RuleSet:
        if self._folder is not None and self._clock() >= self._next_look:
            self.reload()
        return self._shops.get(shop_id, self.defaults)

    def reload(self) -> list[str]:
        """Look at the folder now; return the shops whose rules changed (reloaded or dropped)."""
        if self._folder is None:
            return []
        self._next_look = self._clock() + self._interval
        changed: list[str] = []
        present: set[str] = set()
        try:
            paths = sorted(self._folder.glob("*.yaml"))
        except OSError:
            log.exception("cannot list quality rules in %s; keeping the rules loaded", self._folder)
            return []
        for path in paths:
            shop_id = path.stem
            present.add(shop_id)
            try:
                stat = path.stat()
                key = (stat.st_mtime_ns, stat.st_size)
                if self._seen.get(shop_id) == key:
                    continue
                self._seen[shop_id] = key
                self._shops[shop_id] = self._load(path)
            except (OSError, RulesInvalid) as exc:
                log.error("quality rules of %s not reloaded, previous rules kept: %s", shop_id, exc)
                continue
            changed.append(shop_id)
            log.info("quality rules of %s reloaded: %s", shop_id, self._shops[shop_id].version)
        for shop_id in sorted(set(self._shops) - present):
            del self._shops[shop_id]
            self._seen.pop(shop_id, None)
            changed.append(shop_id)
            log.info("quality rules of %s removed: the defaults apply", shop_id)
        return changed

    @property
    def shops(self) -> list[str]:
        return sorted(self._shops)
