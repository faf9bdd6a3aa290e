"""Insale's flows: trade events (`orders`), buyer questions (`questions`), timer firings
(`timers`); `batch` runs the consumed topics on the batch pattern, `effects` turns domain
outcomes into events, timers and counters."""

from services.insale.handlers.effects import SERVICE, effect_id

__all__ = ["SERVICE", "effect_id"]
