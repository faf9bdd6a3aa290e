"""Understanding Chinese buyer messages: intent, confidence, stage, sentiment, entities.

`understand(text, history)` is the one entry point the handlers use. `history` holds the
conversation's recent buyer texts, oldest first, for short replies that only make sense in
context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from services.presale.domain.nlu.rules_greeting import STAGE_OF, classify
from shared.contracts import Entities
from shared.contracts.emitted import Intent, Sentiment, Stage


@dataclass(frozen=True)
class Understanding:
    intent: Intent
    confidence: float
    stage: Stage
    secondary_intents: tuple[Intent, ...] = ()
    sentiment: Sentiment = "neutral"
    entities: Entities = field(default_factory=Entities)


def understand(text: str, history: Sequence[str] = ()) -> Understanding:
    result = classify(text)
    return Understanding(result.intent, result.confidence, STAGE_OF.get(result.intent, "presale"))
