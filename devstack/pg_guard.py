"""Stops postgres when the launcher dies: `python devstack/pg_guard.py PID DATA_DIR LAUNCHER`.

pg_ctl daemonizes postgres, so unlike the broker and the services it does not die with the
launcher. This small process does: it is started with PR_SET_PDEATHSIG (see procs.spawn), and
on SIGTERM - or if the launcher is already gone when it starts - it shuts the postmaster down,
but only while that pid still runs from DATA_DIR. Run as a script with only the standard
library, so it is guarding within milliseconds of its start.
"""

import os
import signal
import sys
import time

PID, DATA_DIR, LAUNCHER = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _ours() -> bool:
    try:
        with open(f"/proc/{PID}/cmdline", "rb") as f:
            return DATA_DIR.encode() in f.read()
    except OSError:
        return False


def stop(*_: object) -> None:
    if _running(PID) and _ours():
        os.kill(PID, signal.SIGQUIT)  # immediate shutdown: the launcher is gone anyway
        deadline = time.monotonic() + 10
        while _running(PID) and time.monotonic() < deadline:
            time.sleep(0.05)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # spawned with it blocked
while _running(PID):
    if not _running(LAUNCHER) or os.getppid() != LAUNCHER:
        stop()
    time.sleep(0.5)
