"""`ChunkPacer`: a cheap batch stays whole, a slow one is cut into chunks of about the budget."""

from __future__ import annotations

from aiokafka import TopicPartition

from shared.commit_pacing import ChunkPacer, first_offsets, next_offsets
from shared.consumer import RawRecord


def test_a_batch_stays_whole_until_a_cost_is_known_and_while_it_is_cheap() -> None:
    pacer = ChunkPacer(1.0)
    assert [len(c) for c in pacer.chunks(list(range(500)))] == [500]
    pacer.observe(0.5, 500)  # 1 ms a record
    assert [len(c) for c in pacer.chunks(list(range(500)))] == [500]


def test_slow_records_are_cut_into_chunks_of_about_the_budget() -> None:
    pacer = ChunkPacer(1.0)
    pacer.observe(5.0, 100)  # 50 ms a record: 20 a chunk
    sizes = []
    for chunk in pacer.chunks(list(range(100))):
        sizes.append(len(chunk))
        pacer.observe(0.05 * len(chunk), len(chunk))
    assert sizes == [20] * 5
    pacer.observe(30.0, 1)  # one very slow record: never less than one a chunk
    assert pacer.size(100) >= 1


def test_a_zero_budget_commits_once_per_batch() -> None:
    pacer = ChunkPacer(0)
    pacer.observe(10.0, 1)
    assert [len(c) for c in pacer.chunks(list(range(100)))] == [100]


def test_offsets_per_partition() -> None:
    records = [RawRecord("t", p, o, None, b"", []) for p, o in [(0, 5), (1, 9), (0, 6), (1, 10)]]
    assert next_offsets(records[:3]) == {TopicPartition("t", 0): 7, TopicPartition("t", 1): 10}
    assert first_offsets(records[2:]) == {TopicPartition("t", 0): 6, TopicPartition("t", 1): 10}
