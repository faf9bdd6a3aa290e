"""Inbox: (consumer, source, event id) recorded in the handler's transaction makes redelivery a
no-op.

CloudEvents makes an event unique by `source` + `id`, so two producers that happen to use the
same id are two events. Records that have no usable event (bad input, a dead-lettered event)
are claimed by their Kafka position instead, with the empty source (`POSITION_SOURCE` in
`shared.consumer`; a CloudEvents source is never empty).
"""

from __future__ import annotations

from sqlalchemy import Table, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.bulk import BulkInsert

_KEY = ["consumer", "source", "event_id"]
_CLAIMS: dict[Table, BulkInsert] = {}


def _claims(inbox: Table) -> BulkInsert:
    bulk = _CLAIMS.get(inbox)
    if bulk is None:
        bulk = _CLAIMS[inbox] = BulkInsert(
            inbox, ["consumer", "source", "event_id", "topic"],
            on_conflict="(consumer, source, event_id) DO NOTHING", returning="source, event_id",
        )  # fmt: skip
    return bulk


async def claim(
    conn: AsyncConnection,
    inbox: Table,
    consumer: str,
    event_id: str,
    topic: str,
    *,
    source: str = "",
) -> bool:
    """True when this event is new for this consumer; False when it was handled already."""
    result = await conn.execute(
        insert(inbox)
        .values(consumer=consumer, source=source, event_id=event_id, topic=topic)
        .on_conflict_do_nothing(index_elements=_KEY)
    )
    return result.rowcount == 1


async def claim_events(
    conn: AsyncConnection, inbox: Table, consumer: str, claims: list[tuple[str, str, str]]
) -> set[tuple[str, str]]:
    """Claim (source, event_id, topic) triples in one statement; returns the (source, id)
    pairs that were new."""
    if not claims:
        return set()
    # One statement over column arrays (shared/bulk.py): fixed SQL whatever the batch size.
    result = await _claims(inbox).execute(conn, [(consumer, src, eid, t) for src, eid, t in claims])
    return {(row.source, row.event_id) for row in result}


async def claim_many(
    conn: AsyncConnection, inbox: Table, consumer: str, claims: list[tuple[str, str]]
) -> set[str]:
    """Claim (event_id, topic) pairs with the empty source (record positions) in one
    statement; returns the ids that were new."""
    fresh = await claim_events(conn, inbox, consumer, [("", eid, t) for eid, t in claims])
    return {eid for _, eid in fresh}


async def release(
    conn: AsyncConnection, inbox: Table, consumer: str, event_id: str, *, source: str = ""
) -> None:
    """Forget a claim (a dead-lettered event is claimed by its position instead)."""
    await conn.execute(
        delete(inbox).where(
            inbox.c.consumer == consumer, inbox.c.source == source, inbox.c.event_id == event_id
        )
    )
