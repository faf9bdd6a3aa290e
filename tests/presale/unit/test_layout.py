"""Presale keeps the shared service shape (docs/architecture.md): small modules per layer, a
domain that reads no file, and offline tools that stay out of the service and the image. The
import rules themselves are import-linter contracts (tests/test_code_quality.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PRESALE = ROOT / "services" / "presale"
LIMITS = {"domain": 300, "handlers": 250, "store": 300, "api": 300}


@pytest.mark.parametrize("layer", sorted(LIMITS))
def test_every_module_is_readable_in_one_sitting(layer: str) -> None:
    too_long = {
        str(p.relative_to(PRESALE)): n
        for p in (PRESALE / layer).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMITS[layer]
    }
    assert not too_long, too_long


def test_the_domain_reads_no_file() -> None:
    reading = re.compile(r"\bopen\(|\.read_text\(|\.read_bytes\(|\bPath\(|__file__|safe_yaml")
    readers = [
        str(p.relative_to(PRESALE))
        for p in (PRESALE / "domain").rglob("*.py")
        if reading.search(p.read_text(encoding="utf-8"))
    ]
    assert not readers, readers


def test_offline_tools_are_not_in_the_service() -> None:
    assert not (PRESALE / "data").exists()
    assert not (PRESALE / "kb" / "__main__.py").exists()
    assert not (PRESALE / "domain" / "nlu" / "train.py").exists()
    assert not list(PRESALE.rglob("*.jsonl"))
    assert (ROOT / "tools" / "presale" / "train.py").is_file()


def test_the_image_does_not_carry_the_tools() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    copied = [line for line in dockerfile.splitlines() if line.startswith("COPY")]
    assert copied
    assert not [line for line in copied if "tools" in line], copied
    ignore = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    allowed = [line for line in ignore.splitlines() if line.startswith("!")]
    assert "*" in ignore.splitlines()  # everything is left out but what is allowed back
    assert not [a for a in allowed if "tools" in a], allowed
