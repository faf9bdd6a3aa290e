"""What every presale route depends on: a connection in a transaction, the caller
(authenticated by `shared.http_auth` only), the `If-Match` header."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.http_auth import ShopCaller


async def connection(request: Request) -> AsyncIterator[AsyncConnection]:
    async with request.app.state.runtime.engine.begin() as conn:
        yield conn


Conn = Annotated[AsyncConnection, Depends(connection)]
Who = ShopCaller
IfMatch = Annotated[int | None, Header(alias="If-Match", description="expected current version")]
