"""Size advice is right for every height/weight cell of the demo KB's size charts."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.presale.domain.kb import Product, SizeRow
from services.presale.domain.sizing import advise, kg_to_jin
from services.presale.kb.loading import read_file

DEMO = read_file(Path(__file__).parents[3] / "services/presale/kb/shop-demo.yaml")


def _boxes_containing(chart: list[SizeRow], h: int, w: int) -> list[str]:
    return [
        r.size
        for r in chart
        if r.height_cm[0] <= h <= r.height_cm[1] and r.weight_jin[0] <= w <= r.weight_jin[1]
    ]


@pytest.mark.parametrize("product", DEMO.products, ids=lambda p: p.kind)
def test_every_cell_of_every_chart(product: Product) -> None:
    cells = 0
    for row in product.size_chart:
        for h in range(row.height_cm[0], row.height_cm[1] + 1):
            for w in range(row.weight_jin[0], row.weight_jin[1] + 1):
                advice = advise(product.size_chart, h, w)
                assert advice is not None, (row.size, h, w)
                assert row.size in advice.sizes, (row.size, h, w, advice)
                inside = _boxes_containing(product.size_chart, h, w)
                if len(inside) == 1:
                    assert advice.sizes == (row.size,), (h, w, advice)
                    assert not advice.between
                else:  # on the overlap of two neighbouring sizes
                    assert advice.between, (h, w, advice)
                    assert set(advice.sizes) == set(inside), (h, w, advice)
                cells += 1
    assert cells > 500


def test_examples_on_the_dress_chart() -> None:
    chart = DEMO.products[0].size_chart  # S 150-158/80-95, M 155-163/95-108, L 160-168/108-122
    assert advise(chart, 152, 85).sizes == ("S",)
    assert advise(chart, 160, 100).sizes == ("M",)
    assert advise(chart, 157, 95).sizes == ("S", "M")  # between sizes
    assert advise(chart, 170, 130).sizes == ("XL",)


def test_weight_decides_when_height_disagrees() -> None:
    chart = DEMO.products[0].size_chart
    advice = advise(chart, 150, 115)  # short (S) but weighs like an L
    assert advice is not None
    assert advice.sizes == ("L",)
    assert advice.height_suggests == ("S",)


@pytest.mark.parametrize(("h", "w"), [(140, 90), (190, 120), (160, 60), (165, 200)])
def test_outside_the_chart_gives_no_advice(h: int, w: int) -> None:
    assert advise(DEMO.products[0].size_chart, h, w) is None


def test_kg_to_jin() -> None:
    assert kg_to_jin(50) == 100
    assert kg_to_jin(52.5) == 105
