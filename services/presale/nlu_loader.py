"""The classifier's runtime data, read from the files shipped with the service (the domain reads
no file): `domain/nlu/model.json`, the trained intent model, and `domain/nlu/buyer_texts.json`,
the training set's buyer texts (the insight loop's "buyers' language in general"). Both are
written by `python -m tools.presale.train`; nothing is downloaded.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from services.presale.domain.nlu import use_model
from services.presale.domain.nlu.model import LinearModel
from services.presale.domain.textsim import canonical

NLU_DIR = Path(__file__).resolve().parent / "domain" / "nlu"
MODEL_PATH = NLU_DIR / "model.json"
BUYER_TEXTS_PATH = NLU_DIR / "buyer_texts.json"


def load(path: Path = MODEL_PATH) -> LinearModel:
    """Read the shipped model."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RuntimeError(
            f"NLU model file {path} is missing: run `uv run python -m tools.presale.train`"
        ) from exc
    return LinearModel.from_json(data)


@cache
def install() -> LinearModel:
    """Read the shipped model once per process and hand it to the classifier."""
    model = load()
    use_model(model)
    return model


@cache
def buyer_language() -> tuple[str, ...]:
    """Buyers' messages in general (the classifier's training texts, canonical): a suggested
    keyword must be rare there (`domain.suggestions.MAX_COMMON`)."""
    texts = json.loads(BUYER_TEXTS_PATH.read_text(encoding="utf-8"))
    return tuple(c for text in texts if (c := canonical(text)))
