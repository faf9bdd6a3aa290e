"""Where presale's CPU per buyer message goes: py-spy samples the real presale process while it
drains a backlog, and the samples are summed by where they are.

`uv run --with py-spy python -m bench.presale_profile [--messages 12000] [--raw FILE]`

It starts its own broker and database (devstack, free ports) and presale as a process (as the
`bench.pipeline` throughput run does), warms it up, then publishes the backlog and records
`py-spy record --format raw` (collapsed stacks, idle frames excluded) until the group has
committed everything and the outbox is drained. Each sample is put in the first category whose
pattern matches one of its frames, innermost frame first, so "NLU" means time spent inside the
classifier whoever called it. The table gives each category's share of the samples and, scaled
by the process's CPU time per message in the same run, its milliseconds per message.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import tempfile
from collections import Counter
from pathlib import Path

from bench import presale_load as load
from devstack import LocalStack
from devstack.config import isolated_config

# (category, substrings of a frame "function (file:line)"), tried on each sample's frames from
# the innermost out: the first frame that matches any category decides the sample.
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("NLU (classifier)", ("domain/nlu/",)),
    ("masking", ("shared/masking.py",)),
    ("tracing (OpenTelemetry)", ("opentelemetry/", "shared/tracing.py")),
    ("metrics (prometheus)", ("prometheus_client/",)),
    ("SQLAlchemy (compile, params, results)", ("sqlalchemy/",)),
    ("asyncpg (protocol, encode/decode)", ("asyncpg/",)),
    ("pydantic (validate, dump)", ("pydantic/", "pydantic_core/", "model_dump", "model_validate")),
    ("JSON", ("json/",)),
    ("aiokafka (fetch, produce)", ("aiokafka/", "kafka/")),
    ("FastStream", ("faststream/",)),
    ("logging", ("logging/",)),
    ("asyncio event loop", ("asyncio/", "uvloop")),
    ("presale domain / batch logic", ("services/presale/",)),
    ("shared consume path / outbox", ("shared/",)),
]


def categorize(stack: str) -> str:
    frames = stack.split(";")[::-1]  # innermost first
    for frame in frames:
        for name, needles in CATEGORIES:
            if any(n in frame for n in needles):
                return name
    return "other"


def summarize(raw: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            counts[categorize(stack)] += int(n)
    return counts


async def profile(messages: int, raw: Path) -> tuple[Counter[str], float, float]:
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(isolated_config(Path(state), log_level="WARNING"))
        try:
            await stack.start_infra()
            await stack.start_service("presale")
            await load.throughput(stack, 1000)  # warm-up
            pid = load.service_pids(stack)[0]
            spy = shutil.which("py-spy") or "py-spy"
            proc = await asyncio.create_subprocess_exec(
                spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
                "--output", str(raw), "--nonblocking",
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await asyncio.sleep(1.0)
            try:
                got = await load.throughput(stack, messages)
            finally:
                proc.send_signal(signal.SIGINT)  # py-spy writes its output and exits
                await asyncio.wait_for(proc.wait(), 30)
        finally:
            stack.stop()
    return summarize(raw), got.presale_cpu_ms_per_message, got.per_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=12000)
    parser.add_argument("--raw", type=Path, default=None, help="keep the collapsed stacks here")
    args = parser.parse_args()
    raw = args.raw or Path(tempfile.mkstemp(suffix=".txt")[1])
    counts, cpu_ms, rate = asyncio.run(profile(args.messages, raw))
    total = sum(counts.values()) or 1
    print(f"presale: {rate:,.0f} messages/s consumed, {cpu_ms:.3f} ms CPU per message")
    print(f"{'where':45} {'share':>7} {'ms/message':>11}")
    for name, n in counts.most_common():
        print(f"{name:45} {n / total:7.1%} {cpu_ms * n / total:11.3f}")
    print(f"collapsed stacks: {raw}")


if __name__ == "__main__":
    main()
