"""Bearer-token authentication for every service's API, before any request body is read.

A shop's token (API_TOKENS, `shop_id:token,...`) reaches only that shop's paths; the operator
token (OPERATOR_TOKEN) reaches every shop. `AuthMiddleware` checks both on every `/api/` request
at the ASGI level — the token, and the `{shop_id}` of `/api/v<n>/shops/{shop_id}/...` — so a
stranger's or another shop's request is answered 401/403 before FastAPI reads (or parses, or
size-checks) its body. Routes get the caller through the `current_caller`/`shop_caller`
dependencies. Tokens are compared in constant time (hmac.compare_digest).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, status
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.settings import CommonSettings

API_PREFIX = "/api/"
_SHOP_PATH = re.compile(r"^/api/v\d+/shops/([^/]+)")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Caller:
    shop_id: str | None
    """None for the operator."""

    @property
    def operator(self) -> bool:
        return self.shop_id is None

    @property
    def name(self) -> str:
        return "operator" if self.shop_id is None else f"shop:{self.shop_id}"

    def may_access(self, shop_id: str) -> bool:
        return self.shop_id is None or self.shop_id == shop_id


class AuthError(Exception):
    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code, self.detail = status_code, detail

    @property
    def headers(self) -> dict[str, str] | None:
        return _CHALLENGE if self.status_code == status.HTTP_401_UNAUTHORIZED else None


class TokenAuth:
    def __init__(self, settings: CommonSettings) -> None:
        self._shops = [(t.encode(), shop) for t, shop in settings.shop_tokens().items() if t]
        self._operator = settings.operator_token.get_secret_value().encode()

    def identify(self, authorization: str | None) -> Caller:
        """The caller an `Authorization` header names; AuthError 401 when it names none."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError(401, "missing bearer token: send 'Authorization: Bearer <token>'")
        given = token.encode()
        if self._operator and hmac.compare_digest(given, self._operator):
            return Caller(None)
        found = None
        for known, shop in self._shops:  # every token is compared: no early exit
            if hmac.compare_digest(given, known):
                found = shop
        if found is None:
            raise AuthError(401, "unknown bearer token")
        return Caller(found)

    @staticmethod
    def authorise(caller: Caller, shop_id: str) -> None:
        if not caller.may_access(shop_id):
            raise AuthError(403, f"this token cannot access shop {shop_id}")


class AuthMiddleware:
    """Authenticates and authorises every `/api/` request before the app sees it."""

    def __init__(self, app: ASGIApp, auth: TokenAuth) -> None:
        self.app, self.auth = app, auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        try:
            caller = self.auth.identify(Headers(scope=scope).get("authorization"))
            shop = _SHOP_PATH.match(path)
            if shop:
                self.auth.authorise(caller, shop.group(1))
        except AuthError as exc:
            response = JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


async def current_caller(request: Request) -> Caller:
    """FastAPI dependency: who is calling (set by AuthMiddleware). Both dependencies are
    `async` although they do no I/O: FastAPI runs a plain `def` dependency in a worker thread,
    two thread hops per request (most of the pre-send quality check's server time)."""
    caller = request.scope.get("state", {}).get("caller")
    if not isinstance(caller, Caller):  # the route is outside /api/ or the middleware is off
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated", headers=_CHALLENGE)
    return caller


async def shop_caller(
    shop_id: Annotated[str, Path()], caller: Annotated[Caller, Depends(current_caller)]
) -> Caller:
    """FastAPI dependency for `/shops/{shop_id}/...` routes: the caller may reach that shop."""
    if not caller.may_access(shop_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this token cannot access shop {shop_id}")
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]
ShopCaller = Annotated[Caller, Depends(shop_caller)]


API_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "inconsistent parameters"},
    401: {"description": "missing or unknown token"},
    403: {"description": "the token may not read this shop"},
    422: {"description": "malformed parameters"},
}
"""The error statuses of a shop-scoped route, for OpenAPI (`responses=API_PROBLEMS`)."""
