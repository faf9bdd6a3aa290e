"""Does a service slow down as its tables grow? Custom plans against PostgreSQL's cached
generic plans, each on a fresh database, in one run.

One command: `uv run python -m bench.plan_drift` (`--service insale|aftersale|both`, `--rounds
N`). For each plan mode it starts its own database and broker (devstack), builds the service's
runtime in this process and hands its consume path `--rounds` rounds of 6,000 encoded records
in batches of 500 (the workloads of `bench.gc_tuning`: insale's order changes pay half the
orders, so half the batches cancel reminders; aftersale's mix), timing each round and reading
PostgreSQL's CPU from /proc. Numbers go to stdout and `bench/results/plan_drift.json`.

- `custom`: what every service runs with (`plan_cache_mode = force_custom_plan`, shared/db.py);
- `generic`: PostgreSQL's default (`auto`): after five runs of a prepared statement it may keep
  a generic plan, made while the tables were nearly empty, until autovacuum analyses them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench import gc_tuning
from bench.pipeline import run_info
from bench.presale_load import cpu_seconds, database_pids
from devstack import LocalStack
from devstack.config import isolated_config

RESULTS = Path(__file__).parent / "results" / "plan_drift.json"
MODES = ("generic", "custom")


async def rounds_of(service: str, mode: str, rounds: int) -> list[dict[str, float]]:
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(isolated_config(Path(state), log_level="WARNING"))
        try:
            await stack.start_infra()
            os.environ.update(stack.env)
            rt = gc_tuning.build(service)
            if mode == "generic":

                @event.listens_for(rt.engine.sync_engine, "connect")
                def _auto(dbapi_conn: Any, _record: Any) -> None:
                    cursor = dbapi_conn.cursor()
                    cursor.execute("SET plan_cache_mode = auto")

                await rt.engine.dispose()  # no connection made before the listener
            out = []
            for n in range(rounds):
                todo = gc_tuning.batches(service, gc_tuning.EVENTS)
                db0, t0 = cpu_seconds(database_pids(stack)), time.perf_counter()
                for batch in todo:
                    await rt.dispatcher.process(batch)
                db1, t1 = cpu_seconds(database_pids(stack)), time.perf_counter()
                got = {
                    "events_per_s": gc_tuning.EVENTS / (t1 - t0),
                    "database_cpu_ms_per_event": (db1 - db0) / gc_tuning.EVENTS * 1000,
                }
                out.append(got)
                print(
                    f"{service} {mode:7} round {n}: {got['events_per_s']:,.0f} events/s,"
                    f" PostgreSQL {got['database_cpu_ms_per_event']:.3f} ms/event",
                    flush=True,
                )
            await rt.engine.dispose()
            return out
        finally:
            stack.stop()


async def main(services: list[str], rounds: int) -> dict[str, Any]:
    result: dict[str, Any] = {**run_info(False), "events_per_round": gc_tuning.EVENTS}
    for service in services:
        runs = {mode: await rounds_of(service, mode, rounds) for mode in MODES}
        last = {m: r[-1]["events_per_s"] for m, r in runs.items()}
        drift = {m: r[-1]["events_per_s"] / r[0]["events_per_s"] for m, r in runs.items()}
        ratio = last["custom"] / last["generic"]
        print(
            f"{service}: last round custom {last['custom']:,.0f}/s against generic"
            f" {last['generic']:,.0f}/s ({ratio:.2f}×); last/first round: custom"
            f" {drift['custom']:.2f}, generic {drift['generic']:.2f}"
        )
        result[service] = {
            "runs": runs,
            "last_round_ratio_custom_to_generic": ratio,
            "last_over_first_round": drift,
        }
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--service", choices=["insale", "aftersale", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    chosen = ["insale", "aftersale"] if args.service == "both" else [args.service]
    result = asyncio.run(main(chosen, args.rounds))
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
