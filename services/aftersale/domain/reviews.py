"""Reviews: every one counted; a bad one opens a follow-up case, an apology within business
hours (a timer waits for the morning) and a hand-off."""

from __future__ import annotations

from services.aftersale.domain import texts
from services.aftersale.domain.contact import hand_off, reply
from services.aftersale.domain.deadlines import next_business_time
from services.aftersale.domain.effects import REVIEW_APOLOGY, Turn
from services.aftersale.domain.model import Case, Review, Signal, review_case_id
from services.aftersale.domain.risk import threat_words
from shared.contracts import CaseOpened, ReviewPosted
from shared.masking import mask


def review_posted(t: Turn, v: ReviewPosted, cause: str) -> None:
    if t.v.review_seen(v.review_id):
        return
    t.v.add_review(Review(v.review_id, v.shop_id, v.order_id, v.buyer_id, v.result, v.posted_at))
    t.out.count(f"review_{v.result}")
    for word in threat_words(v.content):
        t.v.add_signal(
            Signal(v.shop_id, v.buyer_id, "threat", f"{v.review_id}:{word}", v.posted_at, word)
        )
    if v.result != "bad":
        return  # good and neutral reviews are counted, nothing more
    case_id = review_case_id(v.review_id)
    case = t.v.case(case_id) or t.v.put_case(
        Case(
            case_id=case_id, shop_id=v.shop_id, kind="bad_review", state="open",
            order_id=v.order_id, buyer_id=v.buyer_id, review_id=v.review_id, reason="差评",
            opened_at=t.now,
        )
    )  # fmt: skip
    t.v.add_history(case_id, t.now, "opened", "差评回访")
    t.out.emit(
        CaseOpened(
            shop_id=v.shop_id, case_id=case_id, kind="bad_review", order_id=v.order_id,
            buyer_id=v.buyer_id, review_id=v.review_id, opened_at=t.now,
        )
    )  # fmt: skip
    cfg = t.cfg
    send_at = next_business_time(t.now, cfg.tz, cfg.business_hours_start, cfg.business_hours_end)
    if send_at <= t.now:
        apologise(t, case, cause)
    else:
        t.out.arm(REVIEW_APOLOGY, case_id, send_at)
        t.v.add_history(case_id, t.now, "apology_scheduled", send_at.isoformat())
    hand_off(
        t, case, cause, "aftersale", "normal", "bad review",
        extra=f"差评内容(已脱敏):{mask(v.content)[:200]}",
    )  # fmt: skip


def apologise(t: Turn, case: Case, cause: str) -> None:
    reply(t, case, cause, texts.APOLOGY, "apology")
    t.out.count("apology")


def on_apology_timer(t: Turn, case_id: str, cause: str) -> None:
    """The morning after a bad review at night: the apology goes out if the case is open."""
    case = t.v.case(case_id)
    if case is not None and case.state == "open":
        apologise(t, case, cause)
