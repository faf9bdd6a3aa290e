"""Presale's message understanding: entities, context, noisy text, stages, sentiment."""

from __future__ import annotations

import socket
from typing import get_args

import pytest

from services.presale.domain.nlu import AUTO_ANSWERABLE, STAGE_OF, understand
from services.presale.domain.nlu.normalize import normalize
from services.presale.nlu_loader import MODEL_PATH, load
from shared.contracts.emitted import Intent


@pytest.mark.parametrize(
    ("text", "height", "weight"),
    [
        ("身高一米六五体重110斤", 165, 55.0),
        ("165cm 55kg", 165, 55.0),
        ("1米65 一百一十斤穿什么码", 165, 55.0),
        ("我1.72m 140斤", 172, 70.0),
        ("身高１６８ 体重１２０斤", 168, 60.0),
        ("一米八一63kg合适啥码", 181, 63.0),
        ("165/110", 165, 55.0),
        ("一米六 九十斤", 160, 45.0),
    ],
)
def test_height_and_weight_in_any_form(text: str, height: int, weight: float) -> None:
    entities = understand(text).entities
    assert (entities.height_cm, entities.weight_kg) == (height, weight)


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("XL码有吗", "size", "XL"),
        ("2xl还有吗", "size", "XXL"),
        ("均码的会不会小", "size", "均码"),
        ("两件有优惠吗", "quantity", 2),
        ("我要3件", "quantity", 3),
        ("黑色还有吗", "colour", "黑色"),
        ("要米白的", "colour", "米白色"),
        ("订单1234567890123456789到哪了", "order_id", "1234567890123456789"),
        ("單號：２３５０４００４７４７１２３５２７３４", "order_id", "2350400474712352734"),
    ],
)
def test_size_colour_quantity_order_id(text: str, field: str, value: object) -> None:
    assert getattr(understand(text).entities, field) == value


def test_a_phone_number_is_not_an_order_id() -> None:
    assert understand("我电话13812345678").entities.order_id is None


@pytest.mark.parametrize(
    ("history", "text", "intent"),
    [
        (["M码有货吗"], "那L呢", "stock"),
        (["165 110斤穿什么码"], "那L呢", "size_advice"),
        (["这件多少钱"], "那两件呢", "price_promotion"),
        (["黑色还有货吗"], "白色的呢", "stock"),
        (["包邮吗"], "新疆呢", "free_shipping"),
        (["165 110斤穿什么码"], "能便宜点吗", "price_promotion"),
        (["L码有货吗"], "多少钱", "price_promotion"),
        (["L码有货吗"], "好的谢谢", "acknowledgement"),
    ],
)
def test_short_replies_use_the_conversation_history(
    history: list[str], text: str, intent: str
) -> None:
    assert understand(text, history).intent == intent


def test_an_elliptic_reply_without_history_is_not_guessed() -> None:
    assert understand("那L呢").intent == "other"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("這件衣服有沒有XL碼", "stock"),
        ("包郵嗎", "free_shipping"),
        ("什麼時候發貨", "shipping_time"),
        ("可以開發票嗎", "invoice"),
        ("轉人工", "human_agent"),
    ],
)
def test_traditional_characters(text: str, intent: str) -> None:
    assert understand(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("包邮吗😊", "free_shipping"),
        ("👍", "acknowledgement"),
        ("亲～在吗🙏", "greeting"),
        ("L码有货吗🤔🤔", "stock"),
    ],
)
def test_emoji(text: str, intent: str) -> None:
    assert understand(text).intent == intent


def test_full_width_and_chinese_digits_normalise() -> None:
    assert normalize("１６５ｃｍ　ＸＬ") == "165cm xl"
    assert normalize("一米六五 一百一十斤 两件") == "1米65 110斤 2件"
    assert normalize("看一下") == "看一下"  # words with 一 stay words
    assert understand("身高１６５ｃｍ穿什么码").intent == "size_advice"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("亲 这件是纯棉的吗", "product_spec"),
        ("木有优惠嘛", "price_promotion"),
        ("啥时候发货哈", "shipping_time"),
        ("发神马快递呀", "courier"),
        ("咋洗啊", "usage_help"),
        ("推荐一下哪款好", "recommendation"),
        ("物流三天没更新了", "logistics_status"),
        ("拍了三天了还不发货", "urge_shipping"),
        ("地址写错了能改吗", "address_change"),
        ("花呗付不了", "payment_issue"),
        ("帮我改成L码", "order_modify"),
        ("帮我取消订单", "cancel_order"),
        ("退款什么时候到账", "refund"),
        ("大了想换小一码", "return_exchange"),
        ("衣服有个破洞", "quality_issue"),
        ("少发了一件", "missing_or_wrong_item"),
        ("我要投诉你们", "complaint"),
    ],
)
def test_colloquial_messages_with_particles_and_typos(text: str, intent: str) -> None:
    result = understand(text)
    assert result.intent == intent
    assert result.stage == STAGE_OF[intent]


def test_several_questions_in_one_message() -> None:
    result = understand("在吗，这件有黑色L吗？包邮吗")
    assert result.intent == "stock"
    assert "free_shipping" in result.secondary_intents
    assert "greeting" not in result.secondary_intents


def test_sentiment() -> None:
    assert understand("垃圾店！！我要投诉😡").sentiment == "angry"
    assert understand("怎么还没发货，好失望").sentiment == "negative"
    assert understand("谢谢亲😊").sentiment == "positive"
    assert understand("L码有货吗").sentiment == "neutral"


def test_every_contract_intent_has_a_stage() -> None:
    intents = set(get_args(Intent))
    assert set(STAGE_OF) == intents
    assert set(load().classes) == intents
    assert {i for i, s in STAGE_OF.items() if s == "presale"} >= AUTO_ANSWERABLE
    assert {i for i, s in STAGE_OF.items() if s == "aftersale"} == {
        "refund", "return_exchange", "quality_issue", "missing_or_wrong_item", "complaint"
    }  # fmt: skip


def test_model_file_loads_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the NLU must not touch the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    model = load(MODEL_PATH)
    assert model.temperature > 0
    assert MODEL_PATH.stat().st_size < 2_000_000


def test_odd_input_never_crashes() -> None:
    for text in [
        "",
        "   ",
        "？？？",
        "😀" * 50,
        "a" * 2000,
        "\x00\n\t",
        "１２３４５６７８９０" * 5,
    ]:
        result = understand(text, ["", "那L呢"])
        assert 0.0 <= result.confidence <= 1.0
