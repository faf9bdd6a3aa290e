"""Service processes: `python -m services.<name>`, one process group each, ready on /readyz."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack import procs

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ServiceError(RuntimeError):
    pass


@dataclass
class ManagedProcess:
    """A child process the stack supervises: a service or the simulator."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    expected_exit: bool = False  # True once we stopped it ourselves
    tee: bool = False  # also copy output to our stdout

    def start(self) -> None:
        if self.alive():
            raise ServiceError(f"{self.name} is already running (pid {self.pid})")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.expected_exit = False
        self.proc = procs.spawn(
            self.argv, log_path=self.log_path, env=env, cwd=PROJECT_ROOT, tee=self.tee
        )

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def returncode(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    def died_unexpectedly(self) -> bool:
        return self.proc is not None and not self.expected_exit and self.proc.poll() is not None

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (graceful), then SIGKILL after `timeout`. Returns the exit code."""
        self.expected_exit = True
        return procs.terminate(self.proc, timeout) if self.proc is not None else None

    def kill(self) -> None:
        """SIGKILL the process group: a crash, as far as the service can tell."""
        self.expected_exit = True
        if self.proc is not None:
            procs.kill(self.proc)

    def describe_death(self) -> str:
        return (
            f"{self.name} exited with code {self.returncode()}; last lines of {self.log_path}:\n"
            f"{procs.tail(self.log_path)}"
        )


@dataclass
class ServiceProcess(ManagedProcess):
    port: int = 0

    @classmethod
    def create(
        cls,
        name: str,
        port: int,
        env: dict[str, str],
        logs_dir: Path,
        argv_template: tuple[str, ...] = ("-m", "services.{name}"),
    ) -> ServiceProcess:
        return cls(
            name=name,
            argv=[sys.executable, *(a.format(name=name) for a in argv_template)],
            env=env,
            log_path=logs_dir / f"{name}.log",
            port=port,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_ready(self, wait_s: float = 60.0) -> None:
        """Poll GET /readyz until 200; fail fast, with the log's tail, if the process dies."""
        deadline = time.monotonic() + wait_s
        last = "no answer yet"
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise ServiceError(f"{self.name} died while starting: {self.describe_death()}")
                try:
                    response = await client.get(f"{self.base_url}/readyz")
                    if response.status_code == 200:
                        return
                    last = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                await asyncio.sleep(0.2)
        raise ServiceError(
            f"{self.name} was not ready on {self.base_url}/readyz within {wait_s:.0f}s "
            f"(last: {last}); last lines of {self.log_path}:\n{procs.tail(self.log_path)}"
        )
