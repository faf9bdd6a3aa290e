"""Which publish failures the outbox relay retries for ever and which park a row.

Transient (broker down, leader moving, timeouts): retry, never park — the backlog waits.
Permanent (the broker will never take this record as it is): park the row with its reason, so
it blocks nothing. An unknown topic is permanent only after a few attempts, because a topic that
is being created (or a cluster that is still electing leaders) answers the same way at first.
"""

from __future__ import annotations

from enum import Enum

from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    CorruptRecordException,
    InvalidTopicError,
    MessageSizeTooLargeError,
    PolicyViolationError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
    UnsupportedForMessageFormatError,
)


class Failure(Enum):
    TRANSIENT = "transient"
    TOO_LARGE = "too_large"
    UNKNOWN_TOPIC = "unknown_topic"
    NOT_AUTHORIZED = "not_authorized"
    INVALID = "invalid"

    @property
    def permanent(self) -> bool:
        return self is not Failure.TRANSIENT


_KINDS: tuple[tuple[tuple[type[BaseException], ...], Failure], ...] = (
    ((MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError), Failure.TOO_LARGE),
    ((TopicAuthorizationFailedError, ClusterAuthorizationFailedError), Failure.NOT_AUTHORIZED),
    ((UnknownTopicOrPartitionError,), Failure.UNKNOWN_TOPIC),
    (
        (
            InvalidTopicError,
            PolicyViolationError,
            UnsupportedForMessageFormatError,
            CorruptRecordException,
        ),
        Failure.INVALID,
    ),
)


def classify(exc: BaseException) -> Failure:
    """The kind of a publish failure; anything not known to be permanent is transient."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for types, kind in _KINDS:
            if isinstance(current, types):
                return kind
        current = current.__cause__ or current.__context__
    return Failure.TRANSIENT


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
