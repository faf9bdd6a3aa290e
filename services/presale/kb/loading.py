"""Reading a KB document from YAML or JSON, with errors a shop owner can act on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from services.presale.domain.kb import KnowledgeBase, describe_errors
from shared import safe_yaml

Format = Literal["yaml", "json"]


class KbInvalid(ValueError):
    """The document is not a valid KB; `errors` has one line per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid knowledge base:\n  " + "\n  ".join(errors))
        self.errors = errors


def parse(raw: str | bytes, fmt: Format = "yaml") -> dict[str, Any]:
    """YAML (a superset of JSON) or strict JSON into a mapping."""
    try:
        data = json.loads(raw) if fmt == "json" else safe_yaml.load(raw)
    except (json.JSONDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise KbInvalid([f"(document): not valid {fmt.upper()}: {exc}"]) from None
    if not isinstance(data, dict):
        raise KbInvalid(["(document): expected a mapping with shop_id, products, … at the top"])
    return data


def build(data: dict[str, Any], shop_id: str | None = None) -> KnowledgeBase:
    """Validate; `shop_id` fills a missing one and must match a present one."""
    if shop_id is not None:
        given = data.get("shop_id")
        if given is not None and str(given) != shop_id:
            raise KbInvalid([f"shop_id: the document is for {given!r}, not {shop_id!r}"])
        data = {**data, "shop_id": shop_id}
    try:
        return KnowledgeBase.model_validate(data)
    except ValidationError as exc:
        raise KbInvalid(describe_errors(exc)) from None


def read_file(path: Path, shop_id: str | None = None) -> KnowledgeBase:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KbInvalid([f"(file): cannot read {path}: {exc.strerror}"]) from None
    fmt: Format = "json" if path.suffix.lower() == ".json" else "yaml"
    return build(parse(raw, fmt), shop_id)


def dump(kb: KnowledgeBase) -> dict[str, Any]:
    """The JSON-able document stored per version."""
    return kb.model_dump(mode="json")
