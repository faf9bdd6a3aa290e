"""Event contracts: generated docs are current, AsyncAPI validates, examples are valid events,
and the compatibility check catches breaking changes."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ops.contracts import compat
from ops.contracts.__main__ import main as contracts_main
from ops.contracts.examples import EXAMPLES
from ops.contracts.headers import example_headers
from ops.contracts.schemas import all_schemas
from shared.cloudevents import decode, encode
from shared.topics import BY_NAME

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "ops" / "asyncapi-validate.mjs"


def node_tools() -> str:
    """node, with `npm ci` run once if the parser is not installed yet."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are needed to validate the AsyncAPI document")
    if not (ROOT / "node_modules" / "@asyncapi" / "parser").is_dir():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stderr[-3000:]}"
    return node


def asyncapi_validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node_tools(), str(VALIDATOR), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def repo_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", root / "docs")
    return root


def test_committed_contracts_are_current_and_compatible(capsys: pytest.CaptureFixture[str]) -> None:
    assert contracts_main(["check"]) == 0, capsys.readouterr().out


def test_asyncapi_document_validates() -> None:
    result = asyncapi_validate(ROOT / "docs" / "asyncapi.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid AsyncAPI 3.0.0" in result.stdout


def test_asyncapi_validator_rejects_a_broken_document(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "asyncapi.yaml").read_text()
    broken = tmp_path / "asyncapi.yaml"
    broken.write_text(text.replace("action: send", "action: publish", 1))
    result = asyncapi_validate(broken)
    assert result.returncode == 1, result.stdout
    assert "INVALID" in result.stdout


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_example_is_a_valid_event(name: str) -> None:
    topic = BY_NAME[name]
    payload = EXAMPLES[name]
    data = json.loads(payload.model_dump_json())
    jsonschema.Draft202012Validator(all_schemas()[name]).validate(data)
    record = encode(topic, payload, source="/xiaoer/docs")
    headers = example_headers(topic, payload)
    envelope, decoded = decode(topic, record.value, headers)
    assert decoded == payload
    assert envelope.type == topic.ce_type


def _break(root: Path, topic: str, edit: Any) -> None:
    path = root / "docs" / "schemas" / f"{topic}.json"
    schema = json.loads(path.read_text())
    edit(schema)
    path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n")


def test_check_fails_on_a_deliberately_broken_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The committed baseline had a field the code no longer has: a subscriber would break."""
    root = repo_copy(tmp_path)

    def had_a_required_field(schema: dict[str, Any]) -> None:
        schema["properties"]["risk_score"] = {"type": "number"}
        schema["required"].append("risk_score")

    _break(root, "cs.refund.decided.v1", had_a_required_field)
    capsys.readouterr()
    assert contracts_main(["--root", str(root), "check"]) == 1
    out = capsys.readouterr().out
    assert "BREAKING" in out
    assert "cs.refund.decided.v1: risk_score: property removed" in out
    # generate refuses to overwrite the baseline with the breaking change
    assert contracts_main(["--root", str(root), "generate"]) == 1
    assert "Nothing written" in capsys.readouterr().out


def test_check_fails_on_stale_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo_copy(tmp_path)
    (root / "docs" / "events.md").write_text("# outdated\n")
    capsys.readouterr()
    assert contracts_main(["--root", str(root), "check"]) == 1
    out = capsys.readouterr().out
    assert "stale" in out
    assert "docs/events.md" in out


# --- the rules, one by one ------------------------------------------------------------

EMITTED = compat.Direction(emitted=True, consumed=False)
CONSUMED = compat.Direction(emitted=False, consumed=True)
BOTH = compat.Direction(emitted=True, consumed=True)


def _schema(name: str) -> dict[str, Any]:
    return copy.deepcopy(all_schemas()[name])


def problems(name: str, edit: Any, direction: compat.Direction) -> list[str]:
    """Compare the current schema (as the old one) with an edited copy (as the new one)."""
    old = _schema(name)
    new = _schema(name)
    edit(new)
    return compat.compare_topic(name, old, new, direction)


def _drop(prop: str) -> Any:
    def edit(s: dict[str, Any]) -> None:
        del s["properties"][prop]
        if prop in s.get("required", []):
            s["required"].remove(prop)

    return edit


def test_compatible_changes_pass() -> None:
    def add_optional(s: dict[str, Any]) -> None:
        s["properties"]["channel"] = {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
        }

    def reword(s: dict[str, Any]) -> None:
        s["description"] = "reworded"
        s["properties"]["reason"]["title"] = "Why"

    def add_enum_value(s: dict[str, Any]) -> None:
        s["properties"]["decision"]["enum"].append("partial")

    assert problems("cs.refund.decided.v1", add_optional, BOTH) == []
    assert problems("cs.refund.decided.v1", reword, EMITTED) == []
    assert problems("cs.refund.decided.v1", add_enum_value, EMITTED) == []  # only others read it
    assert problems("trade.review.posted.v1", _drop("content"), CONSUMED) == []


def test_breaking_changes_fail() -> None:
    def retype(s: dict[str, Any]) -> None:
        s["properties"]["refund_fee"] = {"type": "string"}

    def nullable(s: dict[str, Any]) -> None:
        s["properties"]["reason"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}

    def new_required(s: dict[str, Any]) -> None:
        s["properties"]["channel"] = {"type": "string"}
        s["required"].append("channel")

    def optional_to_required(s: dict[str, Any]) -> None:
        s["required"].append("description")

    def required_to_optional(s: dict[str, Any]) -> None:
        s["required"].remove("rule_id")

    def remove_enum_value(s: dict[str, Any]) -> None:
        s["properties"]["decision"]["enum"].remove("escalate")

    def add_consumed_enum_value(s: dict[str, Any]) -> None:
        s["properties"]["status"]["enum"].append("REFUND_ON_HOLD")

    def nested(s: dict[str, Any]) -> None:
        s["$defs"]["Entities"]["properties"]["height_cm"] = {"type": "string"}

    def new_key(s: dict[str, Any]) -> None:
        s["x-xiaoer"]["key"] = "buyer_id"

    cases = [
        ("trade.refund.requested.v1", retype, CONSUMED, "refund_fee: type changed"),
        ("cs.refund.decided.v1", nullable, EMITTED, "reason: type changed"),
        ("cs.refund.decided.v1", _drop("rule_id"), EMITTED, "rule_id: property removed"),
        ("cs.refund.decided.v1", new_required, EMITTED, "channel: new required property"),
        ("trade.refund.requested.v1", optional_to_required, CONSUMED, "became required"),
        ("cs.refund.decided.v1", required_to_optional, EMITTED, "became optional"),
        ("cs.refund.decided.v1", remove_enum_value, EMITTED, "enum value(s) removed: escalate"),
        ("trade.refund.changed.v1", add_consumed_enum_value, CONSUMED, "REFUND_ON_HOLD"),
        ("cs.message.classified.v1", nested, BOTH, "entities.height_cm: type changed"),
        ("cs.refund.decided.v1", new_key, EMITTED, "key changed"),
    ]
    for name, edit, direction, expected in cases:
        found = problems(name, edit, direction)
        assert any(expected in p for p in found), f"{edit.__name__}: {found}"


def test_removing_a_topic_is_breaking() -> None:
    committed = all_schemas()
    current = {k: v for k, v in committed.items() if k != "cs.case.resolved.v1"}
    directions = {k: EMITTED for k in committed}
    assert compat.compare_all(committed, current, directions) == [
        "cs.case.resolved.v1: topic removed (publish a new major version instead)"
    ]
