"""Which failures are transient (retry with backoff) rather than bad input (dead-letter)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from shared.observability import TRANSIENT_RETRIES

log = logging.getLogger(__name__)
T = TypeVar("T")

_PG_TRANSIENT_SQLSTATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "53300",  # too_many_connections
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now
}


def _sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL error code behind a SQLAlchemy or asyncpg exception, if any."""
    seen: set[int] = set()
    found: BaseException | None = exc
    while found is not None and id(found) not in seen:
        seen.add(id(found))
        state = getattr(found, "sqlstate", None)
        if isinstance(state, str):
            return state
        found = getattr(found, "orig", None) or found.__cause__
    return None


def is_lock_busy(exc: BaseException) -> bool:
    """A lock wait that ran past `lock_timeout` (55P03): the row is another transaction's
    for now, nothing is wrong with the work itself."""
    return _sqlstate(exc) == "55P03"


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OSError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, KafkaConnectionError | KafkaTimeoutError | NodeNotReadyError):
        return True
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = getattr(exc, "orig", None)
        cause = getattr(orig, "__cause__", None) or orig
        if isinstance(cause, asyncpg.PostgresConnectionError | asyncpg.InterfaceError):
            return True
        if _sqlstate(exc) in _PG_TRANSIENT_SQLSTATES:
            return True
    if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.InterfaceError):
        return True
    return exc.__cause__ is not None and exc.__cause__ is not exc and is_transient(exc.__cause__)


async def retry_transient(
    attempt: Callable[[], Awaitable[T]], service: str, max_backoff_s: float = 10.0
) -> T:
    """Run `attempt` until it succeeds; transient failures are retried with exponential
    backoff, for ever (the partition waits: nothing is dead-lettered or lost)."""
    backoff = 0.1
    while True:
        try:
            return await attempt()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not is_transient(exc):
                raise
            TRANSIENT_RETRIES.labels(service).inc()
            log.warning("transient failure, retrying in %.1fs: %r", backoff, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff_s)


async def settle_bisecting(
    items: list[T],
    attempt: Callable[[list[T]], Awaitable[None]],
    alone: Callable[[T, Exception], Awaitable[None]],
    service: str,
    max_backoff_s: float = 10.0,
) -> None:
    """Commit `items` with `attempt`, retrying transient failures for ever. A non-transient
    failure (one record's bytes that storage rejects, outside any per-record isolation) splits
    the records in halves until the one that fails is alone; `alone` then settles it (a dead
    letter with the reason): no record can hold its partition, and the others are kept."""
    try:
        await retry_transient(lambda: attempt(items), service, max_backoff_s)
    except Exception as exc:  # not transient: retry_transient re-raises only those
        if len(items) == 1:
            failure = exc  # `exc` is unbound once the except block ends
            await retry_transient(lambda: alone(items[0], failure), service, max_backoff_s)
            return
        log.warning("batch of %d failed (%s); splitting it", len(items), type(exc).__name__)
        middle = len(items) // 2
        await settle_bisecting(items[:middle], attempt, alone, service, max_backoff_s)
        await settle_bisecting(items[middle:], attempt, alone, service, max_backoff_s)
