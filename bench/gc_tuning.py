"""CPU per event of a service's consume path with CPython's default collector against the
tuned one every process runs with (`shared.serve.quiet_collector`), alternated in one run.

One command: `uv run python -m bench.gc_tuning` (`--service insale`, `--rounds N`). It starts
its own database and broker (devstack), builds the service's runtime in this process and hands
its consume path batches of 500 encoded records (aftersale: `bench.aftersale_load.mix`;
insale: order changes), as the Kafka subscriber would, without the broker hop: the figure is
the Python CPU of decode, load, decide, save and the outbox write, per event, and the time the
collector ran. Numbers go to stdout and `bench/results/gc_tuning.json`.

Three collectors on the same heap, alternated round by round: CPython's default (after
`gc.unfreeze()`, thresholds 700/10/10), the heap frozen with the default thresholds (what
insale and aftersale did before), and `quiet_collector()`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import aftersale_load
from bench.pipeline import run_info
from devstack import LocalStack
from devstack.config import isolated_config
from shared.cloudevents import encode
from shared.consumer import RawRecord
from shared.contracts import EventPayload, OrderChanged, OrderItem
from shared.serve import quiet_collector
from shared.topics import topic_for_model

RESULTS = Path(__file__).parent / "results" / "gc_tuning.json"
BATCH = 500
EVENTS = 6000
DEFAULT_THRESHOLDS = (700, 10, 10)
MODES = ("default", "frozen", "tuned")
"""CPython's collector as it comes; the heap frozen but the thresholds kept (what insale and
aftersale did before); `quiet_collector()`."""


class CollectorClock:
    """Wall time spent in the collector, from `gc.callbacks`."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.runs = 0
        self.full = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._started
        self.runs += 1
        self.full += info["generation"] == 2


def insale_orders(run: str, n: int) -> list[EventPayload]:
    t0 = datetime.now(UTC).replace(microsecond=0)
    return [
        OrderChanged(
            shop_id="bench", order_id=f"{run}-o{i // 2}", buyer_id=f"{run}-b{i % 700}",
            status="WAIT_BUYER_PAY" if i % 2 == 0 else "WAIT_SELLER_SEND_GOODS",
            total_fee=19900, items=[OrderItem(item_id="i1", title="连衣裙", quantity=1,
                                              price=19900)],
            created_at=t0 - timedelta(minutes=5), changed_at=t0 + timedelta(seconds=i % 2),
            paid_at=t0 if i % 2 else None, timeout_action_time=t0 + timedelta(days=1),
        )
        for i in range(n)
    ]  # fmt: skip


WORKLOADS: dict[str, Callable[[str, int], list[EventPayload]]] = {
    "aftersale": aftersale_load.mix,
    "insale": insale_orders,
}


def batches(service: str, n: int) -> list[list[RawRecord]]:
    payloads = WORKLOADS[service](uuid.uuid4().hex[:6], n)
    raws = []
    for offset, p in enumerate(payloads):
        r = encode(topic_for_model(type(p)), p, source="/bench")
        headers = [(k, v.encode()) for k, v in r.headers.items()]
        raws.append(RawRecord(r.topic, 0, offset, r.key.encode(), r.value, headers))
    return [raws[i : i + BATCH] for i in range(0, len(raws), BATCH)]


def build(service: str) -> Any:
    if service == "aftersale":
        from services.aftersale.app import build_runtime
        from services.aftersale.settings import AftersaleSettings

        return build_runtime(AftersaleSettings())
    from services.insale.app import build_runtime as build_insale
    from services.insale.settings import InsaleSettings

    return build_insale(InsaleSettings())


async def measure(rt: Any, service: str) -> dict[str, float]:
    todo = batches(service, EVENTS)
    clock = CollectorClock()
    gc.callbacks.append(clock)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        for batch in todo:
            await rt.dispatcher.process(batch)
    finally:
        gc.callbacks.remove(clock)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "cpu_ms_per_event": cpu / EVENTS * 1000,
        "gc_ms_per_event": clock.seconds / EVENTS * 1000,
        "collections": clock.runs,
        "full_collections": clock.full,
        "events_per_s_wall": EVENTS / wall,
    }


async def main(service: str, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(isolated_config(Path(state), log_level="WARNING"))
        try:
            await stack.start_infra()
            os.environ.update(stack.env)
            rt = build(service)
            for batch in batches(service, 1000):  # connections, statement caches
                await rt.dispatcher.process(batch)
            runs: dict[str, list[dict[str, float]]] = {m: [] for m in MODES}
            for _ in range(rounds):
                for mode in MODES:
                    gc.unfreeze()
                    gc.set_threshold(*DEFAULT_THRESHOLDS)
                    if mode == "frozen":
                        gc.freeze()
                    elif mode == "tuned":
                        quiet_collector()
                    got = await measure(rt, service)
                    runs[mode].append(got)
                    print(
                        f"{service} {mode:7}: CPU {got['cpu_ms_per_event']:.3f} ms/event,"
                        f" collector {got['gc_ms_per_event']:.3f} ms/event"
                        f" ({got['collections']} runs, {got['full_collections']} full)"
                    )
            await rt.engine.dispose()
        finally:
            stack.stop()
    best = {m: min(r["cpu_ms_per_event"] for r in rs) for m, rs in runs.items()}
    ratio = best["default"] / best["tuned"]
    frozen = best["frozen"] / best["tuned"]
    print(
        f"{service}: tuned collector {ratio:.2f}× less CPU per event than the default,"
        f" {frozen:.2f}× less than frozen only (best of {rounds} each)"
    )
    return {
        **run_info(False),
        "service": service,
        "events_per_round": EVENTS,
        "batch": BATCH,
        "runs": runs,
        "best_cpu_ms_per_event": best,
        "cpu_ratio_default_to_tuned": ratio,
        "cpu_ratio_frozen_to_tuned": frozen,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--service", choices=sorted(WORKLOADS), default="aftersale")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = asyncio.run(main(args.service, args.rounds))
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    previous[args.service] = result
    args.out.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"wrote {args.out}")
