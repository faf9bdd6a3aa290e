"""The HTTP guards every service's app gets: authentication and the shop check before any body
is read, a body limit enforced before parsing, YAML without aliases."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI, Request
from pydantic import SecretStr

from shared import safe_yaml
from shared.http_auth import AuthMiddleware, CurrentCaller, ShopCaller, TokenAuth
from shared.http_limits import BodyLimitMiddleware
from shared.settings import CommonSettings

LIMIT = 1024


class Spy:
    """Counts how many times the app asked for body bytes."""

    def __init__(self) -> None:
        self.reads = 0


def _app(spy: Spy) -> FastAPI:
    app = FastAPI()
    settings = CommonSettings(
        api_tokens=SecretStr("shop-a:token-a,shop-b:token-b"), operator_token=SecretStr("op")
    )
    # As ServiceRuntime.app() does it: auth outermost, then the body limit.
    app.add_middleware(BodyLimitMiddleware, max_bytes=LIMIT)
    app.add_middleware(AuthMiddleware, auth=TokenAuth(settings))

    @app.post("/api/v1/shops/{shop_id}/things")
    async def upload(shop_id: str, caller: ShopCaller, request: Request) -> dict[str, Any]:
        spy.reads += 1
        return {"shop_id": shop_id, "by": caller.name, "bytes": len(await request.body())}

    @app.get("/api/v1/me")
    async def me(caller: CurrentCaller) -> dict[str, Any]:
        return {"shop_id": caller.shop_id}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    return app


@pytest.fixture
def spy() -> Spy:
    return Spy()


@pytest.fixture
async def client(spy: Spy) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(spy))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


URL = "/api/v1/shops/shop-a/things"


async def test_the_right_shop_and_the_operator_get_through(client: httpx.AsyncClient) -> None:
    r = await client.post(URL, content=b"x" * 10, headers=bearer("token-a"))
    assert r.json() == {"shop_id": "shop-a", "by": "shop:shop-a", "bytes": 10}
    r = await client.post(URL, content=b"x", headers=bearer("op"))
    assert r.json()["by"] == "operator"
    assert (await client.get("/api/v1/me", headers=bearer("token-b"))).json() == {
        "shop_id": "shop-b"
    }
    assert (await client.get("/healthz")).status_code == 200  # outside /api/: no token


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), (bearer("nope"), 401), ({"Authorization": "Basic token-a"}, 401),
     (bearer("token-b"), 403), (bearer("token-a" + "x"), 401)],
)  # fmt: skip
async def test_strangers_and_other_shops_are_refused_before_the_body_is_read(
    client: httpx.AsyncClient, spy: Spy, headers: dict[str, str], status: int
) -> None:
    r = await client.post(URL, content=b"{" * 5000, headers=headers)  # too large, not JSON
    assert r.status_code == status
    assert spy.reads == 0
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"


async def test_a_declared_body_over_the_limit_is_refused_unread(
    client: httpx.AsyncClient, spy: Spy
) -> None:
    r = await client.post(URL, content=b"x" * (LIMIT + 1), headers=bearer("token-a"))
    assert r.status_code == 413
    assert f"limit of {LIMIT} bytes" in r.json()["detail"]
    assert spy.reads == 0


async def test_a_chunked_body_is_cut_at_the_limit(client: httpx.AsyncClient) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(100):
            sent += 512
            yield b"x" * 512

    r = await client.post(URL, content=chunks(), headers=bearer("token-a"))
    assert r.status_code == 413
    assert sent < 100 * 512  # reading stopped at the limit


async def test_a_body_at_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    r = await client.post(URL, content=b"x" * LIMIT, headers=bearer("token-a"))
    assert r.json()["bytes"] == LIMIT


def test_the_default_body_limit_is_one_mebibyte() -> None:
    assert CommonSettings().http_max_body_bytes == 1024 * 1024


# --- YAML ------------------------------------------------------------------------------------


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_yaml_aliases_are_refused_at_once() -> None:
    doc = billion_laughs()  # 9^9 ≈ 387 M strings once expanded
    started = time.perf_counter()
    with pytest.raises(safe_yaml.AliasRefused, match="aliases"):
        safe_yaml.load(doc)
    assert time.perf_counter() - started < 0.5  # generous: measured ≈ 0.1 ms
    assert issubclass(safe_yaml.AliasRefused, yaml.YAMLError)  # callers' error paths hold


def test_plain_yaml_loads_as_before() -> None:
    doc = "shop_id: s1\nproducts:\n  - {item_id: '1', price: 9900}\nflag: true\n"
    assert safe_yaml.load(doc) == yaml.safe_load(doc)
    with pytest.raises(yaml.YAMLError):
        safe_yaml.load("!!python/object:os.system {}")
