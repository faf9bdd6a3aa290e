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
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Query, Request, status

from services.presale import insight
from services.presale.api.deps import Conn, Who
from services.presale.api.schemas import (
    Acceptance,
    Accepted,
    Example,
    Refreshed,
    SuggestionList,
    SuggestionOut,
)
from services.presale.domain.suggestions import Suggestion
from services.presale.insight import SuggestConfig
from services.presale.store import suggestions as suggestion_store
from shared.clock import Clock


def out(s: Suggestion) -> SuggestionOut:
    d = s.draft
    return SuggestionOut(
        suggestion_id=s.suggestion_id, status=s.status, rank=s.rank, item_id=d.item_id,
        answer=d.answer, answer_share=d.answer_share, keywords=list(d.keywords),
        examples=[Example(text=t, count=n) for t, n in d.examples], asked=d.asked,
        buyers=d.buyers, handoffs=d.handoffs, created_at=s.created_at, updated_at=s.updated_at,
        decided_at=s.decided_at, decided_by=s.decided_by, kb_version=s.kb_version,
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
        found = await suggestion_store.suggestions(
            conn, shop_id, None if status_ == "all" else status_
        )
        return SuggestionList(shop_id=shop_id,
                              counts=await suggestion_store.counts(conn, shop_id),
                              suggestions=[out(x) for x in found])  # fmt: skip

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
            decided, version = await insight.accept(
                conn, shop_id, suggestion_id, who.name, clock().now(), body.answer, body.keywords
            )
        except insight.InvalidEntry as exc:
            raise HTTPException(422, {"errors": exc.errors}) from None
        except insight.NotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        except insight.AlreadyDecided as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        return Accepted(suggestion=out(decided), kb_version=version)

    @r.post("/{suggestion_id}/reject", response_model=SuggestionOut,
            summary="Never suggest this group again")  # fmt: skip
    async def reject(shop_id: str, suggestion_id: str, who: Who, conn: Conn) -> SuggestionOut:
        try:
            decided = await insight.reject(conn, shop_id, suggestion_id, who.name, clock().now())
        except insight.NotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        except insight.AlreadyDecided as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        return out(decided)

    return r
