"""Housekeeping (`ServiceRuntime.prune`): old timers, case history and KB versions go; what is
still needed stays. Services add their own pruning through `prune_hooks`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from services.aftersale import store as aftersale_store
from services.aftersale.app import build_runtime as aftersale_runtime
from services.aftersale.settings import AftersaleSettings
from services.presale.app import build_runtime as presale_runtime
from services.presale.kb.loading import read_file
from services.presale.settings import PresaleSettings
from services.presale.store import kb as repository
from shared.clock import FakeClock

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def _uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _common(infra: Any) -> dict[str, Any]:
    return {"kafka_bootstrap_servers": infra.bootstrap, "database_url": infra.database_url}


async def test_old_fired_and_cancelled_timers_go_pending_and_recent_ones_stay(infra: Any) -> None:
    rt = aftersale_runtime(
        AftersaleSettings(**_common(infra), timer_retention_days=30), clock=FakeClock(NOW)
    )
    timers = rt.plumbing.timers
    kind = _uid("housekeeping")
    old, recent = NOW - timedelta(days=31), NOW - timedelta(days=29)
    rows = {
        "old-fired": {"fired_at": old},
        "old-cancelled": {"cancelled_at": old},
        "recent-fired": {"fired_at": recent},
        "pending-long-due": {},  # never fired: a timer that still has to run
    }
    try:
        async with rt.engine.begin() as conn:
            for key, done in rows.items():
                await conn.execute(insert(timers).values(kind=kind, key=key, due_at=old, **done))
        await rt.prune()
        async with rt.engine.connect() as conn:
            left = (await conn.execute(select(timers.c.key).where(timers.c.kind == kind))).scalars()
            assert sorted(left) == ["pending-long-due", "recent-fired"]
    finally:
        await rt.engine.dispose()


async def test_history_of_long_resolved_cases_is_deleted(infra: Any) -> None:
    rt = aftersale_runtime(
        AftersaleSettings(**_common(infra), case_history_retention_days=365), clock=FakeClock(NOW)
    )
    shop = _uid("shop")
    cases = {
        "long-resolved": NOW - timedelta(days=400),
        "recently-resolved": NOW - timedelta(days=10),
        "open": None,
    }
    ids = {name: _uid(name) for name in cases}
    try:
        async with rt.engine.begin() as conn:
            for name, resolved_at in cases.items():
                await aftersale_store.insert_case(
                    conn, case_id=ids[name], shop_id=shop, kind="refund_only",
                    state="open" if resolved_at is None else "resolved", order_id=_uid("o"),
                    buyer_id="b", opened_at=NOW - timedelta(days=500), cs_status=1,
                    resolved_at=resolved_at,
                )  # fmt: skip
                await aftersale_store.add_history(
                    conn, ids[name], NOW - timedelta(days=500), "opened", "x"
                )
        await rt.prune()
        async with rt.engine.connect() as conn:
            kept = {
                name: len(await aftersale_store.history(conn, case_id))
                for name, case_id in ids.items()
            }
            assert await aftersale_store.get_case(conn, ids["long-resolved"]) is not None
        assert kept == {"long-resolved": 0, "recently-resolved": 1, "open": 1}
    finally:
        await rt.engine.dispose()


async def test_only_the_newest_kb_versions_are_kept(infra: Any) -> None:
    rt = presale_runtime(PresaleSettings(**_common(infra), presale_kb_versions_kept=3))
    shop = _uid("shop")
    demo = read_file(Path(__file__).parents[3] / "services/presale/kb/shop-demo.yaml")
    try:
        async with rt.engine.begin() as conn:
            for n in range(5):
                doc = demo.model_copy(update={"shop_id": shop, "shop_name": f"v{n}"})
                await repository.save(conn, doc, change=f"v{n}", author="test")
        await rt.prune()
        async with rt.engine.connect() as conn:
            versions = [v.version for v in await repository.history(conn, shop)]
            assert sorted(versions) == [3, 4, 5]
            current = await repository.get(conn, shop)
            assert current is not None
            assert current.kb.shop_name == "v4"
    finally:
        await rt.engine.dispose()
