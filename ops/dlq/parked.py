"""Outbox rows the relay parked: records the broker would never accept as they were.

A parked row stays in its service's `outbox` table with `parked_at` and `park_reason`
(`too_large: ...`, `unknown_topic: ...`, `not_authorized: ...`). Once the cause is fixed (a
larger `KAFKA_MAX_REQUEST_BYTES` and broker limit, the topic created, the ACL granted),
`unpark` clears both columns and the service's relay publishes the row in its shard's order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from ops.topology import SERVICES
from shared.db import create_engine


@dataclass(frozen=True)
class ParkedRow:
    service: str
    id: int
    topic: str
    key: str | None
    size: int
    created_at: datetime
    parked_at: datetime
    reason: str

    @property
    def position(self) -> str:
        return f"outbox:{self.service}:{self.id}"

    def summary(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "status": "parked",
            "failed_at": self.parked_at.isoformat(),
            "consumer": f"xiaoer-{self.service}",
            "original": f"{self.topic} ({self.size} bytes)",
            "ce_id": None,
            "reason": self.reason,
        }


def _schemas(services: Iterable[str]) -> list[str]:
    chosen = list(services) or list(SERVICES)
    for name in chosen:
        if not name.isidentifier():
            raise ValueError(f"unexpected service name {name!r}")
    return chosen


async def list_parked(
    database_url: str, services: Iterable[str] = (), reason_contains: str | None = None
) -> list[ParkedRow]:
    out: list[ParkedRow] = []
    for schema in _schemas(services):
        engine = create_engine(database_url, schema, pool_size=1)
        try:
            async with engine.connect() as conn:
                exists = await conn.scalar(text("SELECT to_regclass('outbox') IS NOT NULL"))
                if not exists:
                    continue
                rows = await conn.execute(
                    text(
                        "SELECT id, topic, key, length(value) AS size, created_at, parked_at,"
                        " park_reason FROM outbox"
                        " WHERE parked_at IS NOT NULL AND sent_at IS NULL ORDER BY id"
                    )
                )
                out += [
                    ParkedRow(
                        schema,
                        r.id,
                        r.topic,
                        r.key,
                        r.size,
                        r.created_at,
                        r.parked_at,
                        r.park_reason or "",
                    )
                    for r in rows
                ]
        finally:
            await engine.dispose()
    if reason_contains:
        out = [p for p in out if reason_contains in p.reason]
    return out


async def unpark(database_url: str, rows: Iterable[ParkedRow]) -> int:
    """Give the rows back to their relay; returns how many were still parked."""
    by_service: dict[str, list[int]] = {}
    for row in rows:
        by_service.setdefault(row.service, []).append(row.id)
    done = 0
    for schema, ids in by_service.items():
        engine = create_engine(database_url, _schemas([schema])[0], pool_size=1)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(
                    text(
                        "UPDATE outbox SET parked_at = NULL, park_reason = NULL"
                        " WHERE id = ANY(:ids) AND parked_at IS NOT NULL AND sent_at IS NULL"
                    ),
                    {"ids": ids},
                )
                done += result.rowcount
        finally:
            await engine.dispose()
    return done
