"""The presale API's request and response bodies."""

# No `from __future__ import annotations`: FastAPI must see the body models.

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.presale.domain.kb import KnowledgeBase, ReplyTone


class KbDocument(BaseModel):
    shop_id: str
    version: int
    change: str
    author: str
    created_at: datetime
    kb: KnowledgeBase


class VersionOut(BaseModel):
    version: int
    change: str
    author: str
    created_at: datetime


class Saved(BaseModel):
    shop_id: str
    version: int


class Settings(BaseModel):
    """The shop-wide knobs: name, reply tone, auto-reply threshold."""

    shop_name: str | None = None
    tone: ReplyTone | None = None
    auto_reply_threshold: float | None = None


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
