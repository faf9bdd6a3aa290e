"""Commits a consumed batch in time-bounded chunks, so a slow batch cannot stall its group.

A polled batch is one transaction on the fast path, and its offsets are committed once it is
done: a batch of records that are each slow to handle (a flood of hostile records that are
dead-lettered one by one, a handler that reads a long queue, a deadlock retry) holds the
group's committed offsets still for the whole batch. `ChunkPacer` learns the recent cost per
record and cuts each batch into chunks expected to take about `budget_s`; the runtime commits
the offsets of every chunk as soon as its transaction has committed. A cheap batch stays one
chunk (the bulk fast path is unchanged); an expensive one commits every `budget_s` or so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, TypeVar

from aiokafka import TopicPartition

T = TypeVar("T")


class ChunkPacer:
    """Chunk sizes from an exponentially weighted cost per record (seconds)."""

    def __init__(self, budget_s: float, smoothing: float = 0.5) -> None:
        self.budget_s = budget_s
        self.smoothing = smoothing
        self.per_record_s: float | None = None

    def size(self, remaining: int) -> int:
        if self.budget_s <= 0 or self.per_record_s is None or self.per_record_s <= 0:
            return remaining
        return max(1, min(remaining, int(self.budget_s / self.per_record_s)))

    def observe(self, seconds: float, records: int) -> None:
        if records <= 0:
            return
        cost = seconds / records
        if self.per_record_s is None:
            self.per_record_s = cost
        else:
            self.per_record_s += self.smoothing * (cost - self.per_record_s)

    def chunks(self, items: Sequence[T]) -> Iterator[Sequence[T]]:
        """Consecutive chunks of `items`, each sized with what was observed so far."""
        start = 0
        while start < len(items):
            end = start + self.size(len(items) - start)
            yield items[start:end]
            start = end


class _Positioned(Protocol):  # the parts of a consumed record the offsets need (RawRecord)
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...


def next_offsets(records: Sequence[_Positioned]) -> dict[TopicPartition, int]:
    """Per partition, the offset after the last of `records` (what a commit stores)."""
    out: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        out[tp] = max(out.get(tp, 0), r.offset + 1)
    return out


def first_offsets(records: Sequence[_Positioned]) -> dict[TopicPartition, int]:
    """Per partition, the earliest offset of `records` (where a rewind seeks to)."""
    out: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        out[tp] = min(out.get(tp, r.offset), r.offset)
    return out
