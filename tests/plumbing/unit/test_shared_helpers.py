"""The small pure helpers services share: money text, text folding, the latest conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.conversations import (
    BuyerConversation,
    conversation_id,
    fallback_conversation,
    remember,
)
from shared.money import yuan
from shared.text import fold

T0 = datetime(2026, 11, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fen", "plain", "trimmed"),
    [
        (0, "0.00", "0"),
        (5, "0.05", "0.05"),
        (1205, "12.05", "12.05"),
        (1250, "12.50", "12.5"),
        (12345, "123.45", "123.45"),
        (19900, "199.00", "199"),
        (10**15 + 1, "10000000000000.01", "10000000000000.01"),
    ],
)
def test_yuan(fen: int, plain: str, trimmed: str) -> None:
    assert yuan(fen) == plain
    assert yuan(fen, trim=True) == trimmed


def test_fold_is_nfkc_and_lower_case() -> None:
    assert fold("７天无理由ＯＫ") == "7天无理由ok"
    assert fold("Ｈｅｌｌｏ，World") == "hello,world"
    assert fold("") == ""


def test_the_later_conversation_is_kept_and_a_tie_goes_to_the_new_one() -> None:
    old = BuyerConversation("s", "b", "c1", T0)
    new = BuyerConversation("s", "b", "c2", T0 + timedelta(minutes=1))
    assert remember(None, old) == old
    assert remember(old, new) == new
    assert remember(new, old) is None
    tie = BuyerConversation("s", "b", "c3", T0)
    assert remember(old, tie) == tie
    assert new.buyer == ("s", "b")


def test_where_messages_go_without_a_known_conversation() -> None:
    assert fallback_conversation("s", "b") == "s:b"
    assert conversation_id(None, "s", "b") == "s:b"
    assert conversation_id(BuyerConversation("s", "b", "c1", T0), "s", "b") == "c1"
