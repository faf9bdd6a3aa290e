"""Understanding Chinese buyer messages: intent, confidence, stage, sentiment, entities.

`understand(text, history, context)` is the one entry point the handlers use. `history` holds
the conversation's recent buyer texts, oldest first, for short replies that only make sense in
context ("那L呢" after "M码有货吗" asks about stock). `context` (optional) is what the services
know about the buyer — the order's phase, the conversation's stage — for questions whose
meaning depends on it (今天发货吗 before and after paying; see `context.py`).

Pipeline: normalise (full-width, traditional characters, Chinese numerals) → entities →
features (character n-grams, cue lexicon, entity flags, the previous message's intent for
elliptic follow-ups) → a linear model shipped as `model.json` (trained offline by
`python -m tools.presale.train`, calibrated by temperature scaling; read from the file by
`services.presale.nlu_loader`, which installs it here with `use_model`) → confidence.
Secondary intents come from classifying each clause of a multi-question message on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast

from services.presale.domain.nlu import entities as entity_extraction
from services.presale.domain.nlu.context import BuyerContext, resolve
from services.presale.domain.nlu.features import core_of, featurize, is_opener
from services.presale.domain.nlu.model import LinearModel
from services.presale.domain.nlu.normalize import emoji_moods, normalize, split_emoji
from services.presale.domain.nlu.sentiment import sentiment_of
from services.presale.domain.nlu.stages import (
    AUTO_ANSWERABLE,
    STAGE_OF,
    is_substantive,
    stage_of,
)
from shared.contracts import Entities
from shared.contracts.emitted import Intent, Sentiment, Stage

__all__ = [
    "AUTO_ANSWERABLE",
    "DEFAULT_AUTO_REPLY_THRESHOLD",
    "STAGE_OF",
    "BuyerContext",
    "Understanding",
    "understand",
    "use_model",
]

# Auto-reply only at or above this confidence. Chosen on the held-out split (bench/presale_nlu.py)
# with the model retrained for issue 16: 0.65 gives 0.987 precision on auto-answerable intents at
# 0.795 presale coverage (0.8 would give 0.987 / 0.748: the recalibrated model is less
# confident); the previous model gave 0.979 / 0.785 at 0.8, so both figures improve.
DEFAULT_AUTO_REPLY_THRESHOLD = 0.65
_SECONDARY_MIN_CONFIDENCE = 0.55
_HISTORY_DEPTH = 2
_CLAUSE_SPLIT = re.compile(
    r"[,，.。!！?？;；~～\n]+|(?:还有|另外|顺便问下|顺便问一下|顺便|然后|再问下|再问一下|以及|并且)"
)


@dataclass(frozen=True)
class Understanding:
    intent: Intent
    confidence: float
    stage: Stage
    secondary_intents: tuple[Intent, ...] = ()
    sentiment: Sentiment = "neutral"
    entities: Entities = field(default_factory=Entities)


_MODEL: list[LinearModel] = []
"""The installed model (none until `use_model`): the domain reads no file."""


def use_model(model: LinearModel) -> None:
    """Install the classifier's model (`services.presale.nlu_loader.install` reads the shipped
    file); memoised intents of a previous model are forgotten."""
    _MODEL[:] = [model]
    _intent_of.cache_clear()


def _model() -> LinearModel:
    if not _MODEL:
        raise RuntimeError(
            "no NLU model installed: call services.presale.nlu_loader.install() at start-up"
        )
    return _MODEL[0]


def _classify(
    clean: str,
    moods: list[str],
    ents: Entities,
    prev: Intent | None,
    context: BuyerContext | None = None,
) -> tuple[Intent, float]:
    model = _model()
    probs = resolve(
        model.classes, model.probabilities(featurize(clean, moods, ents, prev)), context
    )
    best = max(range(len(probs)), key=probs.__getitem__)
    return cast(Intent, model.classes[best]), probs[best]


@lru_cache(maxsize=4096)
def _intent_of(text: str, history: tuple[str, ...]) -> tuple[Intent, float]:
    """Intent of one message given its history (memoised: history messages recur)."""
    clean, emoji = split_emoji(normalize(text))
    prev = _intent_of(history[-1], history[:-1])[0] if history else None
    return _classify(clean, emoji_moods(emoji), entity_extraction.extract(clean), prev)


def _clause_intents(
    clean: str, prev: Intent | None, context: BuyerContext | None
) -> list[tuple[Intent, float]]:
    """Substantive intents asked clause by clause, in order (empty for a one-clause message)."""
    clauses = [c for c in _CLAUSE_SPLIT.split(clean) if len(core_of(c)) >= 2]
    if len(clauses) < 2:
        return []
    found: list[tuple[Intent, float]] = []
    for i, clause in enumerate(clauses):
        if is_opener(core_of(clause)):
            continue
        ents = entity_extraction.extract(clause)
        intent, confidence = _classify(clause, [], ents, prev if i == 0 else None, context)
        if (
            confidence >= _SECONDARY_MIN_CONFIDENCE
            and is_substantive(intent)
            and intent not in (f[0] for f in found)
        ):
            found.append((intent, confidence))
    return found


def understand(
    text: str, history: Sequence[str] = (), context: BuyerContext | None = None
) -> Understanding:
    """Classify one buyer message; `history` = the conversation's earlier buyer texts, oldest
    first; `context` = what is known of the buyer's order and the conversation's stage."""
    clean, emoji = split_emoji(normalize(text))
    moods = emoji_moods(emoji)
    ents = entity_extraction.extract(clean)
    recent = tuple(history)[-_HISTORY_DEPTH:]
    prev = _intent_of(recent[-1], recent[:-1])[0] if recent else None
    intent, confidence = _classify(clean, moods, ents, prev, context)
    asked = _clause_intents(clean, prev, context)
    if len(asked) >= 2 or (asked and not is_substantive(intent)):
        # Several questions: the first one asked leads, the others are secondary.
        intent, confidence = asked[0]
    secondary = tuple(i for i, _ in asked if i != intent)
    exclamations = clean.count("!") + clean.count("！")
    return Understanding(
        intent=intent,
        confidence=round(confidence, 4),
        stage=stage_of(intent),
        secondary_intents=secondary,
        sentiment=sentiment_of(core_of(clean), moods, exclamations),
        entities=ents,
    )
