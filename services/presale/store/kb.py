"""Shop knowledge bases: versions in the `kb_versions` table, loaded as `KbVersion` (a
validated `domain.kb.KnowledgeBase`); every change is a new row holding the whole document."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.domain.kb import KnowledgeBase
from services.presale.store.tables import kb_versions
from shared.sql_arrays import among


@dataclass(frozen=True)
class KbVersion:
    shop_id: str
    version: int
    kb: KnowledgeBase
    change: str
    author: str
    created_at: datetime


@dataclass(frozen=True)
class VersionInfo:
    version: int
    change: str
    author: str
    created_at: datetime


async def lock_shop(conn: AsyncConnection, shop_id: str) -> None:
    """Serialise writers of one shop's KB until the transaction ends."""
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('presale.kb'), hashtext(:shop))"),
        {"shop": shop_id},
    )


async def latest_version(conn: AsyncConnection, shop_id: str) -> int | None:
    version: int | None = (
        await conn.execute(
            select(func.max(kb_versions.c.version)).where(kb_versions.c.shop_id == shop_id)
        )
    ).scalar_one()
    return version


async def get(conn: AsyncConnection, shop_id: str, version: int | None = None) -> KbVersion | None:
    """The given version, or the current one."""
    if version is None:
        version = await latest_version(conn, shop_id)
        if version is None:
            return None
    row = (
        await conn.execute(
            select(kb_versions).where(
                kb_versions.c.shop_id == shop_id, kb_versions.c.version == version
            )
        )
    ).first()
    if row is None:
        return None
    kb = KnowledgeBase.model_validate(row.document)
    return KbVersion(shop_id, row.version, kb, row.change, row.author, row.created_at)


async def history(conn: AsyncConnection, shop_id: str) -> list[VersionInfo]:
    rows = await conn.execute(
        select(kb_versions.c.version, kb_versions.c.change, kb_versions.c.author,
               kb_versions.c.created_at)
        .where(kb_versions.c.shop_id == shop_id)
        .order_by(kb_versions.c.version.desc())
    )  # fmt: skip
    return [VersionInfo(r.version, r.change, r.author, r.created_at) for r in rows]


async def save(
    conn: AsyncConnection,
    kb: KnowledgeBase,
    *,
    change: str,
    author: str,
    only_if_absent: bool = False,
) -> int | None:
    """Store `kb` as the shop's next version; with `only_if_absent`, only when it has none."""
    await lock_shop(conn, kb.shop_id)
    current = await latest_version(conn, kb.shop_id)
    if only_if_absent and current is not None:
        return None
    version = (current or 0) + 1
    await conn.execute(
        kb_versions.insert().values(
            shop_id=kb.shop_id, version=version, document=kb.model_dump(mode="json"), change=change[:500],
            author=author[:100],
        )
    )  # fmt: skip
    return version


class KbCache:
    """Parsed KBs by (shop, version): a message costs one index lookup, not a JSON parse."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._cache: dict[tuple[str, int], KbVersion] = {}

    async def current(self, conn: AsyncConnection, shop_id: str) -> KbVersion | None:
        version = await latest_version(conn, shop_id)
        if version is None:
            return None
        hit = self._cache.get((shop_id, version))
        if hit is not None:
            return hit
        loaded = await get(conn, shop_id, version)
        if loaded is not None:
            if len(self._cache) >= self._size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[(shop_id, version)] = loaded
        return loaded

    async def current_many(
        self, conn: AsyncConnection, shop_ids: Collection[str]
    ) -> dict[str, KbVersion | None]:
        """The current KB of each shop: one query for the versions, parsed ones from the
        cache (a batch pays one round trip, not one per message)."""
        shops = sorted(shop_ids)
        if not shops:
            return {}
        rows = await conn.execute(
            select(kb_versions.c.shop_id, func.max(kb_versions.c.version))
            .where(among(kb_versions.c.shop_id, shops))
            .group_by(kb_versions.c.shop_id)
        )
        latest = {shop: version for shop, version in rows}
        out: dict[str, KbVersion | None] = {}
        for shop in shops:
            version = latest.get(shop)
            if version is None:
                out[shop] = None
                continue
            hit = self._cache.get((shop, version))
            if hit is None:
                hit = await get(conn, shop, version)
                if hit is not None:
                    if len(self._cache) >= self._size:
                        self._cache.pop(next(iter(self._cache)))
                    self._cache[(shop, version)] = hit
            out[shop] = hit
        return out


async def prune(conn: AsyncConnection, keep: int) -> int:
    """Delete every version but each shop's `keep` newest; the number deleted."""
    newest = (
        select(kb_versions.c.shop_id, func.max(kb_versions.c.version).label("top"))
        .group_by(kb_versions.c.shop_id)
        .subquery()
    )
    result = await conn.execute(
        delete(kb_versions).where(
            kb_versions.c.shop_id == newest.c.shop_id,
            kb_versions.c.version <= newest.c.top - keep,
        )
    )
    return result.rowcount
