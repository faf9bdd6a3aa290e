"""Conversations (one per buyer–shop pair): loaded as `domain.conversation.Conversation`,
saved whole. The batch path loads a batch's conversations in one locked query and saves the
changed ones in one statement; the per-event handlers read one (or a shop's queue, idle or
agent's ones), locked, and write each change back with `save_conversation`."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, func, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain.conversation import Conversation
from services.presale.store.tables import conversations
from shared.bulk import BulkInsert
from shared.sql_arrays import among

_FIELDS = [f.name for f in fields(Conversation)]
_RECENT_TEXTS = _FIELDS.index("recent_texts")
_MEMORY = _FIELDS.index("memory")


def _conversation(row: Row[Any]) -> Conversation:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["recent_texts"] = tuple(values["recent_texts"] or ())
    values["memory"] = dict(values["memory"] or {})
    return Conversation(**values)


async def _all(conn: AsyncConnection, query: Select[Any]) -> list[Conversation]:
    return [_conversation(r) for r in await conn.execute(query)]


async def get_conversation(conn: AsyncConnection, conversation_id: str) -> Conversation | None:
    """One conversation, locked."""
    found = await _all(
        conn,
        select(conversations)
        .where(conversations.c.conversation_id == conversation_id)
        .with_for_update(),
    )
    return found[0] if found else None


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


async def assigned_to(conn: AsyncConnection, agent_id: str) -> list[Conversation]:
    """The agent's open conversations, locked."""
    c = conversations
    return await _all(
        conn,
        select(c)
        .where(c.c.agent_id == agent_id, c.c.state == "assigned")
        .order_by(c.c.conversation_id)
        .with_for_update(),
    )


async def queued(
    conn: AsyncConnection, shop_id: str, room: Mapping[str, int]
) -> list[Conversation]:
    """The waiting conversations a drain can reach, locked: of each stored skill (no skill
    reads as `presale`), the first `room[skill]` in queue order (`domain.routing.queue_room`).
    One statement, one short indexed read per skill, however long the queue is."""
    c = conversations
    skill = func.coalesce(c.c.skill, "presale")
    order = (c.c.priority.desc(), c.c.queued_at, c.c.conversation_id)
    reachable = [
        select(c.c.conversation_id)
        .where(c.c.shop_id == shop_id, c.c.state == "queued", skill == name)
        .order_by(*order)
        .limit(n)
        for name, n in sorted(room.items())
        if n > 0
    ]
    if not reachable:
        return []
    return await _all(
        conn,
        select(c)
        .where(c.c.conversation_id.in_(union_all(*reachable)), c.c.state == "queued")
        .order_by(*order)
        .with_for_update(),
    )


async def idle_conversations(
    conn: AsyncConnection, shop_id: str, last_active_before: datetime, exclude: str
) -> list[Conversation]:
    """Open sessions of the shop silent since before the cut-off; rows busy elsewhere skipped."""
    c = conversations
    return await _all(
        conn,
        select(c)
        .where(
            c.c.shop_id == shop_id,
            c.c.state.in_(("bot", "assigned")),
            c.c.last_activity_at <= last_active_before,
            c.c.conversation_id != exclude,
        )
        .order_by(c.c.last_activity_at, c.c.conversation_id)
        .with_for_update(skip_locked=True),
    )


async def load_conversations(
    conn: AsyncConnection, conversation_ids: Collection[str]
) -> dict[str, Conversation]:
    """The conversations that exist among these ids, locked, in id order (no deadlocks
    between replicas locking overlapping sets)."""
    if not conversation_ids:
        return {}
    found = await _all(
        conn,
        select(conversations)
        .where(among(conversations.c.conversation_id, conversation_ids))
        .order_by(conversations.c.conversation_id)
        .with_for_update(),
    )
    return {c.conversation_id: c for c in found}


_SAVE_CONVERSATIONS = BulkInsert(
    conversations, _FIELDS,
    on_conflict="(conversation_id) DO UPDATE SET "
    + ", ".join(f"{n} = EXCLUDED.{n}" for n in _FIELDS if n != "conversation_id")
    + ", updated_at = now()",
)  # fmt: skip
"""One fixed statement over column arrays (shared/bulk.py), whatever the batch size."""


async def save_conversations(conn: AsyncConnection, changed: Sequence[Conversation]) -> None:
    """Insert or overwrite the conversations, in one statement."""
    if not changed:
        return
    rows = []
    for c in changed:
        row = [getattr(c, name) for name in _FIELDS]
        row[_RECENT_TEXTS] = list(c.recent_texts)
        row[_MEMORY] = dict(c.memory)
        rows.append(row)
    await _SAVE_CONVERSATIONS.execute(conn, rows)


async def save_conversation(conn: AsyncConnection, conv: Conversation) -> None:
    """Overwrite one conversation (read locked in this transaction) with its new version."""
    await save_conversations(conn, [conv])
