"""Bearer tokens: a shop's token reads that shop only; the operator token reads every shop."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from shared.settings import CommonSettings


@dataclass(frozen=True)
class Caller:
    shop_id: str | None  # None: the operator

    def may_read(self, shop_id: str) -> bool:
        return self.shop_id is None or self.shop_id == shop_id


class TokenAuth:
    def __init__(self, settings: CommonSettings) -> None:
        self._shops = settings.shop_tokens()
        self._operator = settings.operator_token.get_secret_value()

    def caller(self, request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing bearer token: send 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        token = token.strip()
        if self._operator and hmac.compare_digest(token, self._operator):
            return Caller(None)
        for known, shop in self._shops.items():
            if hmac.compare_digest(token, known):
                return Caller(shop)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "unknown token",
            headers={"WWW-Authenticate": "Bearer"},
        )

    def shop(self, request: Request, shop_id: str) -> Caller:
        caller = self.caller(request)
        if not caller.may_read(shop_id):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this token may not read that shop")
        return caller
