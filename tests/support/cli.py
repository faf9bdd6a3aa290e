"""Run a command-line tool's `main(argv)` in process, as a subprocess would see it.

Starting `python -m tools…` costs 2–3 s of imports per call; a test that drives a CLI through a
dozen commands runs them here instead (in a thread: `main` calls `asyncio.run`) and keeps one
real subprocess to prove the entry point itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import subprocess
from collections.abc import Callable, Mapping


async def run_main(
    main: Callable[[list[str]], int], args: list[str], env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """`main(args)` with `env` set and stdout/stderr captured; its exit code as `returncode`
    (`SystemExit` from argparse included)."""

    def call() -> subprocess.CompletedProcess[str]:
        out, err = io.StringIO(), io.StringIO()
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(args)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 1
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())

    return await asyncio.to_thread(call)
