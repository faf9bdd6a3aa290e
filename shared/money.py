"""Money as buyers and staff read it. Amounts are integer fen (1 yuan = 100 fen) everywhere;
this is the one place they become text."""

from __future__ import annotations


def yuan(fen: int, *, trim: bool = False) -> str:
    """Fen as a yuan amount: 12345 → '123.45', 19900 → '199.00'. With `trim`, as a buyer
    reads it: 19900 → '199', 1250 → '12.5', 1205 → '12.05'."""
    whole, cents = divmod(fen, 100)
    if not trim:
        return f"{whole}.{cents:02d}"
    if cents == 0:
        return str(whole)
    return f"{whole}.{cents:02d}".rstrip("0")
