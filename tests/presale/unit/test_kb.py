"""KB validation: the demo KB is valid and matches the simulator; bad documents say why."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.presale.kb.loading import KbInvalid, build, parse, read_file
from simulator import catalog

DEMO_FILE = Path(__file__).parents[3] / "services/presale/kb/shop-demo.yaml"
DEMO: dict[str, Any] = yaml.safe_load(DEMO_FILE.read_text())


def _errors(doc: dict[str, Any], shop: str | None = None) -> list[str]:
    with pytest.raises(KbInvalid) as caught:
        build(doc, shop)
    return caught.value.errors


def test_demo_kb_matches_the_simulators_catalogue() -> None:
    kb = read_file(DEMO_FILE, "shop-demo")
    assert kb.shop_id == catalog.SHOP_ID
    assert [p.item_id for p in kb.products] == [i.item_id for i in catalog.ITEMS]
    for product, item in zip(kb.products, catalog.ITEMS, strict=True):
        assert product.price == item.price
        assert product.material == item.material
        assert product.colours == list(item.colours)
        assert [(r.size, r.height_cm, r.weight_jin) for r in product.size_chart] == [
            (s.size, s.height_cm, s.weight_jin) for s in item.sizes
        ]
        assert {(s.sku_id, s.size, s.colour, s.price, s.stock) for s in product.skus} == {
            (s.sku_id, s.size, s.colour, s.price, s.stock) for s in item.skus
        }
        assert product.usage_notes
        assert product.specs
    assert kb.shipping is not None
    assert kb.shipping.ship_within_hours == catalog.SHIPPING_POLICY["ship_within_hours"]
    assert kb.shipping.default_courier == catalog.DEFAULT_COURIER
    codes = {p.code for p in kb.promotions}
    assert {p.code for p in catalog.PROMOTIONS} <= codes


def test_sku_size_must_be_in_the_size_chart() -> None:
    doc = copy.deepcopy(DEMO)
    doc["products"][1]["skus"][0]["size"] = "XXXL"
    (line,) = _errors(doc)
    assert line.startswith("products[1]")
    assert "'XXXL' is not in the size chart" in line


def test_errors_name_the_field_path() -> None:
    doc = copy.deepcopy(DEMO)
    doc["products"][0]["price"] = -5
    doc["shipping"]["ship_within_hours"] = 0
    doc["promotions"][0]["ends_at"] = "2025-01-01T00:00:00+08:00"
    doc["auto_reply_threshold"] = 1.5
    errors = _errors(doc)
    assert any(e.startswith("products[0].price:") for e in errors)
    assert any(e.startswith("shipping.ship_within_hours:") for e in errors)
    assert any(e.startswith("promotions[0]") and "ends_at must be after" in e for e in errors)
    assert any(e.startswith("auto_reply_threshold:") for e in errors)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d["products"].append(copy.deepcopy(d["products"][0])), "duplicate products"),
        (lambda d: d["products"][0]["skus"][0].update(colour="紫色"), "not one of the product"),
        (lambda d: d["products"][0]["size_chart"][0].update(height_cm=[160, 150]), "0 < min"),
        (lambda d: d["promotions"][0].update(starts_at="2026-01-01T00:00:00"), "timezone"),
        (lambda d: d["shipping"].update(default_courier="德邦"), "not in couriers"),
        (lambda d: d["faqs"][0].update(item_id="nope"), "no product 'nope'"),
        (lambda d: d["faqs"][0].update(intent="haggle"), "faqs[0].intent"),
        (lambda d: d.update(colour_scheme="pink"), "colour_scheme: Extra inputs"),
    ],
)
def test_invalid_documents(edit: Any, expected: str) -> None:
    doc = copy.deepcopy(DEMO)
    edit(doc)
    assert any(expected in e for e in _errors(doc)), _errors(doc)


def test_shop_id_from_the_cli_fills_or_must_match() -> None:
    doc = {k: v for k, v in DEMO.items() if k != "shop_id"}
    assert build(doc, "shop-x").shop_id == "shop-x"
    assert "not 'shop-x'" in _errors(DEMO, "shop-x")[0]


def test_unparseable_and_non_mapping_documents() -> None:
    with pytest.raises(KbInvalid, match="not valid YAML"):
        parse("products: [", "yaml")
    with pytest.raises(KbInvalid, match="not valid JSON"):
        parse("{", "json")
    with pytest.raises(KbInvalid, match="expected a mapping"):
        parse("- a\n- b\n", "yaml")


def test_numbers_typed_as_ids_are_accepted() -> None:
    doc = copy.deepcopy(DEMO)
    doc["products"][0]["item_id"] = 60181234001
    assert build(doc).products[0].item_id == "60181234001"


def test_a_kb_with_yaml_aliases_is_refused() -> None:
    """A 'billion laughs' import (31 KiB expanding to hundreds of MiB) is refused unexpanded."""
    laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        laughs.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(KbInvalid, match="aliases"):
        parse("\n".join(laughs) + "\n", "yaml")
