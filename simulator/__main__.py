"""`python -m simulator --seed 7 --speed 720 --hours 24`: play a shop day against Kafka."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import datetime
from functools import partial
from pathlib import Path

from shared.clock import ScaledClock
from simulator import catalog
from simulator.runner import Runner
from simulator.scenario import Plan, Planned, generate


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--speed", type=float, default=None,
                   help="business seconds per wall second (default: CLOCK_SPEED or 720)")  # fmt: skip
    p.add_argument("--hours", type=float, default=24.0, help="business hours to simulate")
    p.add_argument("--shop", default=catalog.SHOP_ID)
    p.add_argument("--buyers", type=int, default=None,
                   help="buyers active in the window (default: 300 per 24 h)")  # fmt: skip
    p.add_argument("--bad-rate", type=float, default=0.002,
                   help="fraction of events followed by a corrupted copy")  # fmt: skip
    p.add_argument("--truth-file", type=Path, default=None,
                   help="write the plan's window and each buyer message's true intent (JSON)")  # fmt: skip
    return p.parse_args(argv)


def ground_truth(plan: Plan, speed: float) -> dict[str, object]:
    """What the simulator knows and the services must find out: each message's true intent,
    and which messages ask a planted gap (`simulator.gaps`)."""
    intents = {
        e.payload.message_id: e.intent  # type: ignore[union-attr]
        for e in plan.events
        if isinstance(e, Planned) and e.intent is not None
    }
    planted = {
        e.payload.message_id: e.gap  # type: ignore[union-attr]
        for e in plan.events
        if isinstance(e, Planned) and e.gap is not None
    }
    return {
        "shop_id": plan.shop_id,
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        "speed": speed,
        "intents": intents,
        "planted_gaps": planted,
    }


def make_clock(speed_arg: float | None) -> ScaledClock:
    """Same clock as the services: CLOCK_EPOCH + (wall - CLOCK_EPOCH) * speed."""
    speed = speed_arg if speed_arg is not None else float(os.environ.get("CLOCK_SPEED") or 720)
    raw_epoch = os.environ.get("CLOCK_EPOCH")
    epoch = datetime.fromisoformat(raw_epoch) if raw_epoch else None
    if epoch is not None and epoch.tzinfo is None:
        raise SystemExit("CLOCK_EPOCH must carry a timezone offset (RFC 3339)")
    return ScaledClock(speed, epoch)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if (args.speed is not None and args.speed <= 0) or args.hours <= 0:
        raise SystemExit("--speed and --hours must be positive")
    factory = partial(generate, args.seed, hours=args.hours, shop_id=args.shop,
                      buyers=args.buyers, bad_rate=args.bad_rate)  # fmt: skip
    runner = Runner(
        plan_factory=lambda start: factory(start),
        clock=make_clock(args.speed),
        bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
    )
    asyncio.run(runner.run())
    print(runner.summary(), flush=True)
    if args.truth_file is not None and runner.plan is not None:
        args.truth_file.parent.mkdir(parents=True, exist_ok=True)
        truth = ground_truth(runner.plan, runner.clock.speed)
        args.truth_file.write_text(json.dumps(truth, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
