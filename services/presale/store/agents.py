"""Agents of each shop (the roster from `cs.agent.status.v1`) and their loads: loaded as
`domain.routing.AgentLoad`, locked so that assignments serialise per shop."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain.routing import AgentLoad
from services.presale.store.tables import agents, conversations
from shared.sql_arrays import among

_UPDATED = ("shop_id", "status", "skills", "max_concurrent", "changed_at")


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
    stmt = insert(agents).values(
        agent_id=agent_id,
        shop_id=shop_id,
        status=status,
        skills=skills,
        max_concurrent=max_concurrent,
        changed_at=changed_at,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["agent_id"],
        set_={k: stmt.excluded[k] for k in _UPDATED},
        where=agents.c.changed_at <= stmt.excluded.changed_at,
    )
    return (await conn.execute(stmt)).rowcount == 1


async def agent_loads(conn: AsyncConnection, shop_id: str) -> list[AgentLoad]:
    """Agents of the shop with their open conversations, locked so assignments serialize."""
    return (await lock_agent_loads(conn, [shop_id]))[shop_id]


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
        .where(among(agents.c.shop_id, shops))
        .order_by(agents.c.agent_id)
        .with_for_update()
    )
    active = (
        select(conversations.c.agent_id, func.count().label("n"))
        .where(conversations.c.state == "assigned", among(conversations.c.shop_id, shops))
        .group_by(conversations.c.agent_id)
        .subquery()
    )
    rows = (
        await conn.execute(
            select(agents, func.coalesce(active.c.n, 0).label("active"))
            .outerjoin(active, active.c.agent_id == agents.c.agent_id)
            .where(among(agents.c.shop_id, shops))
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


async def count_assignment(conn: AsyncConnection, agent_id: str) -> None:
    await count_assignments(conn, {agent_id: 1})
