"""The collector every service process runs with (`shared.serve.quiet_collector`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from shared.serve import GC_THRESHOLDS, quiet_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_freezes_the_built_process_and_raises_the_thresholds(restored_collector: None) -> None:
    built = [{"kept": i} for i in range(1000)]  # alive as long as the process, like the app
    quiet_collector()
    assert gc.get_freeze_count() >= len(built)
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700  # fewer young collections than CPython's default


def test_cyclic_garbage_is_still_collected(restored_collector: None) -> None:
    quiet_collector()

    class Node:
        pass

    for _ in range(100):
        a, b = Node(), Node()
        a.other, b.other = b, a  # type: ignore[attr-defined]
        del a, b
    assert gc.collect() >= 200  # the cycles made after the freeze are not frozen
