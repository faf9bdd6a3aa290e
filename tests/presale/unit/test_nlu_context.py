"""Buyer context, short replies and pasted identifiers (issue 16), and the fresh set's target."""

from __future__ import annotations

import pytest

from bench.presale_nlu import fresh_set
from services.presale.domain.nlu import BuyerContext, understand
from services.presale.domain.nlu.context import ORDER_PHASES, phase_of_status, resolve
from services.presale.domain.nlu.normalize import normalize
from tools.presale.data.fresh_written import FRESH


@pytest.mark.parametrize(
    ("text", "phase", "intent"),
    [
        ("今天发货吗", "none", "shipping_time"),
        ("今天发货吗", "paid", "urge_shipping"),
        ("今天发货吗", None, None),  # no context: whatever the text alone says
        ("几天能到", "none", "shipping_time"),
        ("几天能到", "shipped", "logistics_status"),
        ("什么时候能到呀", "paid", "urge_shipping"),
        ("不想要了", "received", "return_exchange"),
    ],
)
def test_the_order_phase_decides_state_dependent_questions(
    text: str, phase: str | None, intent: str | None
) -> None:
    ctx = BuyerContext(order=phase) if phase else None  # type: ignore[arg-type]
    got = understand(text, context=ctx)
    if intent is None:
        assert got.intent in ("shipping_time", "urge_shipping")
    else:
        assert got.intent == intent
        assert got.stage == ("presale" if intent == "shipping_time" else got.stage)


def test_resolving_keeps_a_probability_distribution() -> None:
    classes = ["shipping_time", "urge_shipping", "logistics_status", "cancel_order",
               "return_exchange", "other"]  # fmt: skip
    probs = [0.5, 0.2, 0.1, 0.1, 0.05, 0.05]
    for phase in ORDER_PHASES:
        out = resolve(classes, probs, BuyerContext(order=phase))
        assert sum(out) == pytest.approx(1.0)
    assert resolve(classes, probs, None) == probs
    assert resolve(classes, probs, BuyerContext()) == probs
    paid = resolve(classes, probs, BuyerContext(order="paid"))
    assert paid[0] == 0.0
    assert paid[1] == pytest.approx(0.8)


def test_an_after_sale_conversation_reads_cancel_as_return_without_an_order_phase() -> None:
    assert understand("不想要了", context=BuyerContext(stage="aftersale")).intent != "cancel_order"


def test_platform_statuses_map_to_phases() -> None:
    assert phase_of_status("WAIT_BUYER_PAY") == "unpaid"
    assert phase_of_status("WAIT_SELLER_SEND_GOODS") == "paid"
    assert phase_of_status("WAIT_BUYER_CONFIRM_GOODS") == "shipped"
    assert phase_of_status("TRADE_FINISHED") == "received"
    assert phase_of_status("TRADE_CLOSED") is None
    assert phase_of_status(None) is None


@pytest.mark.parametrize("text", ["对的", "恩", "好滴", "嗯呐", "👌", "好嘞", "辛苦啦", "是的"])
def test_short_acknowledgements(text: str) -> None:
    assert understand(text).intent == "acknowledgement"


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("https://item.taobao.com/item.htm?id=612345678901 有货吗", "链接 有货吗"),
        ("【淘宝】https://m.tb.cn/h.Ab12Cd 「夏季新款连衣裙」点击链接直接打开", "链接"),
    ],
)
def test_pasted_links_and_share_text_become_one_word(text: str, normalised: str) -> None:
    assert normalize(text) == normalised


def test_a_bare_pasted_link_is_not_a_question_and_a_link_with_one_is() -> None:
    assert understand("https://m.tb.cn/h.Q1w2E3").intent == "other"
    assert (
        understand("https://item.taobao.com/item.htm?id=612345678901 黑色还有货吗").intent
        == "stock"
    )


def test_a_pasted_order_number_with_a_question() -> None:
    got = understand("2401234567891234567 物流到哪了")
    assert got.intent == "logistics_status"
    assert got.entities.order_id == "2401234567891234567"


def test_the_fresh_set_is_big_enough_and_labelled_with_known_intents() -> None:
    assert len(FRESH) >= 300
    assert len({(t, p) for _, t, _, p in FRESH}) == len(FRESH)


def test_fresh_set_accuracy_at_least_93_percent() -> None:
    result = fresh_set()
    assert result["accuracy"] >= 0.93, result
    assert result["by_kind"]["state_dependent"]["accuracy"] >= 0.9, result


def test_training_has_no_copy_of_a_fresh_message() -> None:
    import json
    from pathlib import Path

    from tools.presale.data.generate import _FORMULAIC_MAX, _core

    train = Path(__file__).resolve().parents[3] / "tools/presale/data/train.jsonl"
    cores = {_core(json.loads(line)["text"]) for line in train.read_text("utf-8").splitlines()}
    copies = [t for _, t, _, _ in FRESH if len(_core(t)) > _FORMULAIC_MAX and _core(t) in cores]
    assert not copies
