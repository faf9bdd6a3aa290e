"""Size advice from a size chart and the buyer's height and weight.

Chinese charts give each size a height range (cm) and a weight range (斤); neighbouring sizes
overlap. The rules, in order:
1. Buyer outside the chart's overall height or weight span: no advice (a human decides).
2. Sizes whose height AND weight ranges both cover the buyer: one → that size; two (an overlap
   of neighbours) → "between" them.
3. Otherwise weight decides (as on the simulator's charts): the size(s) whose weight range
   covers the buyer, and the advice says that height points elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.presale.domain.kb import SizeRow

JIN_PER_KG = 2


@dataclass(frozen=True)
class SizeAdvice:
    sizes: tuple[str, ...]
    """One size, or two neighbours when the buyer is between sizes (smaller first)."""
    height_suggests: tuple[str, ...] = ()
    """When height and weight disagree: the sizes the height alone would give."""

    @property
    def between(self) -> bool:
        return len(self.sizes) > 1


def kg_to_jin(weight_kg: float) -> int:
    return round(weight_kg * JIN_PER_KG)


def _covers(bounds: tuple[int, int], value: float) -> bool:
    return bounds[0] <= value <= bounds[1]


def advise(chart: Sequence[SizeRow], height_cm: float, weight_jin: float) -> SizeAdvice | None:
    if not chart:
        return None
    if not (
        min(r.height_cm[0] for r in chart) <= height_cm <= max(r.height_cm[1] for r in chart)
        and min(r.weight_jin[0] for r in chart) <= weight_jin <= max(r.weight_jin[1] for r in chart)
    ):
        return None
    by_height = tuple(r.size for r in chart if _covers(r.height_cm, height_cm))
    by_weight = tuple(r.size for r in chart if _covers(r.weight_jin, weight_jin))
    both = tuple(s for s in by_weight if s in by_height)
    if both:
        return SizeAdvice(_neighbours(both))
    if by_weight:
        return SizeAdvice(_neighbours(by_weight), height_suggests=by_height)
    return None  # a gap in the chart's weight ranges: nothing honest to say


def _neighbours(sizes: tuple[str, ...]) -> tuple[str, ...]:
    """At most two sizes, smallest and largest of the covering ones (chart order)."""
    return sizes if len(sizes) <= 2 else (sizes[0], sizes[-1])
