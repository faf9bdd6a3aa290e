"""Re-drive dead letters: publish the original bytes and headers back to the original topic.

The copy keeps its `ce_id` and `traceparent`, so it continues the original trace and the
consumers' inboxes recognise it; only the `x-dlq-*` headers are dropped. See `ledger` for
why each dead letter is re-driven once, however often the command runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from ops.dlq.ledger import PENDING, REDRIVEN, Ledger, opened
from ops.dlq.records import DeadLetter, read_all


@dataclass(frozen=True)
class Selection:
    """Which dead letters to act on; every given criterion must match."""

    positions: frozenset[str] = frozenset()
    ce_ids: frozenset[str] = frozenset()
    reason_contains: str | None = None

    def matches(self, d: DeadLetter) -> bool:
        if self.positions and d.position not in self.positions:
            return False
        if self.ce_ids and d.ce_id not in self.ce_ids:
            return False
        return not (self.reason_contains and self.reason_contains not in d.reason)


@dataclass(frozen=True)
class Outcome:
    letter: DeadLetter
    action: str  # "redriven", "already redriven", "would redrive", "skipped: ..."


async def statuses(letters: Iterable[DeadLetter], ledger: Ledger | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in letters:
        if ledger is None or d.consumer is None:
            out[d.position] = "unknown"
        else:
            out[d.position] = await ledger.status(d.consumer, d.position)
    return out


async def redrive(
    bootstrap: str,
    database_url: str,
    topics: Sequence[str],
    selection: Selection,
    *,
    dry_run: bool = False,
) -> list[Outcome]:
    letters = [d for d in await read_all(bootstrap, list(topics)) if selection.matches(d)]
    outcomes: list[Outcome] = []
    async with AsyncExitStack() as stack:
        ledger = await stack.enter_async_context(opened(database_url))
        producer: AIOKafkaProducer | None = None
        for d in letters:
            if d.consumer is None:
                outcomes.append(Outcome(d, "skipped: no x-dlq-consumer header"))
                continue
            status = await ledger.status(d.consumer, d.position)
            if status == REDRIVEN:
                outcomes.append(Outcome(d, "already redriven"))
                continue
            if dry_run:
                outcomes.append(Outcome(d, "would redrive"))
                continue
            if producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=bootstrap, acks="all", enable_idempotence=False
                )
                await producer.start()
                stack.push_async_callback(producer.stop)
            if status == PENDING:
                await ledger.release(
                    d.consumer, d.position, d.dlq_topic, d.ce_id if d.handler_failed else None
                )
            await producer.send_and_wait(
                d.original_topic, d.value, key=d.key, headers=d.original_headers()
            )
            await ledger.mark_done(d.consumer, d.position, d.dlq_topic)
            outcomes.append(Outcome(d, "redriven"))
    return outcomes
