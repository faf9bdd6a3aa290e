"""Presale's tables (schema `presale`) and the queries its handlers need."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Row,
    String,
    Table,
    Text,
    any_,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain.conversation import RECENT_TEXTS as RECENT_TEXTS
from services.presale.domain.conversation import Conversation
from services.presale.domain.routing import AgentLoad
from shared.db import new_metadata
from shared.plumbing import plumbing_tables

metadata = new_metadata()
inbox, outbox, timers = plumbing_tables(metadata)

agents = Table(
    "agents",
    metadata,
    Column("agent_id", String(100), primary_key=True),
    Column("shop_id", String(100), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("skills", ARRAY(String(20)), nullable=False),
    Column("max_concurrent", Integer, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("assigned_total", Integer, nullable=False, server_default="0"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("conversation_id", String(200), primary_key=True),
    Column("shop_id", String(100), nullable=False),
    Column("buyer_id", String(200), nullable=False),
    Column("buyer_level", String(20), nullable=True),
    Column("state", String(20), nullable=False),  # bot | queued | assigned | closed
    Column("agent_id", String(100), nullable=True, index=True),
    Column("skill", String(20), nullable=True),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("reason", String(200), nullable=True),
    Column("queued_at", DateTime(timezone=True), nullable=True),
    Column("last_activity_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_agent_id", String(100), nullable=True),
    Column("recent_texts", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("memory", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("stage", String(20), nullable=True),
    Index("ix_conversations_queue", "shop_id", "state", "priority", "queued_at"),
)
"""One per buyer–shop pair; `state`: bot | queued | assigned | closed. `recent_texts` holds the
last few buyer texts, masked; `memory` what the bot remembers (`answers.Memory`); `stage` the
conversation's stage so far, for the classifier (`domain.buyer_context`)."""

kb_versions = Table(
    "kb_versions",
    metadata,
    Column("shop_id", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("document", JSONB, nullable=False),
    Column("change", Text, nullable=False),
    Column("author", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("shop_id", "version", name="pk_kb_versions"),
)
"""Every KB change stores the whole document as a new version; the highest one is current."""


async def upsert_agent(
    conn: AsyncConnection,
    *,
    agent_id: str,
    shop_id: str,
    status: str,
    skills: list[str],
    max_concurrent: int,
    changed_at: datetime,
) -> bool:
    """Apply a status change unless a later one is already known; True when applied."""
    values = {
        "agent_id": agent_id,
        "shop_id": shop_id,
        "status": status,
        "skills": skills,
        "max_concurrent": max_concurrent,
        "changed_at": changed_at,
    }
    stmt = insert(agents).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["agent_id"],
        set_={k: stmt.excluded[k] for k in values if k != "agent_id"},
        where=agents.c.changed_at <= stmt.excluded.changed_at,
    )
    return (await conn.execute(stmt)).rowcount == 1


async def agent_loads(conn: AsyncConnection, shop_id: str) -> list[AgentLoad]:
    """Agents of the shop with their open conversations, locked so assignments serialize."""
    await conn.execute(
        select(agents.c.agent_id).where(agents.c.shop_id == shop_id).with_for_update()
    )
    active = (
        select(conversations.c.agent_id, func.count().label("n"))
        .where(conversations.c.state == "assigned", conversations.c.shop_id == shop_id)
        .group_by(conversations.c.agent_id)
        .subquery()
    )
    rows = (
        await conn.execute(
            select(agents, func.coalesce(active.c.n, 0).label("active"))
            .outerjoin(active, active.c.agent_id == agents.c.agent_id)
            .where(agents.c.shop_id == shop_id)
        )
    ).all()
    return [
        AgentLoad(
            r.agent_id,
            r.status,
            frozenset(r.skills),
            r.max_concurrent,
            int(r.active),
            r.assigned_total,
        )
        for r in rows
    ]


async def count_assignment(conn: AsyncConnection, agent_id: str) -> None:
    await conn.execute(
        update(agents)
        .where(agents.c.agent_id == agent_id)
        .values(assigned_total=agents.c.assigned_total + 1)
    )


async def assigned_to(conn: AsyncConnection, agent_id: str) -> list[Row[Any]]:
    """The agent's open conversations, locked."""
    return list(
        (
            await conn.execute(
                select(conversations)
                .where(conversations.c.agent_id == agent_id, conversations.c.state == "assigned")
                .order_by(conversations.c.conversation_id)
                .with_for_update()
            )
        ).all()
    )


async def get_conversation(conn: AsyncConnection, conversation_id: str) -> Row[Any] | None:
    return (
        await conn.execute(
            select(conversations)
            .where(conversations.c.conversation_id == conversation_id)
            .with_for_update()
        )
    ).first()


async def touch_conversation(
    conn: AsyncConnection,
    *,
    conversation_id: str,
    shop_id: str,
    buyer_id: str,
    buyer_level: str | None,
    at: datetime,
) -> None:
    """Create the conversation or reopen it; activity time only moves forward."""
    stmt = insert(conversations).values(
        conversation_id=conversation_id,
        shop_id=shop_id,
        buyer_id=buyer_id,
        buyer_level=buyer_level,
        state="bot",
        last_activity_at=at,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["conversation_id"],
        set_={
            "last_activity_at": func.greatest(conversations.c.last_activity_at, at),
            "buyer_level": func.coalesce(stmt.excluded.buyer_level, conversations.c.buyer_level),
            "state": func.coalesce(func.nullif(conversations.c.state, "closed"), "bot"),
            "updated_at": func.now(),
        },
    )
    await conn.execute(stmt)


async def set_state(conn: AsyncConnection, conversation_id: str, **values: object) -> None:
    await conn.execute(
        update(conversations)
        .where(conversations.c.conversation_id == conversation_id)
        .values(updated_at=func.now(), **values)
    )


async def queued(conn: AsyncConnection, shop_id: str) -> list[Row[Any]]:
    """Waiting conversations, highest priority first, then longest waiting."""
    return list(
        (
            await conn.execute(
                select(conversations)
                .where(conversations.c.shop_id == shop_id, conversations.c.state == "queued")
                .order_by(conversations.c.priority.desc(), conversations.c.queued_at)
                .with_for_update()
            )
        ).all()
    )


async def idle_conversations(
    conn: AsyncConnection, shop_id: str, last_active_before: datetime, exclude: str
) -> list[Row[Any]]:
    """Open sessions of the shop silent since before the cut-off; rows busy elsewhere skipped."""
    c = conversations
    return list(
        (
            await conn.execute(
                select(c)
                .where(
                    c.c.shop_id == shop_id,
                    c.c.state.in_(("bot", "assigned")),
                    c.c.last_activity_at <= last_active_before,
                    c.c.conversation_id != exclude,
                )
                .order_by(c.c.last_activity_at, c.c.conversation_id)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )


# -- the batch path: one statement per table ----------------------------------------------------
_CONVERSATION_FIELDS = [f.name for f in fields(Conversation)]


def _any(values: Collection[str]) -> Any:
    """`= ANY($1)` with the ids as one array parameter (one plan for any batch size)."""
    return any_(bindparam(None, list(values), type_=ARRAY(Text)))


def _conversation(row: Row[Any]) -> Conversation:
    values = {name: getattr(row, name) for name in _CONVERSATION_FIELDS}
    values["recent_texts"] = tuple(values["recent_texts"] or ())
    values["memory"] = dict(values["memory"] or {})
    return Conversation(**values)


async def load_conversations(
    conn: AsyncConnection, conversation_ids: Collection[str]
) -> dict[str, Conversation]:
    """The conversations that exist among these ids, locked, in id order (no deadlocks
    between replicas locking overlapping sets)."""
    if not conversation_ids:
        return {}
    rows = await conn.execute(
        select(conversations)
        .where(conversations.c.conversation_id == _any(conversation_ids))
        .order_by(conversations.c.conversation_id)
        .with_for_update()
    )
    return {r.conversation_id: _conversation(r) for r in rows}


async def save_conversations(conn: AsyncConnection, changed: Sequence[Conversation]) -> None:
    """Insert or overwrite the conversations (one statement per 1,000 rows)."""
    if not changed:
        return
    rows = []
    for c in changed:
        row = {name: getattr(c, name) for name in _CONVERSATION_FIELDS}
        row["recent_texts"] = list(c.recent_texts)
        row["memory"] = dict(c.memory)
        rows.append(row)
    stmt = insert(conversations)
    stmt = stmt.on_conflict_do_update(
        index_elements=["conversation_id"],
        set_={
            **{n: stmt.excluded[n] for n in _CONVERSATION_FIELDS if n != "conversation_id"},
            "updated_at": func.now(),
        },
    )
    # executemany: SQLAlchemy batches the rows into multi-row statements ("insertmanyvalues")
    # from one cached compilation; `.values([...])` would compile anew for every batch size.
    await conn.execute(stmt, rows)


async def lock_agent_loads(
    conn: AsyncConnection, shop_ids: Collection[str]
) -> dict[str, list[AgentLoad]]:
    """The agents of these shops with their open conversations; the agents are locked (in id
    order) first, so assignments across replicas serialize per shop: once per batch."""
    shops = sorted(shop_ids)
    if not shops:
        return {}
    await conn.execute(
        select(agents.c.agent_id)
        .where(agents.c.shop_id == _any(shops))
        .order_by(agents.c.agent_id)
        .with_for_update()
    )
    active = (
        select(conversations.c.agent_id, func.count().label("n"))
        .where(conversations.c.state == "assigned", conversations.c.shop_id == _any(shops))
        .group_by(conversations.c.agent_id)
        .subquery()
    )
    rows = (
        await conn.execute(
            select(agents, func.coalesce(active.c.n, 0).label("active"))
            .outerjoin(active, active.c.agent_id == agents.c.agent_id)
            .where(agents.c.shop_id == _any(shops))
        )
    ).all()
    loads: dict[str, list[AgentLoad]] = {shop: [] for shop in shops}
    for r in rows:
        loads[r.shop_id].append(
            AgentLoad(r.agent_id, r.status, frozenset(r.skills), r.max_concurrent,
                      int(r.active), r.assigned_total)
        )  # fmt: skip
    return loads


async def count_assignments(conn: AsyncConnection, counts: Mapping[str, int]) -> None:
    """Add each agent's new assignments to its total, in one statement."""
    if not counts:
        return
    ids, ns = zip(*sorted(counts.items()), strict=True)
    await conn.execute(
        text(
            "UPDATE agents SET assigned_total = agents.assigned_total + v.n"
            " FROM unnest(CAST(:ids AS text[]), CAST(:ns AS int[])) AS v(agent_id, n)"
            " WHERE agents.agent_id = v.agent_id"
        ),
        {"ids": list(ids), "ns": list(ns)},
    )
