"""Every API endpoint of every service, called with another shop's token, answers 403/404 and
changes nothing; ids of another shop named under the caller's own shop reveal nothing.

Routes are enumerated from the FastAPI apps, so a new endpoint is covered without editing
this test. Writes are sent with a body; they must be refused before it is read.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from shared.runtime import ServiceRuntime

SERVICES = {
    "presale": "PresaleSettings",
    "insale": "InsaleSettings",
    "aftersale": "AftersaleSettings",
    "metrics": "MetricsSettings",
}
VICTIM, ATTACKER = f"shop-v-{uuid.uuid4().hex[:8]}", f"shop-a-{uuid.uuid4().hex[:8]}"
VICTIM_TOKEN, ATTACKER_TOKEN = "victim-token-" + uuid.uuid4().hex, "attacker-" + uuid.uuid4().hex
SECRET = "VICTIM-SECRET-" + uuid.uuid4().hex[:6]
# Routes under /api/ without a shop in the path: they may only ever describe the caller.
CALLER_ONLY = {"/api/v1/me"}
# The victim's ids, put into path parameters of the same name (answers may echo them; they
# must not carry the victim's data, marked SECRET).
IDS = {
    "case_id": f"case-{VICTIM}-1",
    "refund_id": f"refund-{VICTIM}-1",
    "buyer_id": "buyer-v-1",
    "agent_id": "agent-v",
    "key": "60181234001",  # a product of the demo KB
    "version": "1",
}
DEMO_KB = Path(__file__).parents[3] / "services/presale/kb/shop-demo.yaml"
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def _runtime(infra: Any, service: str) -> ServiceRuntime:
    settings_cls = getattr(
        importlib.import_module(f"services.{service}.settings"), SERVICES[service]
    )
    settings = settings_cls(
        kafka_bootstrap_servers=infra.bootstrap,
        database_url=infra.database_url,
        api_tokens=f"{VICTIM}:{VICTIM_TOKEN},{ATTACKER}:{ATTACKER_TOKEN}",
        operator_token="",
    )
    return importlib.import_module(f"services.{service}.app").build_runtime(settings)


@pytest.fixture(params=list(SERVICES))
async def service(infra: Any, request: pytest.FixtureRequest) -> AsyncIterator[ServiceRuntime]:
    runtime = _runtime(infra, request.param)
    yield runtime
    await runtime.engine.dispose()


async def _seed(rt: ServiceRuntime, client: httpx.AsyncClient) -> None:
    """Data of the victim shop that a leak or a write would show."""
    if rt.settings.db_schema == "presale":
        kb = DEMO_KB.read_text().replace("shop_id: shop-demo", f"shop_id: {VICTIM}", 1)
        kb = kb.replace("shop_name: 小园子原创女装", f"shop_name: {SECRET}", 1)
        r = await client.post(
            f"/api/v1/shops/{VICTIM}/kb/import",
            content=kb.encode(),
            headers={**_bearer(VICTIM_TOKEN), "Content-Type": "application/yaml"},
        )
        assert r.status_code == 200, r.text
    if rt.settings.db_schema == "aftersale":
        from services.aftersale import store

        async with rt.engine.begin() as conn:
            await store.insert_case(
                conn, case_id=IDS["case_id"], shop_id=VICTIM, kind="refund_only", state="open",
                order_id=f"order-{VICTIM}-1", buyer_id=IDS["buyer_id"], refund_id=IDS["refund_id"],
                reason=SECRET, opened_at=NOW, requested_at=NOW, cs_status=1,
                status_changed_at=NOW, deadline=NOW + timedelta(days=2),
            )  # fmt: skip
            await store.add_history(conn, IDS["case_id"], NOW, "opened", SECRET)


async def _fingerprint(rt: ServiceRuntime) -> dict[str, str]:
    """One digest per table of the service's schema."""
    out = {}
    async with rt.engine.connect() as conn:
        tables = await conn.execute(
            text(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        )
        for (name,) in tables.all():
            digest = f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{name}\" t"
            out[name] = (await conn.execute(text(digest))).scalar_one()
        assert out, "no tables found in the service's schema"
    return out


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _api_routes(rt: ServiceRuntime) -> list[tuple[str, str]]:
    """(method, path) of every API operation, from the app's OpenAPI document (FastAPI keeps
    included routers as nested objects, the document lists their routes with full paths)."""
    paths = rt.app().openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/")
        for method in operations
    )


def _fill(path: str, shop_id: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return shop_id if name == "shop_id" else IDS.get(name, f"{name}-1")

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


async def test_no_endpoint_reaches_another_shop(service: ServiceRuntime) -> None:
    rt = service
    transport = httpx.ASGITransport(app=rt.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        await _seed(rt, client)
        before = await _fingerprint(rt)
        routes = _api_routes(rt)
        for method, path in routes:
            if "{shop_id}" not in path:
                assert path in CALLER_ONLY, f"{path}: an API route without a shop in its path"
                r = await client.request(method, path, headers=_bearer(ATTACKER_TOKEN))
                assert VICTIM not in r.text, (method, path, r.text)
                continue
            # The victim's shop with the attacker's token: refused, body unread.
            r = await client.request(
                method, _fill(path, VICTIM), headers=_bearer(ATTACKER_TOKEN), json={"x": SECRET}
            )
            assert r.status_code in (403, 404), (method, path, r.status_code, r.text)
            assert SECRET not in r.text
            # The attacker's own shop, naming the victim's ids: nothing of the victim comes back.
            if method == "GET":
                r = await client.get(_fill(path, ATTACKER), headers=_bearer(ATTACKER_TOKEN))
                assert r.status_code < 500, (path, r.text)
                echoed = r.text.replace(_fill(path, ATTACKER), "")  # ids the path names
                for value in IDS.values():
                    echoed = echoed.replace(value, "")
                assert SECRET not in echoed, (path, r.text)
                assert VICTIM not in echoed, (path, r.text)
        assert await _fingerprint(rt) == before
    if rt.settings.db_schema != "insale":  # insale has no API
        assert sum("{shop_id}" in p for _, p in routes) >= 5  # the walk walked
