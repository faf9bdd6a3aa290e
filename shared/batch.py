"""The batch pattern: load, decide, save — a consumed batch in a handful of statements.

A service's `BatchLogic` sees the whole batch at once:

1. **load** — every aggregate the batch touches, one query per table
   (`… WHERE id IN (SELECT unnest($1)) FOR UPDATE`, `shared.sql_arrays`);
2. **decide** — a pure function per record, in record (so per-key) order, on the loaded
   state: it returns a `Decision` (the new aggregates and the `Effects` — `shared/effects.py`,
   pure, so domains may build them: events to emit, timers to arm or cancel, business
   counters); `apply` folds it into the state so the next record of the same key sees it;
3. **settle** — an optional batch-level step after all decisions (presale routes every
   hand-off of a shop under one lock of its agents); it may add effects to decisions;
4. **save** — the changed aggregates in bulk statements; then timers in bulk and every
   emitted event in one outbox statement.

`BatchConsumer` runs it behind the runtime's `ConsumePath` (`process(records)`) with the
guarantees of the shared `Dispatcher`: one inbox statement per batch (duplicates skipped),
bad input dead-lettered, a decision that raises dead-letters only its record, a load, settle
or save that fails (not transiently) is retried on halves of the batch until the offending
record is alone and dead-lettered — the batch never rewinds. Transient failures roll the
whole transaction back and retry it with backoff, for ever. Topics whose events are rare and
stateful in other ways may keep ordinary per-event handlers (`handlers=`), each in its own
savepoint, in the same transaction, before the batch is loaded.

Tracing follows the OpenTelemetry messaging conventions for batch consumers: a span per
batch (`process <topic>`, kind CONSUMER, `shared/tracing.py`) linked to every record's
context, and a child span per decided record in the record's own trace; the events and timers a record produces carry
that span's trace context.

The pieces: `shared/batch_logic.py` (the contract: `BatchLogic`, `Item`, `Decision`,
`Decided`), `shared/batch_consumer.py` (`BatchConsumer`), `shared/timer_writes.py`
(`write_timers`). Their public names are importable from here.
"""

from shared.batch_consumer import BatchConsumer
from shared.batch_logic import BatchLogic, Decided, Decision, Item
from shared.timer_writes import write_timers

__all__ = ["BatchConsumer", "BatchLogic", "Decided", "Decision", "Item", "write_timers"]
