"""Answers from the shop's policies and FAQs (bodies without the tone's address; None = the KB
has no answer): FAQs by intent or by keyword, promotions, free shipping, shipping time,
couriers, invoices. Pure."""

from __future__ import annotations

from datetime import datetime

from services.presale.domain import replies
from services.presale.domain.kb import KnowledgeBase
from services.presale.domain.textsim import compact, normalize


def intent_faq(kb: KnowledgeBase, intent: str, norm: str, item_id: str | None) -> str | None:
    """A FAQ for this intent (or any) and item (or any) whose keyword the message says."""
    for faq in kb.faqs:
        if faq.intent not in (None, intent) or faq.item_id not in (None, item_id):
            continue
        if any(normalize(k) in norm for k in faq.keywords):
            return faq.answer
    return None


def keyword_faq(kb: KnowledgeBase, text: str, item_id: str | None) -> str | None:
    """`text` compacted (`textsim.compact`): keywords match across spaces, emoji and typos."""
    for faq in kb.faqs:
        if faq.match != "keywords" or faq.item_id not in (None, item_id):
            continue
        if any((k := compact(kw)) and k in text for kw in faq.keywords):
            return faq.answer
    return None


def promotions(kb: KnowledgeBase, now: datetime) -> str | None:
    active = kb.active_promotions(now)
    if not active:
        return None  # nothing to offer: a human may still decide to
    return "现在店铺的活动：" + "；".join(p.rule for p in active)


def free_shipping(kb: KnowledgeBase, norm: str) -> str | None:
    s = kb.shipping
    if s is None:
        return None
    excluded = "、".join(s.excluded_regions)
    asked = [r for r in s.excluded_regions if normalize(r) in norm]
    if asked:
        fee = f"，需要补{replies.yuan(s.remote_fee)}运费" if s.remote_fee is not None else ""
        return f"{'、'.join(asked)}属于偏远地区，不在包邮范围内{fee}"
    base = "全国包邮" if s.free_shipping_threshold == 0 else (
        f"订单满{replies.yuan(s.free_shipping_threshold)}包邮"
        + (f"，不满收{replies.yuan(s.standard_fee)}运费" if s.standard_fee is not None else "")
    )  # fmt: skip
    if excluded:
        fee = f"，偏远地区补{replies.yuan(s.remote_fee)}" if s.remote_fee is not None else ""
        base += f"（{excluded}除外{fee}）"
    if s.ship_from and ("哪" in norm or "发货地" in norm):
        base += f"，从{s.ship_from}发货"
    return base


def shipping_time(kb: KnowledgeBase) -> str | None:
    s = kb.shipping
    if s is None:
        return None
    body = f"付款后{s.ship_within_hours}小时内发货"
    if s.same_day_cutoff:
        body += f"，{s.same_day_cutoff}前付款当天就能发出"
    if s.transit_note:
        body += f"，{s.transit_note}"
    return body


_COURIER_WORDS = ("中通", "圆通", "韵达", "申通", "顺丰", "邮政", "ems", "京东", "极兔", "德邦")


def courier(kb: KnowledgeBase, norm: str) -> str | None:
    s = kb.shipping
    if s is None:
        return None
    named = [w for w in _COURIER_WORDS if w in norm]
    upgrade = ""
    if s.courier_upgrade:
        fee = f"需补{replies.yuan(s.upgrade_fee)}差价，" if s.upgrade_fee else ""
        upgrade = f"需要{s.courier_upgrade}的话{fee}拍下后备注就可以"
    body = f"默认发{s.default_courier}"
    for word in named:
        match = next((c for c in s.couriers if normalize(c).startswith(word)), None)
        if match is None:
            body = f"暂时不能发{word}，{body}"
        elif s.courier_upgrade and match == s.courier_upgrade:
            return f"可以发{match}，{upgrade}"
        elif match != s.default_courier:
            return f"可以发{match}，拍下后备注一下就可以"
    if len(s.couriers) > 1:
        others = "、".join(c for c in s.couriers if c != s.default_courier)
        body += f"，也可以备注{others}"
    return f"{body}；{upgrade}" if upgrade else body


def invoice(kb: KnowledgeBase, norm: str) -> str | None:
    inv = kb.invoice
    if inv is None:
        return None
    if not inv.supported:
        return "本店暂时不支持开具发票"
    kinds = "、".join(inv.kinds)
    if "专票" in norm or "专用发票" in norm:
        if not inv.special_vat:
            return f"暂时不支持开增值税专用发票，可以开{kinds}"
        kinds = "增值税专用发票"
    body = f"可以开{kinds}"
    for part in (inv.how, inv.when):
        if part:
            body += f"，{part}"
    return body


# -- text helpers --------------------------------------------------------------------------
