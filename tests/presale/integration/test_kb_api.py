"""The KB REST API on the real database: auth, CRUD, bulk import, versions, clear errors."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from services.presale.app import build_runtime
from tests.presale.integration.conftest import OPERATOR_TOKEN, SHOP_TOKEN, settings_for
from tests.support.cli import run_main
from tools.presale.kb.__main__ import main as kb_cli

DEMO_YAML = (Path(__file__).parents[3] / "services/presale/kb/shop-demo.yaml").read_text()


def demo_yaml_for(shop_id: str) -> str:
    return DEMO_YAML.replace("shop_id: shop-demo", f"shop_id: {shop_id}", 1)


@pytest.fixture
async def api(infra: Any, shop_id: str) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP app on the real database; the consumer is not needed for the API."""
    runtime = build_runtime(settings_for(infra, shop_id))
    transport = httpx.ASGITransport(app=runtime.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://presale") as client:
        yield client
    await runtime.engine.dispose()


def auth(token: str = SHOP_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_tokens(api: httpx.AsyncClient, shop_id: str) -> None:
    assert (await api.get(f"/api/v1/shops/{shop_id}/kb")).status_code == 401
    assert (await api.get(f"/api/v1/shops/{shop_id}/kb", headers=auth("nope"))).status_code == 401
    other = await api.get("/api/v1/shops/someone-else/kb", headers=auth())
    assert other.status_code == 403
    assert "cannot access shop someone-else" in other.text
    assert (await api.get(f"/api/v1/shops/{shop_id}/kb", headers=auth())).status_code == 404
    assert (
        await api.get("/api/v1/shops/anyone/kb", headers=auth(OPERATOR_TOKEN))
    ).status_code == 404


async def test_import_crud_and_versions(api: httpx.AsyncClient, shop_id: str) -> None:
    base = f"/api/v1/shops/{shop_id}/kb"
    yaml_headers = {**auth(), "Content-Type": "application/yaml"}
    r = await api.post(f"{base}/import", content=demo_yaml_for(shop_id), headers=yaml_headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"shop_id": shop_id, "version": 1}

    kb = (await api.get(base, headers=auth())).json()
    assert kb["version"] == 1
    assert len(kb["kb"]["products"]) == 8

    product = kb["kb"]["products"][0]
    product["skus"][0]["stock"] = 0
    r = await api.put(f"{base}/products/{product['item_id']}", json=product, headers=auth())
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    got = await api.get(f"{base}/products/{product['item_id']}", headers=auth())
    assert got.json()["skus"][0]["stock"] == 0

    faq = {"faq_id": "wash", "intent": "usage_help", "keywords": ["洗衣机"], "answer": "可以机洗"}
    assert (await api.put(f"{base}/faqs/wash", json=faq, headers=auth())).json()["version"] == 3
    assert (await api.delete(f"{base}/faqs/wash", headers=auth())).json()["version"] == 4
    assert (await api.delete(f"{base}/faqs/wash", headers=auth())).status_code == 404

    r = await api.patch(f"{base}/settings", json={"auto_reply_threshold": 0.7}, headers=auth())
    assert r.json()["version"] == 5
    stale = await api.patch(
        f"{base}/settings", json={"shop_name": "x"}, headers={**auth(), "If-Match": "4"}
    )
    assert stale.status_code == 412

    versions = (await api.get(f"{base}/versions", headers=auth())).json()
    assert [v["version"] for v in versions] == [5, 4, 3, 2, 1]
    assert versions[-1]["author"] == "shop:" + shop_id
    old = (await api.get(f"{base}/versions/1", headers=auth(OPERATOR_TOKEN))).json()
    assert old["kb"]["products"][0]["skus"][0]["stock"] != 0
    assert (await api.get(f"{base}/versions/99", headers=auth())).status_code == 404


async def test_invalid_writes_are_422_with_every_problem(
    api: httpx.AsyncClient, shop_id: str
) -> None:
    base = f"/api/v1/shops/{shop_id}/kb"
    doc = yaml.safe_load(demo_yaml_for(shop_id))
    doc["products"][0]["skus"][0]["size"] = "XXXL"
    doc["shipping"]["ship_within_hours"] = -1
    r = await api.post(f"{base}/import", json=doc, headers=auth())
    assert r.status_code == 422
    errors = r.json()["detail"]["errors"]
    assert any(e.startswith("products[0]") and "XXXL" in e for e in errors)
    assert any(e.startswith("shipping.ship_within_hours") for e in errors)
    bad_yaml = await api.post(
        f"{base}/import",
        content="products: [",
        headers={**auth(), "Content-Type": "application/yaml"},
    )
    assert bad_yaml.status_code == 422
    assert "not valid YAML" in bad_yaml.text
    mismatch = await api.put(
        f"{base}/promotions/A", headers=auth(),
        json={"code": "B", "title": "t", "rule": "r", "starts_at": "2026-01-01T00:00:00+08:00",
              "ends_at": "2027-01-01T00:00:00+08:00"},
    )  # fmt: skip
    assert mismatch.status_code == 422
    assert "the path says 'A'" in mismatch.text
    assert (await api.get(base, headers=auth())).status_code == 404  # nothing was stored


async def test_openapi_documents_the_kb_api(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    paths = spec["paths"]
    assert {"get", "put"} <= set(paths["/api/v1/shops/{shop_id}/kb"])
    assert "post" in paths["/api/v1/shops/{shop_id}/kb/import"]
    assert {"get", "put", "delete"} <= set(paths["/api/v1/shops/{shop_id}/kb/products/{key}"])
    assert "KnowledgeBase" in spec["components"]["schemas"]


async def test_cli_loads_validates_and_lists(infra: Any, shop_id: str, tmp_path: Path) -> None:
    root = Path(__file__).parents[3]
    env = {**os.environ, "DATABASE_URL": infra.database_url, "PYTHONPATH": str(root)}

    def process(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tools.presale.kb", *args],
            cwd=root, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    async def cli(*args: str) -> subprocess.CompletedProcess[str]:
        """The same `main`, in process (a subprocess costs seconds of imports)."""
        return await run_main(kb_cli, list(args), {"DATABASE_URL": infra.database_url})

    kb_file = tmp_path / "kb.yaml"
    kb_file.write_text(DEMO_YAML.replace("shop_id: shop-demo\n", "", 1))
    loaded = await asyncio.to_thread(process, "load", str(kb_file), "--shop", shop_id)
    assert loaded.returncode == 0, loaded.stderr
    assert f"{shop_id} KB version 1" in loaded.stdout
    again = await cli("load", str(kb_file), "--shop", shop_id, "--if-absent")
    assert "nothing loaded" in again.stdout
    listed = await cli("versions", "--shop", shop_id)
    assert listed.stdout.startswith("1\t")

    bad = tmp_path / "bad.yaml"
    bad.write_text("shop_id: x\nauto_reply_threshold: 2\nproducts: [{item_id: a}]\n")
    invalid = await cli("validate", str(bad))
    assert invalid.returncode == 1
    assert "auto_reply_threshold:" in invalid.stderr
    assert "products[0].title: Field required" in invalid.stderr


async def test_an_import_over_the_body_limit_is_refused(
    api: httpx.AsyncClient, shop_id: str
) -> None:
    big = demo_yaml_for(shop_id) + "#" * (1024 * 1024)
    r = await api.post(
        f"/api/v1/shops/{shop_id}/kb/import",
        content=big.encode(),
        headers={**auth(), "Content-Type": "application/yaml"},
    )
    assert r.status_code == 413
    assert "limit of 1048576 bytes" in r.json()["detail"]
    assert (await api.get(f"/api/v1/shops/{shop_id}/kb", headers=auth())).status_code == 404


async def test_an_import_with_yaml_aliases_is_refused(api: httpx.AsyncClient, shop_id: str) -> None:
    doc = f"shop_id: {shop_id}\nx: &x [1, 2]\ny: *x\n"
    r = await api.post(
        f"/api/v1/shops/{shop_id}/kb/import",
        content=doc.encode(),
        headers={**auth(), "Content-Type": "application/yaml"},
    )
    assert r.status_code == 422
    assert "aliases" in r.text
