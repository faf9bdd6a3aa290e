"""`python -m ops.contracts generate|check`: the event contracts in docs/.

- `generate` writes docs/asyncapi.yaml, docs/schemas/<topic>.json and docs/events.md. It
  refuses to overwrite a committed schema with a breaking change (`--allow-breaking` to
  override, e.g. when a topic is still unreleased).
- `check` exits 1 when a schema generated from the code breaks compatibility with the
  committed one (rules: ops/contracts/compat.py and docs/events.md), or when the generated
  documents are stale. `--against REF` takes the baseline from git (e.g. `origin/main`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

from ops.contracts import asyncapi, catalog, compat
from ops.contracts.schemas import Schema, all_schemas
from ops.topology import consumed_by_xiaoer, is_emitted
from shared.topics import TOPICS

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = Path("docs/schemas")


def render() -> dict[Path, str]:
    """Relative path → content of every generated document."""
    out: dict[Path, str] = {
        SCHEMAS_DIR / f"{name}.json": json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
        for name, schema in all_schemas().items()
    }
    out[Path("docs/asyncapi.yaml")] = yaml.safe_dump(
        asyncapi.document(), sort_keys=False, allow_unicode=True, width=100
    )
    out[Path("docs/events.md")] = catalog.render()
    return out


def directions() -> dict[str, compat.Direction]:
    return {t.name: compat.Direction(is_emitted(t), consumed_by_xiaoer(t)) for t in TOPICS}


def committed_schemas(root: Path, against: str | None) -> dict[str, Schema]:
    if against is None:
        folder = root / SCHEMAS_DIR
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        return {f.name.removesuffix(".json"): json.loads(f.read_text()) for f in files}
    _git(root, "rev-parse", "--verify", f"{against}^{{commit}}")
    folder_ref = f"{against}:{SCHEMAS_DIR.as_posix()}"
    exists = subprocess.run(["git", "cat-file", "-e", folder_ref], cwd=root, capture_output=True)
    if exists.returncode != 0:
        print(f"note: {against} has no {SCHEMAS_DIR}; every topic is new")
        return {}
    listing = _git(root, "ls-tree", "--name-only", folder_ref)
    out: dict[str, Schema] = {}
    for name in listing.split():
        if name.endswith(".json"):
            text = _git(root, "show", f"{against}:{(SCHEMAS_DIR / name).as_posix()}")
            out[name.removesuffix(".json")] = json.loads(text)
    return out


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def breaking_changes(root: Path, against: str | None = None) -> list[str]:
    return compat.compare_all(committed_schemas(root, against), all_schemas(), directions())


def stale_files(root: Path) -> list[Path]:
    stale = []
    for rel, text in render().items():
        path = root / rel
        if not path.exists() or path.read_text() != text:
            stale.append(rel)
    folder = root / SCHEMAS_DIR
    known = {rel.name for rel in render() if rel.parent == SCHEMAS_DIR}
    stale += [SCHEMAS_DIR / f.name for f in folder.glob("*.json") if f.name not in known]
    return stale


def generate(root: Path, allow_breaking: bool) -> int:
    problems = breaking_changes(root)
    if problems and not allow_breaking:
        _report_breaking(problems)
        print("Nothing written. Publish the change on a new major version (a new topic).")
        return 1
    for rel, text in render().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {rel}")
    return 0


def check(root: Path, against: str | None) -> int:
    problems = breaking_changes(root, against)
    stale = stale_files(root)
    if problems:
        _report_breaking(problems)
    if stale:
        print("Generated event contracts are stale; run `uv run python -m ops.contracts generate`:")
        for rel in stale:
            print(f"  {rel}")
    if problems or stale:
        return 1
    print(f"event contracts ok: {len(TOPICS)} topics compatible with the committed schemas")
    return 0


def _report_breaking(problems: list[str]) -> None:
    print(f"BREAKING change(s) to existing major versions ({len(problems)}):")
    for p in problems:
        print(f"  - {p}")
    print("Rules: docs/events.md, section Compatibility.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.contracts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write docs/asyncapi.yaml, docs/schemas, docs/events.md")
    gen.add_argument("--allow-breaking", action="store_true")
    chk = sub.add_parser("check", help="fail on breaking changes or stale documents")
    chk.add_argument("--against", help="git ref whose docs/schemas are the baseline")
    args = parser.parse_args(argv)
    if args.command == "generate":
        return generate(args.root, args.allow_breaking)
    return check(args.root, args.against)


if __name__ == "__main__":
    sys.exit(main())
