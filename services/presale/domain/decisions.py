"""What the bot decides about a presale buyer message — `Reply`, `Handoff` or `Silent` — and
what it remembers of the conversation between messages (`Memory`). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from shared.contracts import Entities

HandoffReason = Literal[
    "human_agent",
    "negative_sentiment",
    "low_confidence",
    "no_kb",
    "no_kb_answer",
    "no_progress",
    "abuse",
    "threat",
]
Priority = Literal["low", "normal", "high", "urgent"]


@dataclass(frozen=True)
class Memory:
    """What presale remembers about a conversation between messages."""

    item_id: str | None = None
    height_cm: int | None = None
    weight_kg: float | None = None
    last_bot_intent: str | None = None
    bot_streak: int = 0
    awaiting: Literal["size_info", "item"] | None = None
    last_answer: str | None = None

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> Memory:
        """From its stored form; keys this version does not know are ignored."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def stored(self) -> dict[str, Any]:
        """Its stored form (every field is a scalar: a shallow copy is `asdict` without the
        recursive deep copy, which cost ~1 % of presale's CPU per message)."""
        return dict(self.__dict__)

    def heard(self, item_id: str | None, entities: Entities) -> Memory:
        """Fold in what this message tells: the item page, height and weight."""
        return replace(
            self,
            item_id=item_id or self.item_id,
            height_cm=entities.height_cm or self.height_cm,
            weight_kg=entities.weight_kg or self.weight_kg,
        )


@dataclass(frozen=True)
class Reply:
    intent: str
    text: str
    kind: Literal["auto_answer", "clarify"]
    memory: Memory


@dataclass(frozen=True)
class Handoff:
    reason: HandoffReason
    priority: Priority
    memory: Memory


@dataclass(frozen=True)
class Silent:
    why: Literal["other_stage", "acknowledgement"]
    memory: Memory


Decision = Reply | Handoff | Silent
