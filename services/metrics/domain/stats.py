"""Small statistics with the exact conventions of KPIS.md."""

from __future__ import annotations

from collections.abc import Sequence


def nearest_rank(values: Sequence[int | float], p: int) -> int | float | None:
    """p-th percentile by nearest rank: the value at rank ceil(p/100 * n), 1-based.

    Integer arithmetic, so ranks are exact (this is PostgreSQL's `percentile_disc`).
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-p * len(ordered) // 100))
    return ordered[rank - 1]


def ratio(numerator: int | float, denominator: int | float) -> float | None:
    """numerator / denominator; None (not 0) when the denominator is 0."""
    return None if not denominator else numerator / denominator


def floor_div(numerator: int, denominator: int) -> int | None:
    return None if not denominator else numerator // denominator


def seconds(us: int | float | None) -> float | None:
    """Integer microseconds (or their mean) as float seconds."""
    return None if us is None else us / 1_000_000
