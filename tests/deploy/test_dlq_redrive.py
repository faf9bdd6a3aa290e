"""Dead letters end to end on the local stack: fail → dead-letter → fix → re-drive → once.

Presale runs in-process with its real handlers, except that the agent-status handler has a
"bug" for this test's shop until the test fixes it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from ops.dlq.__main__ import run
from ops.dlq.records import read_all
from services.presale import store
from services.presale.handlers import SESSION_IDLE, Handlers
from services.presale.handlers.messages import MessageBatch
from services.presale.nlu_loader import install
from services.presale.settings import PresaleSettings
from shared.batch import BatchConsumer
from shared.cloudevents import Envelope, encode
from shared.context import Context
from shared.contracts import AgentStatusChanged
from shared.db import create_engine
from shared.runtime import ServiceRuntime
from shared.topics import topic
from tests.support.groups import new_group
from tests.support.kafka import Collector, Seen, collecting, publisher
from tests.support.runtime import idle, started

STATUS = topic("cs.agent.status.v1")
TRACEPARENT = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"


class Buggy:
    """Wraps the real handler; raises for one shop while `broken`; counts real handling."""

    def __init__(self, real: Any, shop_id: str) -> None:
        self.real, self.shop_id, self.broken = real, shop_id, True
        self.handled: Counter[str] = Counter()

    async def __call__(self, ctx: Context, payload: AgentStatusChanged, env: Envelope) -> None:
        if payload.shop_id == self.shop_id and self.broken:
            raise RuntimeError("roster bug: skills list not sorted")
        await self.real(ctx, payload, env)
        if payload.shop_id == self.shop_id:
            self.handled[env.id] += 1


def presale_with(settings: PresaleSettings, buggy: Buggy) -> ServiceRuntime:
    install()  # the classifier's model, as build_runtime does
    h = Handlers(settings.session_gap)
    handlers = {
        "cs.agent.status.v1": buggy,
        "cs.handoff.requested.v1": h.handoff_requested,
    }
    return ServiceRuntime(
        settings,
        store.metadata,
        handlers,
        consume_path=lambda rt: BatchConsumer(
            rt.engine,
            rt.plumbing,
            rt.clock,
            MessageBatch(settings.session_gap),
            handlers=handlers,
            on_committed=rt.relay.wake,
        ),
        timer_handlers={SESSION_IDLE: h.session_idle},
    )


async def cli(capsys: pytest.CaptureFixture[str], infra: Any, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = await run(["--bootstrap", infra.bootstrap, "--database-url", infra.database_url, *argv])
    return code, capsys.readouterr().out


def copies(seen: Collector, ce_id: str) -> list[Seen]:
    return [s for s in seen.of(STATUS.name) if s.headers.get("ce_id") == ce_id]


async def wait_until(check: Any, timeout: float = 20.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_dead_letter_fix_redrive_handled_exactly_once(
    infra: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = f"shop-dlq-{uuid.uuid4().hex[:8]}"
    agent = f"agent-{uuid.uuid4().hex[:8]}"
    settings = PresaleSettings(
        kafka_bootstrap_servers=infra.bootstrap,
        database_url=infra.database_url,
        outbox_poll_interval_s=0.05,
        kafka_group_id=new_group("presale"),
    )
    now = datetime.now(UTC)
    good = AgentStatusChanged(
        shop_id=shop, agent_id=agent, status="online", skills=["presale"],
        max_concurrent=5, changed_at=now,
    )  # fmt: skip
    record = encode(STATUS, good, source="/tests/im-gateway")
    record.headers["traceparent"] = TRACEPARENT
    ce_id = record.headers["ce_id"]
    bad_id = str(uuid.uuid4())
    bad_value = json.dumps({**json.loads(record.value), "max_concurrent": -1}).encode()
    bad_headers = {**record.headers, "ce_id": bad_id}

    buggy = Buggy(Handlers(settings.session_gap).agent_status, shop)
    async with (
        collecting(infra.bootstrap, [STATUS.name, STATUS.dlq]) as seen,
        started(presale_with(settings, buggy)) as presale,
        publisher(infra.bootstrap) as pub,
    ):
        # 1. A valid event meets a handler bug; an invalid one fails validation.
        await pub.record(record)
        await pub.raw(STATUS.name, bad_value, key=agent, headers=bad_headers)
        await seen.wait_for(
            lambda c: {s.headers.get("ce_id") for s in c.of(STATUS.dlq)} >= {ce_id, bad_id},
            what="both events dead-lettered",
        )
        assert buggy.handled[ce_id] == 0

        # 2. The operator lists them, with their reasons.
        code, out = await cli(capsys, infra, "list", "--json", "--topic", STATUS.name)
        assert code == 0
        rows = {r["ce_id"]: r for r in map(json.loads, out.splitlines())}
        assert rows[ce_id]["reason"].startswith("handler failed: RuntimeError: roster bug")
        assert rows[ce_id]["status"] == "pending"
        assert rows[ce_id]["consumer"] == "xiaoer-presale"
        assert rows[ce_id]["original"].startswith(f"{STATUS.name}[")
        assert "invalid AgentStatusChanged" in rows[bad_id]["reason"]
        assert "max_concurrent" in rows[bad_id]["reason"]
        code, out = await cli(capsys, infra, "show", "--ce-id", ce_id)
        assert code == 0
        assert json.loads(out)["payload"]["agent_id"] == agent

        # 3. Fix the bug, re-drive the event that hit it: handled exactly once, same id/trace.
        buggy.broken = False
        code, out = await cli(capsys, infra, "redrive", "--topic", STATUS.name, "--ce-id", ce_id)
        assert code == 0, out
        assert "1 re-driven" in out
        await wait_until(lambda: buggy.handled[ce_id] >= 1, what="the re-driven event handled")
        await seen.wait_for(
            lambda c: len(copies(c, ce_id)) >= 2, what="the original and its re-driven copy"
        )
        again = copies(seen, ce_id)
        assert len(again) == 2
        assert again[1].value == record.value
        # In the original trace; its parent span is the re-drive's publish span whenever a
        # tracer provider is installed (another test may have set the global one).
        assert again[1].headers["traceparent"].split("-")[1] == TRACEPARENT.split("-")[1]
        assert not any(k.startswith("x-dlq-") for k in again[1].headers)

        # 4. Re-driving again (or everything) publishes nothing more.
        code, out = await cli(capsys, infra, "redrive", "--topic", STATUS.name, "--ce-id", ce_id)
        assert "already redriven" in out
        assert "0 re-driven" in out
        code, out = await cli(capsys, infra, "list", "--json", "--ce-id", ce_id)
        assert json.loads(out)["status"] == "redriven"
        await idle(presale)  # a wrongly re-published copy would be out by now...
        await seen.caught_up()  # ...and read
        assert len(copies(seen, ce_id)) == 2
        assert buggy.handled[ce_id] == 1

    engine = create_engine(infra.database_url, "presale", pool_size=1)
    try:
        async with engine.connect() as conn:
            roster = await conn.execute(
                text(
                    "SELECT count(*) FROM inbox WHERE consumer = 'xiaoer-presale' AND event_id = :e"
                ),
                {"e": ce_id},
            )
            assert roster.scalar_one() == 1
    finally:
        await engine.dispose()
    letters = await read_all(infra.bootstrap, [STATUS.dlq])
    assert sum(d.ce_id == ce_id for d in letters) == 1  # never dead-lettered twice
