"""`python -m devstack up|demo`: the stack in the foreground until Ctrl-C, or a simulated day."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from devstack.broker import BrokerError
from devstack.config import DEFAULT_BROKER_PORT, SERVICES, StackConfig
from devstack.database import DatabaseError
from devstack.processes import ManagedProcess, ServiceError
from devstack.stack import LocalStack, StackError
from devstack.summary import summarize

EXPECTED_ERRORS = (BrokerError, DatabaseError, ServiceError, StackError)


def _say(message: str) -> None:
    print(f"devstack: {message}", flush=True)


def _fail(message: str) -> None:
    bar = "!" * 78
    print(f"\n{bar}\ndevstack: FAILED: {message}\n{bar}\n", file=sys.stderr, flush=True)


def _parse_ports(text: str) -> dict[str, int]:
    """`presale=8101,metrics=8104` → {"presale": 8101, "metrics": 8104}."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, port = part.partition("=")
        if name not in SERVICES or not port.isdigit():
            raise argparse.ArgumentTypeError(f"bad --ports entry {part!r} (want name=port)")
        out[name] = int(port)
    return out


def _services(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = set(names) - set(SERVICES)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown services: {', '.join(sorted(unknown))}")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", type=Path, default=Path(".stack"))
    common.add_argument("--broker-port", type=int, default=DEFAULT_BROKER_PORT)
    common.add_argument(
        "--ports", type=_parse_ports, default={}, help="e.g. presale=8101,insale=8102"
    )
    common.add_argument(
        "--services", type=_services, default=list(SERVICES), help="comma-separated subset"
    )
    common.add_argument("--log-level", default="INFO")
    common.add_argument("--ready-timeout", type=float, default=60.0)
    common.add_argument(
        "--keep-data",
        action="store_true",
        help="reuse the database of the last run (the broker always starts empty)",
    )
    up = sub.add_parser("up", parents=[common], help="run the stack until Ctrl-C")
    up.add_argument("--no-services", action="store_true", help="broker + database only")
    up.add_argument("--speed", type=float, default=1.0, help="CLOCK_SPEED (business time)")
    demo = sub.add_parser("demo", parents=[common], help="stack + simulator for one shop day")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--speed", type=float, default=720.0)
    demo.add_argument("--hours", type=float, default=24.0)
    demo.add_argument("--settle-timeout", type=float, default=30.0)
    return parser


def _config(args: argparse.Namespace) -> StackConfig:
    return StackConfig(
        state_dir=args.state_dir,
        broker_port=args.broker_port,
        ports=args.ports,
        clock_speed=args.speed,
        log_level=args.log_level,
        ready_timeout=args.ready_timeout,
        fresh_database=not args.keep_data,
    )


async def _start(stack: LocalStack, services: list[str]) -> None:
    _say(f"starting broker on {stack.bootstrap} and postgres in {stack.config.pg_dir} ...")
    await stack.start_infra()
    _say(f"{len(stack.topics)} topics created, migrations applied")
    if services:
        _say(f"starting {', '.join(services)} ...")
        await stack.start_services(services)


def _banner(stack: LocalStack) -> None:
    lines = [
        "",
        "xiaoer dev stack is up",
        f"  KAFKA_BOOTSTRAP_SERVERS={stack.bootstrap}",
        f"  DATABASE_URL={stack.database_url}",
        f"  CLOCK_EPOCH={stack.config.clock_epoch} CLOCK_SPEED={stack.config.clock_speed:g}",
    ]
    lines += [f"  {name:<10} {svc.base_url}  pid {svc.pid}" for name, svc in stack.services.items()]
    lines += [
        f"  logs:      {stack.config.logs_dir}/",
        f"  settings:  source {stack.config.env_file}",
        "",
    ]
    print("\n".join(lines), flush=True)


async def _supervise(stack: LocalStack, job: ManagedProcess | None = None) -> int | None:
    """Return 1 as soon as something dies unexpectedly, or the job's exit code when it ends."""
    while True:
        problems = stack.failures()
        if problems:
            for problem in problems:
                _fail(problem)
            return 1
        if job is not None and not job.alive():
            return job.returncode()
        await asyncio.sleep(0.5)


async def cmd_up(args: argparse.Namespace, stack: LocalStack) -> int:
    await _start(stack, [] if args.no_services else args.services)
    _banner(stack)
    _say("press Ctrl-C to stop")
    return await _supervise(stack) or 0


async def cmd_demo(args: argparse.Namespace, stack: LocalStack) -> int:
    await _start(stack, args.services)
    _banner(stack)
    argv = [sys.executable, "-m", "simulator", "--seed", str(args.seed)]
    argv += ["--speed", f"{args.speed:g}", "--hours", f"{args.hours:g}"]
    _say(f"running the simulator: {' '.join(argv[1:])}")
    job = stack.start_job("simulator", argv, tee=True)
    code = await _supervise(stack, job)
    if code != 0 or job.alive():
        if job.returncode() not in (None, 0):
            _fail(job.describe_death())
        return code or 1
    _say("simulator finished; waiting for the services to catch up ...")
    urls = {name: stack.service_url(name) for name in args.services}
    print(await summarize(stack.bootstrap, args.settle_timeout, urls), flush=True)
    problems = stack.failures()
    for problem in problems:
        _fail(problem)
    return 1 if problems else 0


async def _run(command: Callable[[], Awaitable[int]]) -> int:
    """Run `command`; SIGINT/SIGTERM cancel it so that the caller's `finally` tears down."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    interrupted: list[int] = []

    def on_signal(signum: int) -> None:
        if not interrupted:
            _say(f"{signal.Signals(signum).name}: stopping ...")
            task.cancel()
        interrupted.append(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        return await command()
    except asyncio.CancelledError:
        if not interrupted:
            raise
        return 128 + interrupted[0] if interrupted[0] != signal.SIGINT else 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    stack = LocalStack(_config(args))
    commands = {"up": cmd_up, "demo": cmd_demo}
    try:
        return asyncio.run(_run(lambda: commands[args.command](args, stack)))
    except EXPECTED_ERRORS as exc:
        _fail(str(exc))
        return 1
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            stack.stop()
        _say("stopped; no processes left behind")


if __name__ == "__main__":
    sys.exit(main())
