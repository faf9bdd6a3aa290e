"""REST API for shop knowledge bases: read, CRUD of parts, bulk import, versions.

Every write stores a new version of the whole KB. Bearer tokens (`shared.http_auth`): a shop
token (API_TOKENS) reaches its own shop only; the operator token (OPERATOR_TOKEN) every shop.
`If-Match: <version>` on a write makes it fail with 412 when someone changed the KB meanwhile.
"""

# No `from __future__ import annotations`: FastAPI must see the per-section body models.

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Request, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from services.presale.api.deps import Conn, IfMatch, Who
from services.presale.api.schemas import KbDocument, Saved, Settings, VersionOut
from services.presale.domain.kb import (
    Faq,
    InvoicePolicy,
    KnowledgeBase,
    Product,
    Promotion,
    ShippingPolicy,
)
from services.presale.kb.loading import Format, KbInvalid, build, parse
from services.presale.store import kb as kb_store
from shared.http_auth import Caller

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or unknown bearer token"},
    403: {"description": "the token belongs to another shop"},
    404: {"description": "no such KB, version or entry"},
    412: {"description": "If-Match does not name the current version"},
    422: {"description": "the KB would be invalid; `detail.errors` lists every problem"},
}


async def _current(conn: AsyncConnection, shop_id: str) -> kb_store.KbVersion:
    found = await kb_store.get(conn, shop_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"shop {shop_id} has no knowledge base")
    return found


async def _write(
    conn: AsyncConnection,
    shop_id: str,
    who: Caller,
    change: str,
    if_match: int | None,
    edit: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    create: bool = True,
) -> Saved:
    """Apply `edit` to the current document (an empty KB when the shop has none), validate the
    whole result, store it as the next version."""
    await kb_store.lock_shop(conn, shop_id)
    current = await kb_store.get(conn, shop_id)
    if current is None and not create:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"shop {shop_id} has no knowledge base")
    if if_match is not None and if_match != (current.version if current else 0):
        raise HTTPException(
            status.HTTP_412_PRECONDITION_FAILED,
            f"the current version is {current.version if current else 0}, not {if_match}",
        )
    base = current.kb.model_dump(mode="json") if current else {"shop_id": shop_id}
    try:
        kb = build(edit(base), shop_id)
    except KbInvalid as exc:
        raise HTTPException(422, {"errors": exc.errors}) from None
    version = await kb_store.save(conn, kb, change=change, author=who.name)
    assert version is not None
    return Saved(shop_id=shop_id, version=version)


def _upsert(key: str, section: str, entry: BaseModel) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        new = entry.model_dump(mode="json")
        items = [e for e in doc.get(section, []) if e[key] != new[key]]
        return {**doc, section: [*items, new]}

    return edit


def _delete(key: str, section: str, value: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        items = doc.get(section, [])
        kept = [e for e in items if e[key] != value]
        if len(kept) == len(items):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {section} entry {value!r}")
        return {**doc, section: kept}

    return edit


def _check_path(path_value: str, body_value: str, what: str) -> None:
    if path_value != body_value:
        raise HTTPException(422, {"errors": [f"{what}: the path says {path_value!r}, the body "
                                             f"{body_value!r}"]})  # fmt: skip


def kb_router() -> APIRouter:
    r = APIRouter(prefix="/api/v1/shops/{shop_id}/kb", tags=["knowledge base"], responses=ERRORS)

    @r.get("", response_model=KbDocument, summary="The current KB")
    async def get_kb(shop_id: str, who: Who, conn: Conn) -> KbDocument:
        cur = await _current(conn, shop_id)
        return KbDocument(shop_id=shop_id, version=cur.version, change=cur.change,
                          author=cur.author, created_at=cur.created_at, kb=cur.kb)  # fmt: skip

    @r.put("", response_model=Saved, summary="Replace the whole KB (bulk import, JSON)")
    async def put_kb(
        shop_id: str, kb: KnowledgeBase, who: Who, conn: Conn, if_match: IfMatch = None
    ) -> Saved:
        return await _write(conn, shop_id, who, "replace", if_match,
                            lambda _: kb.model_dump(mode="json"))  # fmt: skip

    @r.post(
        "/import",
        response_model=Saved,
        summary="Bulk import a YAML or JSON document (Content-Type application/yaml or json)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/yaml": {"schema": {"type": "string"}},
                    "application/json": {"schema": KnowledgeBase.model_json_schema()},
                },
            }
        },
    )
    async def import_kb(
        shop_id: str, request: Request, who: Who, conn: Conn, if_match: IfMatch = None
    ) -> Saved:
        raw = await request.body()
        fmt: Format = "json" if "json" in request.headers.get("content-type", "") else "yaml"
        try:
            doc = parse(raw, fmt)
        except KbInvalid as exc:
            raise HTTPException(422, {"errors": exc.errors}) from None
        return await _write(conn, shop_id, who, "import", if_match, lambda _: doc)

    @r.get("/versions", response_model=list[VersionOut], summary="Every version, newest first")
    async def versions(shop_id: str, who: Who, conn: Conn) -> list[VersionOut]:
        return [VersionOut(**v.__dict__) for v in await kb_store.history(conn, shop_id)]

    @r.get("/versions/{version}", response_model=KbDocument, summary="One past version")
    async def one_version(shop_id: str, version: int, who: Who, conn: Conn) -> KbDocument:
        found = await kb_store.get(conn, shop_id, version)
        if found is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"shop {shop_id} has no version {version}"
            )
        return KbDocument(shop_id=shop_id, version=found.version, change=found.change,
                          author=found.author, created_at=found.created_at, kb=found.kb)  # fmt: skip

    _section(r, "products", "item_id", Product)
    _section(r, "faqs", "faq_id", Faq)
    _section(r, "promotions", "code", Promotion)

    @r.put("/shipping", response_model=Saved, summary="Set the shipping policy")
    async def put_shipping(
        shop_id: str, body: ShippingPolicy, who: Who, conn: Conn, if_match: IfMatch = None
    ) -> Saved:
        return await _write(conn, shop_id, who, "shipping", if_match,
                            lambda d: {**d, "shipping": body.model_dump(mode="json")})  # fmt: skip

    @r.put("/invoice", response_model=Saved, summary="Set the invoice policy")
    async def put_invoice(
        shop_id: str, body: InvoicePolicy, who: Who, conn: Conn, if_match: IfMatch = None
    ) -> Saved:
        return await _write(conn, shop_id, who, "invoice", if_match,
                            lambda d: {**d, "invoice": body.model_dump(mode="json")})  # fmt: skip

    @r.patch("/settings", response_model=Saved, summary="Shop name, reply tone, threshold")
    async def patch_settings(
        shop_id: str, body: Settings, who: Who, conn: Conn, if_match: IfMatch = None
    ) -> Saved:
        changes = body.model_dump(mode="json", exclude_none=True)
        return await _write(conn, shop_id, who, "settings", if_match, lambda d: {**d, **changes})

    return r


def _section(r: APIRouter, section: str, key: str, model: type[BaseModel]) -> None:
    """GET list, GET one, PUT (create or replace) and DELETE for one list of the KB."""
    name = section.rstrip("s")
    key_field = key

    @r.get(f"/{section}", response_model=list[model], summary=f"List {section}")  # type: ignore[valid-type]
    async def list_all(shop_id: str, who: Who, conn: Conn) -> list[Any]:
        return list(getattr((await _current(conn, shop_id)).kb, section))

    @r.get(f"/{section}/{{key}}", response_model=model, summary=f"One {name}")
    async def get_one(shop_id: str, key: str, who: Who, conn: Conn) -> Any:
        for entry in getattr((await _current(conn, shop_id)).kb, section):
            if getattr(entry, key_field) == key:
                return entry
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {name} {key!r}")

    @r.put(f"/{section}/{{key}}", response_model=Saved, summary=f"Create or replace a {name}")
    async def put_one(
        shop_id: str,
        key: str,
        who: Who,
        conn: Conn,
        body: Annotated[model, Body()],  # type: ignore[valid-type]
        if_match: IfMatch = None,
    ) -> Saved:
        _check_path(key, getattr(body, key_field), key_field)
        return await _write(conn, shop_id, who, f"put {name} {key}", if_match,
                            _upsert(key_field, section, body))  # fmt: skip

    @r.delete(f"/{section}/{{key}}", response_model=Saved, summary=f"Delete a {name}")
    async def delete_one(
        shop_id: str, key: str, who: Who, conn: Conn, if_match: IfMatch = None
    ) -> Saved:
        return await _write(conn, shop_id, who, f"delete {name} {key}", if_match,
                            _delete(key_field, section, key), create=False)  # fmt: skip
