"""A minimal service used to test the shared plumbing on the real broker and database.

It consumes `cs.csat.submitted.v1` and answers each rating with a `cs.reply.requested.v1`;
its behaviour can be made to fail on purpose. Its tables live in their own schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.clock import Clock
from shared.cloudevents import Envelope, Record
from shared.context import Context
from shared.contracts import CsatSubmitted, ReplyRequested
from shared.db import create_engine, new_metadata
from shared.ids import derived_id
from shared.plumbing import plumbing_tables
from shared.runtime import ServiceRuntime
from shared.settings import CommonSettings
from shared.timers import Timer


def probe_metadata() -> tuple[MetaData, Table]:
    metadata = new_metadata()
    plumbing_tables(metadata)
    effects = Table(
        "effects",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("what", String(200), nullable=False),
    )
    return metadata, effects


@dataclass
class Behaviour:
    """Knobs a test turns: which conversation ids fail, how."""

    crash_on: set[str] = field(default_factory=set)
    # emits a record the outbox cannot store: the batch then fails outside any handler
    unstorable_on: set[str] = field(default_factory=set)
    transient_failures: dict[str, int] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)  # handled (conversation, comment)


def build_probe(
    bootstrap: str,
    database_url: str,
    schema: str,
    clock: Clock | None = None,
    behaviour: Behaviour | None = None,
    lanes: int = 1,
    relay_mode: str = "inline",
) -> tuple[ServiceRuntime, Behaviour, Table]:
    metadata, effects = probe_metadata()
    behaviour = behaviour or Behaviour()
    settings = CommonSettings(
        service_name=f"xiaoer-{schema}",
        kafka_bootstrap_servers=bootstrap,
        database_url=database_url,
        outbox_poll_interval_s=0.05,
        timer_poll_interval_s=0.05,
        consumer_lanes=lanes,
        relay_mode=relay_mode,
        kafka_group_id=f"xiaoer-{schema}-test",  # one per test (and schema), kept on restart
    )

    async def on_csat(ctx: Context, c: CsatSubmitted, env: Envelope) -> None:
        behaviour.calls.append(c.conversation_id)
        left = behaviour.transient_failures.get(c.conversation_id, 0)
        if left:
            behaviour.transient_failures[c.conversation_id] = left - 1
            raise ConnectionResetError("database went away (simulated)")
        if c.conversation_id in behaviour.crash_on:
            raise ValueError(f"cannot handle {c.conversation_id}")
        if c.conversation_id in behaviour.unstorable_on:
            ctx.forward_raw(Record("cs.reply.requested.v1", "key\x00", b"{}", {}))
        await ctx.conn.execute(insert(effects).values(what=f"csat:{c.shop_id}:{c.conversation_id}"))
        behaviour.seen.append((c.conversation_id, c.comment or ""))
        ctx.emit(
            ReplyRequested(
                shop_id=c.shop_id,
                reply_request_id=derived_id(env.id, "thanks"),
                conversation_id=c.conversation_id,
                buyer_id=c.buyer_id,
                text=f"谢谢您的评价 {c.rating} 分",
                kind="notification",
                sender="system",
                requested_by="probe",
                requested_at=ctx.now(),
            )
        )
        if c.comment == "remind":
            await ctx.schedule(
                "remind",
                c.conversation_id,
                c.submitted_at + timedelta(hours=1),
                {"shop_id": c.shop_id, "buyer_id": c.buyer_id},
            )

    async def on_remind(ctx: Context, timer: Timer) -> None:
        await ctx.conn.execute(insert(effects).values(what=f"timer:{timer.key}"))

    runtime = ServiceRuntime(
        settings,
        metadata,
        {"cs.csat.submitted.v1": on_csat},
        timer_handlers={"remind": on_remind},
        clock=clock,
    )
    return runtime, behaviour, effects


async def create_schema(database_url: str, schema: str) -> AsyncEngine:
    """A fresh schema per test; its name is also the probe's consumer group."""
    metadata, _ = probe_metadata()
    engine = create_engine(database_url, schema, pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
        await conn.run_sync(metadata.create_all)
    return engine
