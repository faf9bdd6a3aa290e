"""The image's Python environment is enough to run every entry point.

Docker is not available here, so this repeats the Dockerfile's builder step — `uv sync
--frozen --no-dev --no-install-project` from pyproject.toml and uv.lock alone — into a
temporary environment, and imports every entry point the image runs with it: a runtime
import satisfied only by a dev dependency fails here before it fails in a pod.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ops.topology import SERVICES
from tests.deploy.conftest import DEPLOY, ROOT, run

ENTRY_POINTS = [f"services.{s}.__main__" for s in SERVICES] + [
    *(f"services.{s}.app" for s in SERVICES),
    "shared.migrate",
    "ops.dlq.__main__",
]


def test_runtime_dependencies_alone_import_every_entry_point(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if not uv:
        pytest.fail("uv is not on PATH")
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "uv sync --frozen --no-dev --no-install-project" in dockerfile
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    venv = tmp_path / "venv"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    env.pop("VIRTUAL_ENV", None)
    synced = run(uv, "sync", "--frozen", "--no-dev", "--no-install-project", cwd=tmp_path, env=env)
    assert synced.returncode == 0, synced.stderr[-3000:]
    code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)\n"
    python = venv / "bin" / "python"
    imported = run(
        str(python),
        "-c",
        code,
        *ENTRY_POINTS,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert imported.returncode == 0, imported.stderr[-3000:]
    dev_only = run(str(python), "-c", "import pytest", env={"PATH": "/usr/bin:/bin"})
    assert dev_only.returncode != 0, "dev dependencies leaked into the image's environment"
