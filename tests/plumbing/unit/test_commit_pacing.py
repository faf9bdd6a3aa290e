"""`ChunkPacer`: a cheap batch stays whole, a slow one is cut into chunks of about the budget."""

from __future__ import annotations

from aiokafka import TopicPartition

from shared.commit_pacing import ChunkPacer, first_offsets, next_offsets
from shared.consumer import RawRecord


def _sizes(pacer: ChunkPacer, topics: list[str]) -> list[int]:
    return [len(c) for c in pacer.chunks(topics, lambda t: t)]


def test_a_batch_stays_whole_until_a_cost_is_known_and_while_it_is_cheap() -> None:
    pacer = ChunkPacer(1.0)
    assert _sizes(pacer, ["a"] * 500) == [500]
    pacer.observe(0.5, ["a"] * 500)  # 1 ms a record
    assert _sizes(pacer, ["a"] * 500) == [500]


def test_slow_records_are_cut_into_chunks_of_about_the_budget() -> None:
    pacer = ChunkPacer(1.0)
    pacer.observe(5.0, ["slow"] * 100)  # 50 ms a record: 20 a chunk
    sizes = []
    for chunk in pacer.chunks(["slow"] * 100, lambda t: t):
        sizes.append(len(chunk))
        pacer.observe(0.05 * len(chunk), list(chunk))
    assert sizes == [20] * 5
    pacer.observe(30.0, ["slow"])  # one very slow record: never less than one a chunk
    assert pacer.size(["slow"] * 100) == 1


def test_costs_are_per_topic_and_an_unseen_topic_is_assumed_dear() -> None:
    pacer = ChunkPacer(1.0)
    pacer.observe(0.1, ["cheap"] * 100)  # 1 ms
    pacer.observe(5.0, ["slow"] * 100)  # 50 ms
    pacer.observe(0.1, ["cheap"] * 100)  # a cheap batch does not make the slow topic cheap
    assert pacer.size(["cheap"] * 100) == 100
    assert pacer.size(["slow"] * 100) == 20
    assert pacer.size(["new"] * 100) == 20
    assert pacer.size(["cheap"] * 50 + ["slow"] * 50) == 50 + 19


def test_a_rising_cost_is_taken_at_once_a_falling_one_smoothed() -> None:
    pacer = ChunkPacer(1.0, smoothing=0.5)
    pacer.observe(0.1, ["t"] * 100)
    pacer.observe(1.0, ["t"] * 10)
    assert pacer.cost_s["t"] == 0.1
    pacer.observe(0.0, ["t"] * 10)
    assert pacer.cost_s["t"] == 0.05


def test_a_zero_budget_commits_once_per_batch() -> None:
    pacer = ChunkPacer(0)
    pacer.observe(10.0, ["t"])
    assert _sizes(pacer, ["t"] * 100) == [100]


def test_offsets_per_partition() -> None:
    records = [RawRecord("t", p, o, None, b"", []) for p, o in [(0, 5), (1, 9), (0, 6), (1, 10)]]
    assert next_offsets(records[:3]) == {TopicPartition("t", 0): 7, TopicPartition("t", 1): 10}
    assert first_offsets(records[2:]) == {TopicPartition("t", 0): 6, TopicPartition("t", 1): 10}


def test_a_small_chunk_of_cheap_records_does_not_keep_the_chunks_small() -> None:
    """The chunk's fixed cost is not charged to its records: after one chunk of a single cheap
    record (60 ms, nearly all of it the transaction), the chunks grow back to whole batches."""
    pacer = ChunkPacer(1.0, overhead_s=0.05)
    pacer.observe(0.06, ["t"])
    sizes = [pacer.size(["t"] * 500)]
    for _ in range(10):
        pacer.observe(0.05 + sizes[-1] * 0.0002, ["t"] * sizes[-1])
        sizes.append(pacer.size(["t"] * 500))
    assert sizes[0] == 100
    assert sizes[-1] == 500
