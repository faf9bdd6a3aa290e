"""Benchmark of quality inspection: the pre-send check's latency and the rules' accuracy.

    uv run python -m bench.quality_check [--rounds N]

1. **Server time of `POST /api/v1/shops/{shop}/quality/check`**: the metrics app (every
   middleware: auth, body limits, metrics) is called in-process as an ASGI app, timed from the
   call to its last `send` — no network, no client. Texts: every labelled reply (train and
   held-out sets, 10–60 characters) plus long ones (500 and 4,000 characters, the limit).
2. **The engine alone** (`RuleSet.check`) on the same texts.
3. **Precision and recall per category** on each labelled set with the current rules (held-out
   figures: see docs/quality.md for which set was never used to tune).

Writes bench/results/quality.json, keeping its `first_evaluations` (each held-out set's figures
the one time it was evaluated before being used to tune: a later run cannot reproduce them).
Timings on a shared machine are noisy: run it twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.metrics.app import build_runtime
from services.metrics.quality.rulebook import load_defaults
from services.metrics.settings import MetricsSettings
from tools.metrics.quality.evaluate import evaluate, read_set

OUT = Path(__file__).resolve().parent / "results" / "quality.json"
SETS = (
    "train", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7",
    "heldout8", "heldout9", "heldout10", "heldout11", "heldout12", "heldout13",
)  # fmt: skip
TOKEN = "bench-shop-token"


def _texts() -> list[str]:
    texts = [ex.text for name in SETS for ex in read_set(name)]
    long = "亲，这款羊毛大衣是双面呢的，版型偏大一码，" * 25
    texts += [long[:500] + "加我微信abc", (long * 8)[:3990] + "全网最低价"]
    return texts


def _percentiles(samples_us: list[float]) -> dict[str, float]:
    ordered = sorted(samples_us)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] / 1000, 4)

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] / 1000, 4),
        "mean_ms": round(statistics.fmean(ordered) / 1000, 4),
    }


async def _server_times(texts: list[str], rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (thread) time of each request, in microseconds. On a loaded shared
    machine the wall clock includes time the process was not scheduled at all; the CPU time
    is what the request itself cost."""
    settings = MetricsSettings(
        api_tokens=f"shop-bench:{TOKEN}",
        operator_token="bench-operator",
        database_url="postgresql+asyncpg://unused@127.0.0.1:1/unused",
        kafka_bootstrap_servers="127.0.0.1:1",
        log_level="WARNING",
    )
    app = build_runtime(settings).app()
    headers = [
        (b"host", b"metrics"),
        (b"authorization", f"Bearer {TOKEN}".encode()),
        (b"content-type", b"application/json"),
    ]
    samples: list[float] = []
    cpu: list[float] = []
    statuses: set[int] = set()
    for r in range(rounds + 1):  # round 0 warms up
        for text in texts:
            body = json.dumps({"text": text}, ensure_ascii=False).encode()
            scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": "POST", "scheme": "http", "path": "/api/v1/shops/shop-bench/quality/check",
                "raw_path": b"/api/v1/shops/shop-bench/quality/check", "query_string": b"",
                "headers": [*headers, (b"content-length", str(len(body)).encode())],
                "client": ("127.0.0.1", 1), "server": ("metrics", 80), "root_path": "",
            }  # fmt: skip
            sent = False

            async def receive(body: bytes = body) -> dict[str, Any]:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            done: list[float] = []

            async def send(message: dict[str, Any], done: list[float] = done) -> None:
                if message["type"] == "http.response.start":
                    statuses.add(message["status"])
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    done.append(time.perf_counter())

            started, started_cpu = time.perf_counter(), time.thread_time()
            await app(scope, receive, send)
            if r:
                cpu.append((time.thread_time() - started_cpu) * 1e6)
                samples.append((done[-1] - started) * 1e6)
    assert statuses == {200}, statuses
    return samples, cpu


def _engine_times(texts: list[str], rounds: int) -> list[float]:
    rules = load_defaults()
    samples = []
    for r in range(rounds + 1):
        for text in texts:
            started = time.perf_counter()
            rules.check(text)
            if r:
                samples.append((time.perf_counter() - started) * 1e6)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    texts = _texts()
    wall, cpu = asyncio.run(_server_times(texts, args.rounds))
    server, server_cpu = _percentiles(wall), _percentiles(cpu)
    engine = _percentiles(_engine_times(texts, args.rounds))
    rules = load_defaults()
    accuracy = {}
    for name in SETS:
        figures, _ = evaluate(rules, read_set(name))
        accuracy[name] = {
            c: {"n": f.support, "precision": round(f.precision, 3), "recall": round(f.recall, 3)}
            for c, f in figures.items()
        }
    kept = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "rules_version": rules.version,
        "load_average": os.getloadavg()[0],
        "check_server_time": server,
        "check_server_cpu_time": server_cpu,
        "check_engine_only": engine,
        "accuracy": accuracy,
        "first_evaluations": kept.get("first_evaluations", {}),
    }
    OUT.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(
        json.dumps(
            {
                k: result[k]
                for k in ("check_server_time", "check_server_cpu_time", "check_engine_only")
            },
            indent=2,
        )
    )
    print(f"load average {result['load_average']:.1f}; wrote {OUT}")


if __name__ == "__main__":
    main()
