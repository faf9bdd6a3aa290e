"""`python -m devstack up|demo|dashboard`: the stack until Ctrl-C, a simulated day, the dashboard."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from devstack.broker import BrokerError
from devstack.config import DEFAULT_BROKER_PORT, DEMO_SHOP, SERVICES, StackConfig
from devstack.dashboard_link import (
    DashboardLink,
    dashboard_url,
    link_from_env,
    open_browser,
    read_stack_env,
)
from devstack.database import DatabaseError
from devstack.processes import ManagedProcess, ServiceError
from devstack.stack import LocalStack, StackError
from devstack.summary import (
    DemoRun,
    business_summary,
    platform_line,
    summarize,
    wait_settled,
)
from shared.clock import ScaledClock

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
        help="reuse the database of the last run (and, with --durable-broker, the broker's "
        "topics and offsets; a memory broker always starts empty)",
    )
    common.add_argument(
        "--durable-broker",
        action="store_true",
        help="Tansu on S3 storage (a local s3rver, needs `npm ci`) instead of memory: a broker "
        "restart keeps topics, records and offsets; several times slower (docs/operations.md)",
    )
    up = sub.add_parser("up", parents=[common], help="run the stack until Ctrl-C")
    up.add_argument("--no-services", action="store_true", help="broker + database only")
    up.add_argument("--speed", type=float, default=1.0, help="CLOCK_SPEED (business time)")
    demo = sub.add_parser("demo", parents=[common], help="stack + simulator for one shop day")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--speed", type=float, default=720.0)
    demo.add_argument("--hours", type=float, default=24.0)
    demo.add_argument("--settle-timeout", type=float, default=30.0)
    demo.add_argument(
        "--stay",
        choices=("auto", "yes", "no"),
        default="auto",
        help="keep the stack and dashboard up after the summary until Ctrl-C "
        "(auto: when run in a terminal)",
    )
    dash = sub.add_parser("dashboard", help="the dashboard address and token of a running stack")
    dash.add_argument("--state-dir", type=Path, default=Path(".stack"))
    dash.add_argument("--no-browser", action="store_true", help="only print the address")
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
        durable_broker=args.durable_broker,
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
    truth = stack.state_dir / "truth.json"
    truth.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "simulator", "--seed", str(args.seed)]
    argv += ["--speed", f"{args.speed:g}", "--hours", f"{args.hours:g}"]
    argv += ["--truth-file", str(truth)]
    _say(f"running the simulator: {' '.join(argv[1:])}")
    job = stack.start_job("simulator", argv, tee=True)
    code = await _supervise(stack, job)
    if code != 0 or job.alive():
        if job.returncode() not in (None, 0):
            _fail(job.describe_death())
        return code or 1
    _say("simulator finished; waiting for the services to catch up ...")
    urls = {name: stack.service_url(name) for name in args.services}
    run = None
    if "metrics" in stack.services:
        await wait_settled(stack.bootstrap, args.settle_timeout, quiet_for=10.0)
        run = _demo_run(args, stack, truth)
        print(await business_summary(run), flush=True)
        print(await platform_line(stack.bootstrap, urls), flush=True)
        _say(f"figures as JSON: {run.out_json}")
    else:  # no metrics API: the platform's view only
        print(await summarize(stack.bootstrap, args.settle_timeout, urls), flush=True)
    problems = stack.failures()
    for problem in problems:
        _fail(problem)
    if problems:
        return 1
    if run is not None:
        port = stack.config.ports["metrics"]
        link = DashboardLink(dashboard_url(port, DEMO_SHOP, *run.window), stack.api_token)
        print("\n" + "\n".join(link.lines()), flush=True)
    stay = args.stay == "yes" or (
        args.stay == "auto" and sys.stdin.isatty() and sys.stdout.isatty()
    )
    if not stay:
        _say("stopping (in a terminal, or with ARGS=--stay=yes, the stack stays up)")
        return 0
    _say("the stack and the dashboard stay up: press Ctrl-C to stop")
    return await _supervise(stack) or 0


def _demo_run(args: argparse.Namespace, stack: LocalStack, truth: Path) -> DemoRun:
    """The window the figures cover: from the simulated day's start to the business now."""
    epoch = datetime.fromisoformat(stack.config.clock_epoch)
    now = ScaledClock(stack.config.clock_speed, epoch).now()
    start = epoch
    if truth.exists():
        start = datetime.fromisoformat(json.loads(truth.read_text())["start"])
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return DemoRun(
        bootstrap=stack.bootstrap,
        metrics_url=stack.service_url("metrics"),
        shop_id=DEMO_SHOP,
        token=stack.api_token,
        truth_file=truth,
        window=(start, end),
        speed=stack.config.clock_speed,
        out_json=stack.state_dir / "summary.json",
    )


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Print (and open, when there is a screen) the dashboard of the stack in `--state-dir`."""
    try:
        link = link_from_env(read_stack_env(args.state_dir.absolute() / "stack.env"))
    except (FileNotFoundError, LookupError, KeyError) as exc:
        _fail(str(exc))
        return 1
    base = link.url.split("/?", 1)[0]
    try:
        up = httpx.get(f"{base}/readyz", timeout=3).status_code == 200
    except httpx.HTTPError:
        up = False
    if not up:
        _fail(f"the metrics service does not answer at {base}: is the stack running?")
        return 1
    print("\n".join(link.lines()), flush=True)
    if not args.no_browser and open_browser(link.url):
        _say("opened in your browser")
    return 0


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
    if args.command == "dashboard":
        return cmd_dashboard(args)
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
