"""hadolint on the Dockerfile; checkov on the rendered overlays and the Dockerfile."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, run, tool


def test_dockerfile_passes_hadolint() -> None:
    result = run(tool("hadolint"), str(DEPLOY / "Dockerfile"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\n")
    result = run(tool("hadolint"), str(bad))
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest tag


def test_checkov_passes_with_documented_exceptions(
    tmp_path: Path, rendered: dict[str, str]
) -> None:
    uv = shutil.which("uv")
    if not uv:
        pytest.fail("uv is not on PATH: it runs checkov from deploy/tools")
    for overlay, text in rendered.items():
        (tmp_path / f"{overlay}.yaml").write_text(text)
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    checkov = [uv, "run", "--frozen", "--project", str(DEPLOY / "tools"), "checkov",
               "--config-file", str(DEPLOY / ".checkov.yaml")]  # fmt: skip
    shutil.copy(DEPLOY / "Dockerfile", tmp_path / "Dockerfile")
    scan = run(*checkov, "-d", str(tmp_path), "--framework", "kubernetes", "dockerfile", env=env)
    assert scan.returncode == 0, scan.stdout[-5000:] + scan.stderr[-2000:]
    assert "kubernetes scan results" in scan.stdout
    assert "dockerfile scan results" in scan.stdout
    assert scan.stdout.count("Failed checks: 0") == 2, scan.stdout[-5000:]
    readme = (DEPLOY / "README.md").read_text()
    for line in (DEPLOY / ".checkov.yaml").read_text().splitlines():
        if line.strip().startswith("- CKV"):
            check = line.split()[1]
            assert check in readme, f"{check} is skipped but not explained in deploy/README.md"
