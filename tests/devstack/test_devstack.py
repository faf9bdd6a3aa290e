"""The launcher against the real Tansu broker and embedded PostgreSQL (nothing mocked)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from devstack import LocalStack, StackError
from devstack.broker import ensure_topics
from devstack.config import isolated_config
from devstack.processes import ServiceError
from devstack.summary import end_offsets, format_summary, group_lags
from shared.topic_reader import high_watermarks
from shared.topics import all_topic_names

pytestmark = pytest.mark.stack

FAKE_SERVICE = str(Path(__file__).with_name("fake_service.py"))
ROOT = Path(__file__).resolve().parents[2]


def _leftovers(pids: list[int], marker: str) -> list[str]:
    """Processes that are still alive among `pids`, or whose command line mentions `marker`."""
    out = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        cmdline = " ".join(proc.info["cmdline"] or ())
        if proc.info["pid"] in pids or (marker and marker in cmdline):
            out.append(f"{proc.info['pid']}: {cmdline}")
    return out


async def test_every_topic_exists_with_its_partition_count(infra: LocalStack) -> None:
    wanted = dict(all_topic_names())
    assert any(name.endswith(".dlq") for name in wanted)
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(wanted))
    finally:
        await admin.close()
    assert {t["topic"]: len(t["partitions"]) for t in described} == wanted


async def test_topic_creation_is_idempotent(infra: LocalStack) -> None:
    assert await ensure_topics(infra.bootstrap) == dict(all_topic_names())


async def test_database_accepts_connections(infra: LocalStack) -> None:
    assert infra.database_url.startswith("postgresql+asyncpg://")
    engine = create_async_engine(infra.database_url)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT current_database(), 1 + 1"))).one()
    finally:
        await engine.dispose()
    assert tuple(row) == ("xiaoer", 2)


def test_stack_env_can_be_sourced(infra: LocalStack) -> None:
    env_file = infra.state_dir / "stack.env"
    script = f"set -e; source {env_file}; env"
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    got = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    assert got["KAFKA_BOOTSTRAP_SERVERS"] == infra.bootstrap
    assert got["DATABASE_URL"] == infra.database_url
    assert got["API_TOKENS"].startswith("shop-demo:")
    assert got["OPERATOR_TOKEN"]
    assert got["CLOCK_EPOCH"] == infra.config.clock_epoch
    assert got["PRESALE_HTTP_PORT"] == str(infra.config.ports["presale"])


async def test_summary_counts_events_and_lag(infra: LocalStack) -> None:
    topic = "cs.csat.submitted.v1"
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap)
    await producer.start()
    try:
        for _ in range(3):
            await producer.send_and_wait(topic, b"{}", key=b"k", partition=0)
        await producer.send_and_wait(topic + ".dlq", b"bad", partition=0)
    finally:
        await producer.stop()
    group = f"devstack-test-{uuid.uuid4().hex[:8]}"  # other tests also write to the topic
    consumer = AIOKafkaConsumer(
        bootstrap_servers=infra.bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(1, "")})
    finally:
        await consumer.stop()
    counts = await end_offsets(infra.bootstrap, all_topic_names())
    assert counts[topic] >= 3
    assert counts[topic + ".dlq"] >= 1
    lags = await group_lags(infra.bootstrap, all_topic_names())
    # the group committed partition 0 only: its lag is what lies on partition 0 past offset 1
    ends = await high_watermarks(infra.bootstrap, [TopicPartition(topic, 0)])
    assert lags[group] == ends[TopicPartition(topic, 0)] - 1
    assert "cs.csat.submitted.v1" in format_summary(counts, lags)


async def test_service_helpers_start_kill_restart(infra: LocalStack) -> None:
    infra.config.service_argv = (FAKE_SERVICE,)
    try:
        await infra.start_services(["presale", "insale"])
        presale = infra.services["presale"]
        first_pid = presale.pid
        assert infra.failures() == []

        os.killpg(presale.pid, signal.SIGKILL)  # a crash nobody asked for
        presale.proc.wait(5)
        problems = infra.failures()
        assert len(problems) == 1
        assert "presale exited with code -9" in problems[0]

        await infra.restart_service("presale")
        assert presale.pid != first_pid
        assert infra.failures() == []

        infra.kill_service("insale")  # asked for: not a failure
        assert infra.failures() == []
        await infra.restart_service("insale", kill=True)
        assert infra.stop_service("insale") is not None
        assert _leftovers([first_pid], "") == []
    finally:
        for name in ("presale", "insale"):
            infra.stop_service(name)
        infra.config.service_argv = ("-m", "services.{name}")
        infra.services.clear()


async def test_a_service_dying_at_start_reports_its_log(infra: LocalStack) -> None:
    infra.config.service_argv = (FAKE_SERVICE,)
    try:
        svc = infra._start_service_process("metrics")
        svc.env["FAKE_MODE"] = "crash"
        svc.stop()
        svc.start()
        with pytest.raises(ServiceError, match=r"(?s)metrics died while starting.*boom"):
            await svc.wait_ready(10)
    finally:
        infra.stop_service("metrics")
        infra.config.service_argv = ("-m", "services.{name}")
        infra.services.clear()


async def test_stop_leaves_no_processes(tmp_path: Path) -> None:
    stack = LocalStack(isolated_config(tmp_path / "s", service_argv=(FAKE_SERVICE,)))
    async with stack:
        await stack.start_services(["aftersale"])
        pids = stack.pids()
        assert len(pids) == 4  # service, broker, postmaster, its guard
    assert _leftovers(pids, str(tmp_path)) == []


def _launch_up(tmp_path: Path) -> tuple[subprocess.Popen[str], list[str]]:
    """`python -m devstack up --no-services` on free ports, once it says it is ready."""
    cfg = isolated_config(tmp_path / "cli")
    argv = [sys.executable, "-m", "devstack", "up", "--no-services"]
    argv += ["--state-dir", str(cfg.state_dir), "--broker-port", str(cfg.broker_port)]
    proc = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    for line in proc.stdout:
        output.append(line)
        if "press Ctrl-C" in line or time.monotonic() > deadline:
            break
    if not any("press Ctrl-C" in line for line in output):
        proc.kill()
        pytest.fail("".join(output))
    return proc, output


def test_cli_up_leaves_nothing_when_the_launcher_is_killed(tmp_path: Path) -> None:
    proc, _ = _launch_up(tmp_path)
    children = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    proc.kill()  # SIGKILL: no finally, no atexit
    proc.communicate(timeout=10)
    deadline = time.monotonic() + 15
    while _leftovers(children, str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _leftovers(children, str(tmp_path)) == []


def test_cli_up_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    proc, output = _launch_up(tmp_path)
    try:
        children = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, "".join(output) + rest
    assert "no processes left behind" in rest
    assert _leftovers(children, str(tmp_path)) == []


async def test_one_launcher_per_state_dir(infra: LocalStack) -> None:
    other = LocalStack(infra.config)
    (infra.state_dir / "launcher.pid").write_text(str(os.getppid()))  # a live foreign launcher
    try:
        with pytest.raises(StackError, match="already running"):
            await other.start_infra()
    finally:
        (infra.state_dir / "launcher.pid").write_text(str(os.getpid()))
        other.stop()
    assert infra.failures() == []
    assert other.tokens == infra.tokens  # tokens are kept per state dir
