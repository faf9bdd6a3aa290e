"""FastStream's parser and decoder for the batch subscriber: the records reach the dispatcher
as they came off the wire, whatever their bytes (see docs/architecture.md, the consume path)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any


async def skip_body_decoding(msg: Any) -> None:
    """Skip FastStream's body decoding: the dispatcher decodes and validates every record
    itself, so that malformed JSON is dead-lettered instead of failing the whole batch."""
    return None


async def tolerant_headers(msg: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream decodes every header value as UTF-8 while parsing a batch, before any handler
    runs: one record with a null or non-UTF-8 header value would fail every batch it is in,
    for ever. FastStream parses copies whose header values decode; the raw records it hands
    on stay untouched, and the dispatcher dead-letters such a record like any bad input."""
    records = msg if isinstance(msg, tuple) else (msg,)
    if all(_headers_decode(r.headers) for r in records):
        return await original(msg)  # the usual case: no copy (copying cost ~3% of the CPU)
    copies = tuple(
        r
        if _headers_decode(r.headers)
        else dataclasses.replace(r, headers=[(k, _decodable(v)) for k, v in r.headers])
        for r in records
    )
    parsed = await original(copies if isinstance(msg, tuple) else copies[0])
    parsed.raw_message = msg
    return parsed


def _headers_decode(headers: Sequence[tuple[str, bytes | None]]) -> bool:
    """Every header value is bytes that decode as UTF-8."""
    try:
        for _, value in headers:
            value.decode()  # type: ignore[union-attr]
    except (AttributeError, UnicodeDecodeError):
        return False
    return True


def _decodable(value: bytes | None) -> bytes:
    return (value or b"").decode(errors="replace").encode()
