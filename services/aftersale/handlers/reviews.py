"""`trade.review.posted.v1`: what a review needs loaded, and the flow deciding it."""

from __future__ import annotations

from services.aftersale.domain import reviews
from services.aftersale.domain.effects import Turn
from services.aftersale.domain.model import review_case_id
from services.aftersale.store.book import Wants
from shared.contracts import EventPayload, ReviewPosted

TOPICS = ("trade.review.posted.v1",)


def want(w: Wants, p: EventPayload) -> None:
    if isinstance(p, ReviewPosted):
        w.review_ids.add(p.review_id)
        w.case_ids.add(review_case_id(p.review_id))
        w.buyers.add((p.shop_id, p.buyer_id))  # signals, and the conversation a hand-off names


def decide(t: Turn, p: EventPayload, cause: str) -> None:
    if not isinstance(p, ReviewPosted):
        raise TypeError(f"not a review: {type(p).__name__}")
    reviews.review_posted(t, p, cause)
