"""The insight loop's job: from a shop's gaps to ranked KB suggestions; accept and reject.

`refresh` drafts a shop's suggestions (the periodic job runs it for every shop with gaps,
every PRESALE_SUGGEST_INTERVAL_S; the API and the CLI run it on demand). The grouping and
drafting are pure (`domain.suggestions`) and run in a worker thread, so a big shop does not
stall the consumer on the event loop. `accept` adds the draft to the KB as a keyword FAQ in a
new KB version — the next batch of messages uses it (`KbCache` reads the current version per
batch); `reject` keeps the group from being suggested again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.presale.domain.coverage import (
    kb_answers,
    product_words,
    still_open,
)
from services.presale.domain.kb import KnowledgeBase
from services.presale.domain.suggestions import Draft, Gap, Suggestion, accepted_faq, suggest
from services.presale.kb.loading import KbInvalid, build
from services.presale.nlu_loader import buyer_language
from services.presale.settings import PresaleSettings
from services.presale.store import gaps as gap_store
from services.presale.store import kb as kb_store
from services.presale.store import suggestions as suggestion_store
from shared.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SuggestConfig:
    window: timedelta = timedelta(days=14)
    min_buyers: int = 3
    limit: int = 50

    @classmethod
    def of(cls, s: PresaleSettings) -> SuggestConfig:
        return cls(timedelta(days=s.presale_suggest_window_days), s.presale_suggest_min_buyers,
                   s.presale_suggest_limit)  # fmt: skip


class NotFound(LookupError):
    pass


class AlreadyDecided(RuntimeError):
    pass


class InvalidEntry(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def draft_all(
    gaps: Sequence[Gap],
    kb: KnowledgeBase | None,
    rejected: Sequence[Sequence[str]],
    now: datetime,
    cfg: SuggestConfig,
) -> list[Draft]:
    """Pure: the ranked drafts for these gaps and this KB."""
    open_gaps = still_open(kb, gaps, now)
    answered: Callable[[Draft], bool] = (
        (lambda d: kb_answers(kb, d, now)) if kb is not None else (lambda d: False)
    )
    return suggest(open_gaps, answered_by_kb=answered, rejected=rejected,
                   min_buyers=cfg.min_buyers, limit=cfg.limit,
                   background=product_words(kb), common=buyer_language())  # fmt: skip


async def refresh(conn: AsyncConnection, shop_id: str, now: datetime, cfg: SuggestConfig) -> int:
    """Recompute the shop's pending suggestions; the number drafted. One run per shop at a
    time (replicas and the API may race: the second waits, then redoes it on fresh data)."""
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('presale.suggest'), hashtext(:shop))"),
        {"shop": shop_id},
    )
    gaps = await gap_store.gaps_since(conn, shop_id, now - cfg.window)
    current = await kb_store.get(conn, shop_id)
    rejected = await suggestion_store.rejected_variants(conn, shop_id)
    drafts = await asyncio.to_thread(
        draft_all, gaps, current.kb if current else None, rejected, now, cfg
    )
    await suggestion_store.replace_pending(conn, shop_id, drafts, now)
    return len(drafts)


async def accept(
    conn: AsyncConnection,
    shop_id: str,
    sid: str,
    by: str,
    now: datetime,
    answer: str | None = None,
    keywords: Sequence[str] | None = None,
) -> tuple[Suggestion, int]:
    """Add the suggestion to the KB (a new version); returns the decided suggestion and the
    version."""
    pending = await _pending(conn, shop_id, sid)
    await kb_store.lock_shop(conn, shop_id)
    current = await kb_store.get(conn, shop_id)
    doc: dict[str, Any] = current.kb.model_dump(mode="json") if current else {"shop_id": shop_id}
    faq = dict(accepted_faq(pending, answer.strip() if answer else None, keywords))
    doc["faqs"] = [*(f for f in doc.get("faqs", []) if f["faq_id"] != faq["faq_id"]), faq]
    try:
        kb = build(doc, shop_id)
    except KbInvalid as exc:
        raise InvalidEntry(exc.errors) from None
    version = await kb_store.save(conn, kb, change=f"accept suggestion {sid}", author=by)
    assert version is not None
    await suggestion_store.decide(conn, sid, "accepted", by, now, version)
    decided = await suggestion_store.suggestion(conn, shop_id, sid)
    assert decided is not None
    return decided, version


async def reject(
    conn: AsyncConnection, shop_id: str, sid: str, by: str, now: datetime
) -> Suggestion:
    await _pending(conn, shop_id, sid)
    await suggestion_store.decide(conn, sid, "rejected", by, now)
    decided = await suggestion_store.suggestion(conn, shop_id, sid)
    assert decided is not None
    return decided


async def _pending(conn: AsyncConnection, shop_id: str, sid: str) -> Suggestion:
    found = await suggestion_store.suggestion(conn, shop_id, sid, lock=True)
    if found is None:
        raise NotFound(f"shop {shop_id} has no suggestion {sid}")
    if found.status != "pending":
        raise AlreadyDecided(f"suggestion {sid} is already {found.status}")
    return found


async def run(engine: AsyncEngine, clock: Clock, settings: PresaleSettings) -> None:
    """The periodic job: every interval, refresh every shop with gaps in the window, each in
    its own transaction (a failing shop is logged, the others go on)."""
    cfg = SuggestConfig.of(settings)
    while True:
        await asyncio.sleep(settings.presale_suggest_interval_s)
        await refresh_all(engine, clock.now(), cfg)


async def refresh_all(engine: AsyncEngine, now: datetime, cfg: SuggestConfig) -> None:
    try:
        async with engine.connect() as conn:
            shops = await gap_store.shops_with_gaps(conn, now - cfg.window)
    except Exception:
        log.exception("kb suggestions: could not list the shops with gaps")
        return
    for shop in shops:
        try:
            async with engine.begin() as conn:
                n = await refresh(conn, shop, now, cfg)
            log.info("kb suggestions for %s: %d", shop, n)
        except Exception:
            log.exception("kb suggestions for %s failed", shop)
