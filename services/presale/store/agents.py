"""Agents of each shop (the roster from `cs.agent.status.v1`) and their loads: loaded as
`domain.routing.AgentLoad`, with the shop locked (`lock_shops`) so that assignments serialise
per shop."""

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
    """Agents of the shop with their open conversations, the shop locked so assignments
    serialize."""
    return (await lock_agent_loads(conn, [shop_id]))[shop_id]


_LOCK_SHOPS = text(
    "SELECT count(pg_advisory_xact_lock(hashtext('presale.agents'), k))"
    " FROM (SELECT DISTINCT hashtext(s) AS k FROM unnest(CAST(:shops AS text[])) AS s"
    "       ORDER BY k) AS keys"
)


async def lock_shops(conn: AsyncConnection, shop_ids: Collection[str]) -> None:
    """Serialize the routing of these shops across replicas until the transaction ends: one
    advisory lock per shop, taken in one fixed order (two batches cannot deadlock on them).
    Locking every agent row instead wrote a row lock per agent for every hand-off: a shop
    with 300 agents made each one cost hundreds of tuple writes."""
    if shop_ids:
        await conn.execute(_LOCK_SHOPS, {"shops": sorted(shop_ids)})


async def lock_agent_loads(
    conn: AsyncConnection, shop_ids: Collection[str]
) -> dict[str, list[AgentLoad]]:
    """The agents of these shops with their open conversations; the shops are locked first
    (`lock_shops`), so assignments across replicas serialize per shop: once per batch."""
    shops = sorted(shop_ids)
    if not shops:
        return {}
    await lock_shops(conn, shops)
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
            .order_by(agents.c.agent_id)
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
