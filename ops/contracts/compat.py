"""Is a new event schema backward compatible with the committed one of the same topic?

Topics carry their major version in the name (`….v1`); within one, only compatible changes
are allowed. Two kinds of readers must keep working: subscribers of the events xiaoer emits
(other teams, and xiaoer's own services deployed at another version), and xiaoer's consumers
replaying what is already on a topic. A change is BREAKING when it:

1. removes a topic, or changes its Kafka key or CloudEvents type;
2. removes a property from an event xiaoer emits (subscribers may read it);
3. adds a required property, or makes an optional one required (events already on the topic,
   and producers not yet upgraded, lack it);
4. makes a required property optional on an event xiaoer emits (subscribers rely on it);
5. changes a property's JSON type, nullability included (`string` → `integer`,
   `string` → `string | null`, and the reverse);
6. removes an enum value (events on the topic carry it; subscribers branch on it);
7. adds an enum value to an event xiaoer consumes (a consumer at the previous version
   validates strictly and would dead-letter it: ship the readers first, on a new major);
8. does any of the above inside nested objects, array items or map values.

Compatible: adding an optional property; adding an enum value to an event only others read
(subscribers must tolerate unknown values); editing titles, descriptions and examples;
removing a property from an upstream event (xiaoer just stops reading it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]


@dataclass
class Shape:
    """A property's schema reduced to what compatibility depends on."""

    types: frozenset[str]
    enum: frozenset[Any] | None = None
    properties: dict[str, Schema] | None = None
    required: frozenset[str] = frozenset()
    items: Schema | None = None
    values: Schema | None = None
    refs: list[str] = field(default_factory=list)


def resolve(node: Schema, root: Schema) -> Schema:
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"unsupported $ref {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def shape(node: Schema, root: Schema) -> Shape:
    node = resolve(node, root)
    branches = node.get("anyOf") or node.get("oneOf")
    if branches:
        parts = [shape(b, root) for b in branches]
        merged = Shape(types=frozenset().union(*(p.types for p in parts)))
        enums = [p.enum for p in parts if p.enum is not None]
        merged.enum = frozenset().union(*enums) if enums else None
        for p in parts:
            merged.properties = merged.properties or p.properties
            merged.required = merged.required or p.required
            merged.items = merged.items or p.items
            merged.values = merged.values or p.values
        return merged
    types = node.get("type")
    if "const" in node:
        enum: frozenset[Any] | None = frozenset([node["const"]])
    elif "enum" in node:
        enum = frozenset(node["enum"])
    else:
        enum = None
    if types is None:
        types = sorted({_json_type(v) for v in enum}) if enum else ["any"]
    if isinstance(types, str):
        types = [types]
    values = node.get("additionalProperties")
    return Shape(
        types=frozenset(types),
        enum=enum,
        properties=node.get("properties"),
        required=frozenset(node.get("required", ())),
        items=node.get("items"),
        values=values if isinstance(values, dict) else None,
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "object"


@dataclass(frozen=True)
class Direction:
    emitted: bool
    """xiaoer publishes the topic: subscribers rely on what is there."""
    consumed: bool
    """xiaoer consumes the topic: its strict validation must accept what is sent."""


def compare_topic(name: str, old: Schema, new: Schema, direction: Direction) -> list[str]:
    problems: list[str] = []
    old_x, new_x = old.get("x-xiaoer", {}), new.get("x-xiaoer", {})
    for fact in ("key", "ce_type"):
        if old_x.get(fact) != new_x.get(fact):
            problems.append(
                f"{name}: {fact} changed from {old_x.get(fact)!r} to {new_x.get(fact)!r}"
            )
    _compare(name, "", old, old, new, new, direction, problems)
    return problems


def _compare(
    topic: str,
    path: str,
    old_node: Schema,
    old_root: Schema,
    new_node: Schema,
    new_root: Schema,
    d: Direction,
    out: list[str],
) -> None:
    old, new = shape(old_node, old_root), shape(new_node, new_root)
    where = f"{topic}: {path or '<payload>'}"
    if old.types != new.types and "any" not in old.types:
        out.append(f"{where}: type changed from {_fmt(old.types)} to {_fmt(new.types)}")
        return
    if old.enum is not None and new.enum is not None:
        removed, added = old.enum - new.enum, new.enum - old.enum
        if removed:
            out.append(f"{where}: enum value(s) removed: {_fmt(removed)}")
        if added and d.consumed:
            out.append(f"{where}: enum value(s) added to an event xiaoer consumes: {_fmt(added)}")
    if old.properties is not None or new.properties is not None:
        _compare_object(topic, path, old, old_root, new, new_root, d, out)
    for attr in ("items", "values"):
        o, n = getattr(old, attr), getattr(new, attr)
        if o is not None and n is not None:
            sub = f"{path}[]" if attr == "items" else f"{path}{{}}"
            _compare(topic, sub, o, old_root, n, new_root, d, out)


def _compare_object(
    topic: str,
    path: str,
    old: Shape,
    old_root: Schema,
    new: Shape,
    new_root: Schema,
    d: Direction,
    out: list[str],
) -> None:
    old_props, new_props = old.properties or {}, new.properties or {}
    prefix = f"{path}." if path else ""
    for prop in sorted(old_props):
        where = f"{topic}: {prefix}{prop}"
        if prop not in new_props:
            if d.emitted:
                out.append(f"{where}: property removed (subscribers may read it)")
            continue
        if prop in old.required and prop not in new.required and d.emitted:
            out.append(f"{where}: required property became optional")
        if prop not in old.required and prop in new.required:
            out.append(f"{where}: optional property became required")
        _compare(topic, prefix + prop, old_props[prop], old_root, new_props[prop], new_root, d, out)
    for prop in sorted(set(new_props) - set(old_props)):
        if prop in new.required:
            out.append(f"{topic}: {prefix}{prop}: new required property")


def _fmt(values: frozenset[Any]) -> str:
    return " | ".join(sorted(str(v) for v in values))


def compare_all(
    committed: dict[str, Schema], current: dict[str, Schema], directions: dict[str, Direction]
) -> list[str]:
    problems: list[str] = []
    for name in sorted(committed):
        if name not in current:
            problems.append(f"{name}: topic removed (publish a new major version instead)")
            continue
        problems += compare_topic(name, committed[name], current[name], directions[name])
    return problems
