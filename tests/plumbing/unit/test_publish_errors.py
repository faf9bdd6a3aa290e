"""Which publish failures park an outbox row, and what a too-large dead letter becomes."""

from __future__ import annotations

import hashlib

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    RequestTimedOutError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)

from shared.cloudevents import Record
from shared.outbox import truncated_dead_letter
from shared.publish_errors import Failure, classify


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (KafkaConnectionError("refused"), Failure.TRANSIENT),
        (KafkaTimeoutError(), Failure.TRANSIENT),
        (RequestTimedOutError(), Failure.TRANSIENT),
        (NotLeaderForPartitionError(), Failure.TRANSIENT),
        (ConnectionResetError(), Failure.TRANSIENT),
        (RuntimeError("anything unknown"), Failure.TRANSIENT),
        (MessageSizeTooLargeError("2 MB"), Failure.TOO_LARGE),
        (TopicAuthorizationFailedError(), Failure.NOT_AUTHORIZED),
        (UnknownTopicOrPartitionError(), Failure.UNKNOWN_TOPIC),
    ],
)
def test_classify(exc: BaseException, kind: Failure) -> None:
    assert classify(exc) is kind
    assert kind.permanent is (kind is not Failure.TRANSIENT)


def test_a_wrapped_permanent_error_is_still_permanent() -> None:
    outer = RuntimeError("publish failed")
    outer.__cause__ = MessageSizeTooLargeError("too big")
    assert classify(outer) is Failure.TOO_LARGE


def test_a_truncated_dead_letter_says_so_and_keeps_the_hash() -> None:
    value = b"x" * 10_000
    letter = Record("t.dlq", "k", value, {"ce_id": "1", "x-dlq-reason": "r" * 10_000})
    copy = truncated_dead_letter(letter, limit=100)
    assert copy.value == value[:100]
    assert copy.key == "k"
    assert copy.topic == "t.dlq"
    assert copy.headers["ce_id"] == "1"
    assert copy.headers["x-dlq-truncated"] == "true"
    assert copy.headers["x-dlq-original-size"] == "10000"
    assert copy.headers["x-dlq-original-sha256"] == hashlib.sha256(value).hexdigest()
    assert len(copy.headers["x-dlq-reason"]) <= 4096
