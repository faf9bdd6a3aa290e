"""JSON Schema (draft 2020-12) of every event payload, from its pydantic model.

The schema describes what a reader may rely on and what a producer must send: it is the
pydantic model's validation schema, plus `x-xiaoer` facts about the topic (key, CloudEvents
type, producers, consumers) that are part of the contract as well.
"""

from __future__ import annotations

from typing import Any

from ops.topology import consumers_of, producers
from shared.topics import TOPICS, Topic

Schema = dict[str, Any]
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def event_schema(t: Topic) -> Schema:
    body = t.model.model_json_schema(mode="validation")
    schema: Schema = {
        "$schema": DIALECT,
        "$id": f"https://xiaoer.example/schemas/{t.name}.json",
        "title": t.model.__name__,
        "description": (t.model.__doc__ or t.description).strip(),
        "x-xiaoer": {
            "topic": t.name,
            "ce_type": t.ce_type,
            "key": t.key_field,
            "producers": list(producers(t)),
            "consumers": list(consumers_of(t)),
        },
    }
    for key, value in body.items():
        if key not in ("title", "description"):
            schema[key] = value
    return schema


def all_schemas() -> dict[str, Schema]:
    return {t.name: event_schema(t) for t in TOPICS}
