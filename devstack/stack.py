"""LocalStack: broker + database + migrations + services, started and stopped as one.

Used by `python -m devstack`, `make up`/`make demo` and the test fixtures, so what passes in
tests runs the same way by hand. Stopping is synchronous and idempotent so it can run from
`finally`, signal handlers and `atexit` alike.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from devstack import procs
from devstack.broker import Broker, ensure_topics
from devstack.config import (
    SERVICES,
    StackConfig,
    Tokens,
    common_env,
    load_tokens,
    service_env,
    write_env_file,
)
from devstack.database import Database
from devstack.object_store import ObjectStore
from devstack.processes import ManagedProcess, ServiceError, ServiceProcess

log = logging.getLogger(__name__)


class StackError(RuntimeError):
    pass


class LocalStack:
    """The whole dev stack under one state dir.

    >>> async with LocalStack(StackConfig(state_dir=Path(".stack"))) as stack:
    ...     await stack.start_services()   # infra is started on enter
    """

    def __init__(self, config: StackConfig | None = None, **overrides: Any) -> None:
        self.config = config or StackConfig(**overrides)
        self.tokens: Tokens = load_tokens(self.config.state_dir)
        self.object_store: ObjectStore | None = None
        self.broker = Broker(self.config.broker_port, self.config.logs_dir / "broker.log")
        if self.config.durable_broker:
            self.object_store = ObjectStore(
                procs.free_port(), self.config.object_store_dir, self.config.logs_dir / "s3.log"
            )
            self.broker.storage_url = "s3://tansu/"
            self.broker.storage_env = self.object_store.broker_env()
        self.database = Database(self.config.pg_dir, fresh=self.config.fresh_database)
        self.services: dict[str, ServiceProcess] = {}
        self.jobs: dict[str, ManagedProcess] = {}
        self.topics: dict[str, int] = {}
        self._lock_file = self.config.state_dir / "launcher.pid"
        self._started = False
        self._stopped = False
        self._claimed = False

    # -- connection settings -------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.config.state_dir

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    @property
    def database_url(self) -> str:
        """SQLAlchemy URL (postgresql+asyncpg, unix socket) of the `xiaoer` database."""
        return self.database.url

    @property
    def env(self) -> dict[str, str]:
        """Environment shared by every process of the stack (see `<state>/stack.env`)."""
        return common_env(self.config, self.tokens, self.bootstrap, self.database_url)

    @property
    def api_token(self) -> str:
        """The demo shop's API token (first entry of API_TOKENS)."""
        return self.tokens.api_tokens.split(",")[0].split(":", 1)[1]

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.config.ports[name]}"

    # -- lifecycle -----------------------------------------------------------------------
    async def start_infra(self) -> None:
        """Broker (with every topic), database `xiaoer`, migrations, `stack.env`."""
        self._claim_state_dir()
        self._started = True
        atexit.register(self.stop)
        self.config.logs_dir.mkdir(parents=True, exist_ok=True)
        if self.object_store is not None:
            if self.config.fresh_database:  # a fresh stack starts with empty topics too
                shutil.rmtree(self.config.object_store_dir, ignore_errors=True)
            self.object_store.start()
            await asyncio.to_thread(self.object_store.wait_ready)
        self.broker.start()  # on this (main) thread: see procs.spawn
        db_start = asyncio.create_task(asyncio.to_thread(self.database.start))
        try:
            await self.broker.wait_ready()
            self.topics = await ensure_topics(self.bootstrap)
        finally:
            await db_start  # never leave the thread (and its postgres) running unobserved
        self.database.start_guard(self.config.logs_dir / "pg_guard.log")
        await self.database.create_database()
        await asyncio.to_thread(_migrate, self.database_url)
        write_env_file(self.config, self.env)

    async def start_services(self, names: Iterable[str] = SERVICES) -> None:
        """Start the services at once, then wait until every one answers /readyz."""
        names = list(names)
        for name in names:
            self._start_service_process(name)
        await asyncio.gather(
            *(self.services[n].wait_ready(self.config.ready_timeout) for n in names)
        )

    async def start_service(self, name: str) -> ServiceProcess:
        svc = self._start_service_process(name)
        await svc.wait_ready(self.config.ready_timeout)
        return svc

    def launch_service(self, name: str) -> ServiceProcess:
        """Start the process and return at once (readiness: `ServiceProcess.wait_ready`)."""
        return self._start_service_process(name)

    def stop_service(self, name: str, timeout: float = 10.0) -> int | None:
        """Graceful stop (SIGTERM to the group). Returns the exit code."""
        return self.services[name].stop(timeout)

    def kill_service(self, name: str) -> None:
        """SIGKILL, as in a crash: no shutdown hooks run."""
        self.services[name].kill()

    async def restart_service(self, name: str, *, kill: bool = False) -> ServiceProcess:
        if kill:
            self.kill_service(name)
        else:
            self.stop_service(name)
        return await self.start_service(name)

    def kill_broker(self) -> None:
        """A broker crash (SIGKILL). Only a durable broker comes back with its data."""
        self.broker.kill()

    async def start_broker(self) -> None:
        """Start the broker again on the same port and storage, and wait until it answers."""
        self.broker.start()
        await self.broker.wait_ready()
        self.topics = await ensure_topics(self.bootstrap)

    def stop_database(self, *, immediate: bool = False) -> None:
        """A database outage: the server stops, its data and socket path are kept."""
        self.database.pause(immediate=immediate)

    async def start_database(self) -> None:
        """End an outage: the same server, data and DATABASE_URL as before."""
        await asyncio.to_thread(self.database.resume)
        self.database.start_guard(self.config.logs_dir / "pg_guard.log")

    def start_job(
        self,
        name: str,
        argv: Sequence[str],
        extra_env: dict[str, str] | None = None,
        *,
        tee: bool = False,
    ) -> ManagedProcess:
        """Start a process that may end by itself (the simulator); logs to `<logs>/<name>.log`."""
        job = ManagedProcess(
            name=name,
            argv=list(argv),
            env={**self.env, **(extra_env or {})},
            log_path=self.config.logs_dir / f"{name}.log",
            tee=tee,
        )
        job.start()
        self.jobs[name] = job
        return job

    def failures(self) -> list[str]:
        """What died without being asked to: empty while the stack is healthy."""
        out: list[str] = []
        if self._started and not self._stopped:
            if self.broker.proc is not None and not self.broker.alive():
                out.append(
                    f"the broker exited (code {self.broker.proc.returncode}); "
                    f"last lines of {self.broker.log_path}:\n{procs.tail(self.broker.log_path)}"
                )
            if self.object_store is not None and not self.object_store.alive():
                out.append(
                    f"the object store exited; last lines of {self.object_store.log_path}:\n"
                    f"{procs.tail(self.object_store.log_path)}"
                )
            if self.database.pid is not None and not self.database.alive():
                out.append(
                    f"postgres exited; last lines of {self.database.log_path}:\n"
                    f"{procs.tail(self.database.log_path)}"
                )
        out.extend(s.describe_death() for s in self.services.values() if s.died_unexpectedly())
        return out

    def pids(self) -> list[int]:
        """Pids of every process the stack started (for leak checks)."""
        out = [p.pid for p in [*self.services.values(), *self.jobs.values()] if p.pid]
        if self.broker.proc is not None:
            out.append(self.broker.proc.pid)
        if self.object_store is not None and self.object_store.proc is not None:
            out.append(self.object_store.proc.pid)
        if self.database.pid is not None:
            out.append(self.database.pid)
        if self.database.guard_pid is not None:
            out.append(self.database.guard_pid)
        return out

    def stop(self) -> None:
        """Stop jobs, services, broker, then the database. Idempotent; never raises."""
        if self._stopped:
            return
        self._stopped = True
        for proc in [*self.jobs.values(), *self.services.values()]:
            _quietly(proc.stop)
        _quietly(self.broker.stop)
        if self.object_store is not None:
            _quietly(self.object_store.stop)
        _quietly(self.database.stop)
        if self._claimed:
            self._lock_file.unlink(missing_ok=True)
        atexit.unregister(self.stop)

    async def __aenter__(self) -> LocalStack:
        try:
            await self.start_infra()
        except BaseException:
            self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals -----------------------------------------------------------------------
    def _start_service_process(self, name: str) -> ServiceProcess:
        if name not in self.config.ports:
            raise ServiceError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
        svc = self.services.get(name)
        if svc is None:
            svc = ServiceProcess.create(
                name,
                self.config.ports[name],
                service_env(self.config, self.env, name),
                self.config.logs_dir,
                self.config.service_argv,
            )
            self.services[name] = svc
        if procs.port_in_use(svc.port):
            raise ServiceError(f"port {svc.port} for {name} is already in use")
        svc.start()
        return svc

    def _claim_state_dir(self) -> None:
        """One launcher per state dir: a second one would wipe the first one's database."""
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        if self._lock_file.exists():
            try:
                other = int(self._lock_file.read_text().strip())
            except ValueError:
                other = 0
            if other and other != os.getpid() and procs.pid_alive(other):
                raise StackError(
                    f"a stack is already running from {self.config.state_dir} (launcher pid "
                    f"{other}); stop it or use another --state-dir"
                )
        self._lock_file.write_text(str(os.getpid()))
        self._claimed = True


def _migrate(database_url: str) -> None:
    from shared.migrate import upgrade_all

    try:
        upgrade_all(database_url)
    except Exception as exc:
        raise StackError(f"migrations failed: {type(exc).__name__}: {exc}") from exc


def _quietly(fn: Any) -> None:
    try:
        fn()
    except Exception as exc:
        print(f"devstack: error while stopping: {exc!r}", file=sys.stderr)
