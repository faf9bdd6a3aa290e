"""Child processes in their own process groups, and how to end them without leftovers.

Every child the launcher starts (broker, services, simulator) gets its own session, so a
terminal's Ctrl-C reaches only the launcher, which then stops children in a sensible order
(simulator, services, broker, database). On Linux each child also asks the kernel to send it
SIGTERM if the launcher dies (PR_SET_PDEATHSIG), so even a SIGKILLed launcher leaves nothing
behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

_PR_SET_PDEATHSIG = 1


def _child_setup() -> None:  # pragma: no cover - runs in the forked child
    os.setsid()
    _set_pdeathsig()


def _child_setup_sigterm_blocked() -> None:  # pragma: no cover - runs in the forked child
    # The mask survives exec: a SIGTERM arriving before the child installs its handler stays
    # pending instead of killing it (the child unblocks it once it is ready).
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    _child_setup()


def _set_pdeathsig() -> None:  # pragma: no cover - runs in the forked child
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str],
    cwd: Path | None = None,
    tee: bool = False,
    block_sigterm: bool = False,
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new session with stdout+stderr appended to `log_path`.

    With `tee`, output also goes to our stdout (the demo shows the simulator's progress).
    Call this from the main thread: PDEATHSIG fires when the *thread* that forked exits.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} start: {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if tee else log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            preexec_fn=_child_setup_sigterm_blocked if block_sigterm else _child_setup,
        )
    if tee:
        threading.Thread(target=_pump, args=(proc, log_path), daemon=True).start()
    return proc


def _pump(proc: subprocess.Popen[bytes], log_path: Path) -> None:
    assert proc.stdout is not None
    with log_path.open("ab") as log:
        for line in proc.stdout:
            log.write(line)
            log.flush()
            sys.stdout.write(line.decode("utf-8", errors="replace"))
            sys.stdout.flush()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # The child is a session leader, so its pgid is its pid; signal the whole group so
    # grandchildren (e.g. uvicorn workers) go too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def pid_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (exited, not yet reaped by its parent) counts as gone."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def group_alive(pgid: int) -> bool:
    """True while any non-zombie process of group `pgid` exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Orphaned grandchildren are reaped by init, not us: ignore zombies among them.
    for proc in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error):
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(proc.pid) == pgid:
                return True
    return False


def terminate(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> int | None:
    """SIGTERM the process group, wait up to `timeout`, then SIGKILL what is left.

    Returns the leader's exit code (None if it could not be reaped).
    """
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None and not group_alive(proc.pid):
            return proc.returncode
        time.sleep(0.05)
    kill(proc)
    return proc.returncode


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the whole process group and reap the leader."""
    _signal_group(proc, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    deadline = time.monotonic() + 5
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file, for error messages."""
    try:
        data = path.read_bytes()[-64_000:]
    except FileNotFoundError:
        return f"(no log file at {path})"
    text = data.decode("utf-8", errors="replace")
    # Logs are appended across runs; show only the last run (after spawn's start marker).
    marker = text.rfind("\n=== ")
    text = (text[marker + 1 :] if marker >= 0 else text).splitlines()[-lines:]
    return "\n".join("    " + line for line in text)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could not bind `port` now.

    Checked the way the servers bind (Tansu and uvicorn set SO_REUSEADDR): sockets left in
    TIME-WAIT by a stack that just stopped do not count, a listener does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
        return False


def listening(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on `port` (readiness, not availability)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0
