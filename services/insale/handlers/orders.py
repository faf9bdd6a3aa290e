"""Trade events, a batch at a time: `trade.order.changed.v1` and `trade.logistics.updated.v1`.

Each record moves its order's projection on (`domain.follow_up`), whose outcome becomes the
record's effects; the next record of the same order sees the new version.
"""

from __future__ import annotations

from datetime import datetime

from services.insale.domain.follow_up import on_order_changed, on_tracking
from services.insale.domain.orders import Order
from services.insale.domain.outcomes import Outcome
from services.insale.domain.rules import InsaleRules
from services.insale.handlers.effects import to_effects
from services.insale.handlers.state import Changes, Loaded
from shared.batch_logic import Decision
from shared.contracts import LogisticsUpdated, OrderChanged
from shared.effects import Effects
from shared.masking import mask


def order_changed(
    state: Loaded, e: OrderChanged, now: datetime, rules: InsaleRules
) -> Decision[Changes]:
    before = state.orders.get(e.order_id)
    return _decision(state, before, on_order_changed(before, e, rules), now)


def logistics_updated(
    state: Loaded, e: LogisticsUpdated, now: datetime, rules: InsaleRules
) -> Decision[Changes]:
    before = state.orders.get(e.order_id)
    return _decision(state, before, on_tracking(before, e, mask(e.description), rules), now)


def _decision(
    state: Loaded, before: Order | None, out: Outcome, now: datetime
) -> Decision[Changes]:
    changed = out.order if out.order != before else None
    if not out.actions and not out.counters:
        return Decision(Changes(changed), Effects())
    conversation = state.conversation_of(out.order) if out.order.buyer_id else ""
    return Decision(Changes(changed), to_effects(out, conversation, now))
