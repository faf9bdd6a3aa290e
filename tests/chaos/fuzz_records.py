"""Seeded mutations of valid events: the hostile records a careless or malicious producer sends.

Each record starts from the catalog's example of its topic (`ops/contracts/examples.py`) with
fresh ids, then gets zero to three mutations of its value, headers or key: bytes flipped,
fields dropped, retyped and oversized, NUL characters and lone surrogates, amounts beyond
int32 and int64, times centuries away, JSON nested thousands deep, headers corrupted, missing,
duplicated or 100 KB long, unknown shops. The same seed gives the same records.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ops.contracts.examples import EXAMPLES
from shared.cloudevents import encode
from shared.topics import BY_NAME

Headers = list[tuple[str, bytes | None]]

_HUGE_INT = "__HUGE_INT__"
_DEEP = "__DEEP__"
_SURROGATE = "__SURROGATE__"


@dataclass
class FuzzRecord:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers
    mutations: list[str]


@dataclass
class _Draft:
    data: dict[str, Any]
    headers: Headers
    key: bytes | None
    value: bytes | None = None  # set by byte-level mutations, which work on the encoded value


def _strings(data: dict[str, Any]) -> list[str]:
    return [k for k, v in data.items() if isinstance(v, str)]


def _times(data: dict[str, Any]) -> list[str]:
    return [k for k in _strings(data) if k.endswith(("_at", "_time", "timeout", "_by"))]


def _set_header(d: _Draft, name: str, value: bytes | None) -> None:
    d.headers = [(n, v) for n, v in d.headers if n != name] + [(name, value)]


# -- value mutations (on the JSON object) -------------------------------------------------------
def drop_field(rng: random.Random, d: _Draft) -> str:
    name = rng.choice(sorted(d.data))
    del d.data[name]
    return f"drop {name}"


def retype_field(rng: random.Random, d: _Draft) -> str:
    name = rng.choice(sorted(d.data))
    d.data[name] = rng.choice([0, -1, 1.5, True, None, [], {}, "x", [d.data[name]], {"v": 1}])
    return f"retype {name}"


def oversize_id(rng: random.Random, d: _Draft) -> str:
    ids = [k for k in _strings(d.data) if k.endswith("_id")] or _strings(d.data)
    name = rng.choice(ids)
    d.data[name] = "9" * rng.choice([101, 201, 256, 1000, 5000])
    return f"oversize {name}"


def huge_text(rng: random.Random, d: _Draft) -> str:
    name = rng.choice(_strings(d.data))
    d.data[name] = "亲在吗" * rng.choice([700, 6_700])  # 2,100 characters, or 60 KB
    return f"huge text {name}"


def nul_in_string(rng: random.Random, d: _Draft) -> str:
    name = rng.choice(_strings(d.data))
    d.data[name] = d.data[name][:3] + "\x00" + d.data[name][3:]
    return f"NUL in {name}"


def lone_surrogate(rng: random.Random, d: _Draft) -> str:
    name = rng.choice(_strings(d.data))
    d.data[name] = d.data[name] + _SURROGATE
    return f"surrogate in {name}"


def big_number(rng: random.Random, d: _Draft) -> str:
    ints = [k for k, v in d.data.items() if isinstance(v, int) and not isinstance(v, bool)]
    name = rng.choice(ints or sorted(d.data))
    d.data[name] = rng.choice([2**31, 2**31 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, _HUGE_INT])
    return f"big number {name}"


def far_time(rng: random.Random, d: _Draft) -> str:
    names = _times(d.data) or _strings(d.data)
    name = rng.choice(names)
    now = datetime.now(UTC)
    d.data[name] = rng.choice(
        [
            (now + timedelta(days=365 * rng.randint(2, 60))).isoformat(),  # years ahead
            (now - timedelta(days=365 * rng.randint(2, 20))).isoformat(),  # years late
            (now + timedelta(hours=rng.randint(1, 20))).isoformat(),  # a skewed clock
            "9999-12-31T23:59:59+00:00",
            "0001-01-01T00:00:00+00:00",
            "2026-11-11T20:15:03",  # no offset
            "yesterday",
        ]
    )
    return f"far time {name}"


def deep_nesting(rng: random.Random, d: _Draft) -> str:
    name = rng.choice([*sorted(d.data), "extra"])
    d.data[name] = _DEEP
    return f"deep nesting {name}"


def unknown_shop(rng: random.Random, d: _Draft) -> str:
    d.data["shop_id"] = f"shop-unknown-{rng.randrange(10**9)}"
    return "unknown shop"


def extra_fields(rng: random.Random, d: _Draft) -> str:
    d.data[f"x_{rng.randrange(1000)}"] = {"nested": [1, "two", None], "n": rng.random()}
    return "extra field"


def long_list(rng: random.Random, d: _Draft) -> str:
    lists = [k for k, v in d.data.items() if isinstance(v, list)]
    name = rng.choice(lists or ["items"])
    d.data[name] = [1] * 600
    return f"long list {name}"


# -- header, key and byte mutations ------------------------------------------------------------
def drop_header(rng: random.Random, d: _Draft) -> str:
    name = rng.choice(["ce_id", "ce_source", "ce_type", "ce_specversion", "content-type"])
    d.headers = [(n, v) for n, v in d.headers if n != name]
    return f"no {name}"


def duplicate_header(rng: random.Random, d: _Draft) -> str:
    name = rng.choice(["ce_id", "ce_source", "ce_type", "ce_time"])
    same = dict(d.headers).get(name) or b"x"
    d.headers.append((name, rng.choice([same, uuid.uuid4().hex.encode()])))
    return f"duplicate {name}"


def corrupt_header(rng: random.Random, d: _Draft) -> str:
    name = rng.choice(
        ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "ce_subject",
         "content-type", "traceparent", "tracestate", "x-unknown"]
    )  # fmt: skip
    value = rng.choice(
        [
            b"",
            b"a\x00b",
            b"\xff\xfe\xfd",
            b"z" * 300,
            b"y" * 100_000,
            "五".encode() * 70,
            b"00-zzzz-01",
            b"text/plain",
        ]
    )
    _set_header(d, name, value)
    return f"corrupt {name}"


def null_header(rng: random.Random, d: _Draft) -> str:
    name = rng.choice(["ce_id", "ce_source", "x-unknown"])
    _set_header(d, name, None)
    return f"null {name}"


def corrupt_key(rng: random.Random, d: _Draft) -> str:
    d.key = rng.choice([None, b"", b"k\x00ey", b"\xff\xfe", b"k" * 1000])
    return "corrupt key"


def same_id_other_source(rng: random.Random, d: _Draft) -> str:
    _set_header(d, "ce_source", f"/fuzz/other-{rng.randrange(3)}".encode())
    return "other source"


BYTE_MUTATIONS = ("flip bytes", "truncate", "empty value", "null value", "not JSON")

VALUE_MUTATIONS: list[Callable[[random.Random, _Draft], str]] = [
    drop_field, retype_field, oversize_id, huge_text, nul_in_string, lone_surrogate,
    big_number, far_time, deep_nesting, unknown_shop, extra_fields, long_list,
]  # fmt: skip
HEADER_MUTATIONS: list[Callable[[random.Random, _Draft], str]] = [
    drop_header, duplicate_header, corrupt_header, null_header, corrupt_key,
    same_id_other_source,
]  # fmt: skip


def _fresh(rng: random.Random, data: dict[str, Any]) -> dict[str, Any]:
    """The example with new ids (a few hundred keys per topic, so entities recur)."""
    out = dict(data)
    for name, value in data.items():
        if name in ("message_id", "reply_request_id", "handoff_id"):
            out[name] = uuid.UUID(int=rng.getrandbits(128)).hex
        elif name.endswith("_id") and name != "shop_id" and isinstance(value, str):
            out[name] = f"{value[:40]}-{rng.randrange(300)}"
    return out


def _encode_value(rng: random.Random, data: dict[str, Any]) -> bytes:
    text = json.dumps(data, ensure_ascii=False)
    text = text.replace(f'"{_HUGE_INT}"', "1" + "0" * 5000)
    text = text.replace(_SURROGATE, "\\ud800")
    depth = rng.choice([50, 3000])  # the second is deeper than Python's recursion limit
    return text.replace(f'"{_DEEP}"', "[" * depth + "]" * depth).encode()


def _bytes(rng: random.Random, kind: str, value: bytes) -> bytes | None:
    if kind == "flip bytes":
        b = bytearray(value)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if kind == "truncate":
        return value[: rng.randrange(len(value))]
    if kind == "empty value":
        return b""
    if kind == "null value":
        return None
    return rng.choice([b"not json", b"[1,2,3]", b'"text"', b"\xff\xfe\x00\x00", b"{" * 10])


class Mutator:
    """Makes `count` records for a topic; `pristine` of them unmutated (but with fresh ids)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def records(self, topic_name: str, count: int, pristine: float = 0.25) -> list[FuzzRecord]:
        rng = random.Random(f"{self.seed}:{topic_name}")
        topic = BY_NAME[topic_name]
        example = EXAMPLES[topic_name].model_dump(mode="json")
        base_headers = {
            k: v.encode()
            for k, v in encode(topic, EXAMPLES[topic_name], source="/fuzz/upstream").headers.items()
        }
        out: list[FuzzRecord] = []
        previous: FuzzRecord | None = None
        for _ in range(count):
            if previous is not None and rng.random() < 0.03:  # a redelivery, byte for byte
                out.append(
                    FuzzRecord(
                        topic_name, previous.key, previous.value, previous.headers, ["resend"]
                    )
                )
                continue
            data = _fresh(rng, example)
            key = str(data[topic.key_field]).encode()
            headers = {
                **base_headers,
                "ce_id": uuid.UUID(int=rng.getrandbits(128)).bytes.hex().encode(),
                "ce_subject": key,
            }
            draft = _Draft(data, list(headers.items()), key)
            mutations: list[str] = []
            if rng.random() >= pristine:
                for _ in range(rng.choice([1, 1, 1, 2, 3])):
                    roll = rng.random()
                    if roll < 0.55:
                        mutations.append(rng.choice(VALUE_MUTATIONS)(rng, draft))
                    elif roll < 0.85:
                        mutations.append(rng.choice(HEADER_MUTATIONS)(rng, draft))
                    else:
                        mutations.append(rng.choice(BYTE_MUTATIONS))
            value = _encode_value(rng, draft.data)
            for kind in mutations:
                if kind in BYTE_MUTATIONS:
                    value = _bytes(rng, kind, value or b"{}")
            if value is None and draft.key is None:  # Kafka clients refuse a record of neither
                draft.key = b""
            record = FuzzRecord(topic_name, draft.key, value, draft.headers, mutations)
            out.append(record)
            previous = record
        return out
