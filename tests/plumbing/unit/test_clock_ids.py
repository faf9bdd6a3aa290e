from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from shared.clock import FakeClock, ScaledClock
from shared.ids import derived_id, uuid7


def test_uuid7_is_time_ordered_and_versioned() -> None:
    ids = []
    for _ in range(5):
        ids.append(uuid7())
        time.sleep(0.002)
    assert ids == sorted(ids, key=lambda u: u.bytes)
    assert all(u.version == 7 for u in ids)


def test_derived_ids_are_deterministic() -> None:
    assert derived_id("a", "b") == derived_id("a", "b")
    assert derived_id("a", "b") != derived_id("a", "c")


def test_scaled_clocks_with_the_same_epoch_agree() -> None:
    epoch = datetime.now(UTC) - timedelta(seconds=10)
    a, b = ScaledClock(60, epoch), ScaledClock(60, epoch)
    assert abs((a.now() - b.now()).total_seconds()) < 1
    # ten wall seconds at 60x are ten business minutes
    assert timedelta(minutes=9) < a.now() - epoch < timedelta(minutes=11)


def test_fake_clock_moves_only_when_told() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = FakeClock(start)
    clock.advance(timedelta(hours=1))
    assert clock.now() == start + timedelta(hours=1)
