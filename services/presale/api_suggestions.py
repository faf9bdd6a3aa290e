"""REST API of KB suggestions: what the bot could not answer, drafted as KB entries to review.

    GET  /api/v1/shops/{shop_id}/kb/suggestions[?status=pending|accepted|rejected|all]
    POST /api/v1/shops/{shop_id}/kb/suggestions/refresh          (recompute now)
    POST /api/v1/shops/{shop_id}/kb/suggestions/{id}/accept      ({"answer"?, "keywords"?})
    POST /api/v1/shops/{shop_id}/kb/suggestions/{id}/reject

Authenticated like the KB API (`shared.http_auth`: the shop's token, or the operator's).
Accepting writes a new KB version (the bot uses it from the next batch of messages).
"""

# No `from __future__ import annotations`: FastAPI must see the body models.

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Query, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import Row

from services.presale import gap_store, insight
from services.presale.api import Conn, Who
from services.presale.insight import SuggestConfig
from shared.clock import Clock


class Example(BaseModel):
    text: str = Field(description="the buyer's question as written, masked")
    count: int


class SuggestionOut(BaseModel):
    suggestion_id: str
    status: Literal["pending", "accepted", "rejected"]
    rank: int = Field(description="1 = asked by the most buyers, then caused the most hand-offs")
    item_id: str | None = Field(description="the item the questions are about, if one")
    answer: str = Field(description="the answer agents gave most often, masked, without 亲")
    answer_share: float = Field(description="share of the agents' replies that said it")
    keywords: list[str] = Field(description="what the bot will match once accepted")
    examples: list[Example]
    asked: int = Field(description="questions in the group")
    buyers: int = Field(description="distinct buyers who asked")
    handoffs: int = Field(description="of the questions, those that sent the chat to a human")
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    kb_version: int | None = Field(description="the KB version an acceptance created")


class SuggestionList(BaseModel):
    shop_id: str
    counts: dict[str, int] = Field(description="suggestions by status")
    suggestions: list[SuggestionOut]


class Refreshed(BaseModel):
    shop_id: str
    pending: int


class Acceptance(BaseModel):
    answer: str | None = Field(None, min_length=1, max_length=2000,
                               description="the answer as edited by the reviewer")  # fmt: skip
    keywords: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(
        None, min_length=1, max_length=20, description="replace the drafted keywords"
    )


class Accepted(BaseModel):
    suggestion: SuggestionOut
    kb_version: int


def out(row: Row[Any]) -> SuggestionOut:
    d = row.draft
    return SuggestionOut(
        suggestion_id=row.suggestion_id, status=row.status, rank=row.rank, item_id=d["item_id"],
        answer=d["answer"], answer_share=d["answer_share"], keywords=d["keywords"],
        examples=[Example(**e) for e in d["examples"]], asked=d["asked"], buyers=d["buyers"],
        handoffs=d["handoffs"], created_at=row.created_at, updated_at=row.updated_at,
        decided_at=row.decided_at, decided_by=row.decided_by, kb_version=row.kb_version,
    )  # fmt: skip


def suggestions_router(cfg: SuggestConfig, clock: Callable[[], Clock]) -> APIRouter:
    r = APIRouter(
        prefix="/api/v1/shops/{shop_id}/kb/suggestions",
        tags=["knowledge base suggestions"],
        responses={
            401: {"description": "missing or unknown bearer token"},
            403: {"description": "the token belongs to another shop"},
            404: {"description": "no such suggestion"},
            409: {"description": "the suggestion was already accepted or rejected"},
            422: {"description": "the edited entry would make the KB invalid"},
        },
    )

    @r.get("", response_model=SuggestionList, summary="Suggested KB entries, best first")
    async def list_suggestions(
        shop_id: str,
        who: Who,
        conn: Conn,
        status_: Annotated[
            Literal["pending", "accepted", "rejected", "all"], Query(alias="status")
        ] = "pending",
    ) -> SuggestionList:
        rows = await gap_store.suggestions(conn, shop_id, None if status_ == "all" else status_)
        return SuggestionList(shop_id=shop_id, counts=await gap_store.counts(conn, shop_id),
                              suggestions=[out(x) for x in rows])  # fmt: skip

    @r.post("/refresh", response_model=Refreshed, summary="Recompute the suggestions now")
    async def refresh(shop_id: str, who: Who, conn: Conn) -> Refreshed:
        n = await insight.refresh(conn, shop_id, clock().now(), cfg)
        return Refreshed(shop_id=shop_id, pending=n)

    @r.post("/{suggestion_id}/accept", response_model=Accepted,
            summary="Add it to the KB (optionally edited): a new KB version, used at once")  # fmt: skip
    async def accept(
        shop_id: str,
        suggestion_id: str,
        who: Who,
        conn: Conn,
        request: Request,
        body: Annotated[Acceptance | None, Body()] = None,
    ) -> Accepted:
        body = body or Acceptance()
        try:
            row, version = await insight.accept(
                conn, shop_id, suggestion_id, who.name, clock().now(), body.answer, body.keywords
            )
        except insight.InvalidEntry as exc:
            raise HTTPException(422, {"errors": exc.errors}) from None
        except insight.NotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        except insight.AlreadyDecided as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        return Accepted(suggestion=out(row), kb_version=version)

    @r.post("/{suggestion_id}/reject", response_model=SuggestionOut,
            summary="Never suggest this group again")  # fmt: skip
    async def reject(shop_id: str, suggestion_id: str, who: Who, conn: Conn) -> SuggestionOut:
        try:
            row = await insight.reject(conn, shop_id, suggestion_id, who.name, clock().now())
        except insight.NotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        except insight.AlreadyDecided as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        return out(row)

    return r
