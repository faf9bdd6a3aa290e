"""Facts in, derived tables refreshed: the incremental half of "KPIs computed from facts".

`Projector.apply` inserts a batch of facts (a known fact is a no-op, `store/facts.py`), then
recomputes, with the pure functions of `domain/`, every conversation, buyer and refund the
new facts touch, and saves them (`store/derived.py`). Whatever order events arrive in, the
derived rows end up the same function of the same facts: late events correct the figures
and a replay equals the live state by construction. It returns the (shop, responder, hour)
cells whose figures may have changed, for snapshots, and the quality flags that appeared
(the ingest emits them as `cs.quality.flagged.v1`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from services.metrics.domain.attribution import attribute_order, last_touch_before
from services.metrics.domain.conversation import derive
from services.metrics.domain.hours import Cell, ConvKey, Key
from services.metrics.domain.quality import inspection
from services.metrics.domain.trade import fold_order, fold_refund
from services.metrics.quality.rulebook import RuleBook
from services.metrics.store import derived, facts
from services.metrics.store.derived import (
    AttributedOrder,
    AttributedRating,
    ConversationState,
    NewFlag,
)
from services.metrics.store.facts import Fact
from shared.contracts import QualityFlagged


@dataclass
class Changes:
    cells: set[Cell] = field(default_factory=set)
    fresh_facts: int = 0
    """New facts of consumed events (what inspection found in them is not counted)."""
    new_flags: list[NewFlag] = field(default_factory=list)
    """Quality flags that did not exist before this batch."""


class Projector:
    def __init__(
        self,
        session_gap: timedelta,
        attribution_window: timedelta,
        rules: RuleBook | None = None,
    ) -> None:
        self.gap = session_gap
        self.window = attribution_window
        self.rules = rules or RuleBook()

    async def apply(self, conn: AsyncConnection, batch: Sequence[Fact]) -> Changes:
        changes = Changes()
        new = await facts.insert(conn, batch)
        changes.fresh_facts = new.fresh
        buyers: set[Key] = set()
        if new.conversations:
            buyers = await self._refresh_conversations(conn, new.conversations, changes)
        if buyers or new.orders:
            await self._refresh_orders(conn, buyers, new.orders, changes)
        if new.refunds:
            events = await facts.refund_events(conn, new.refunds)
            await derived.save_refunds(conn, {k: fold_refund(e) for k, e in events.items()})
        return changes

    async def _refresh_conversations(
        self, conn: AsyncConnection, keys: set[ConvKey], changes: Changes
    ) -> set[Key]:
        """Recompute sessions, rounds, first responses, touches, CSAT and quality of
        conversations; return their (shop, buyer)s, whose orders' attribution may change."""
        f = await facts.conversations(conn, keys)
        states: dict[ConvKey, ConversationState] = {}
        for key in sorted(keys):
            shop, conv = key
            assignments = f.assignments.get(key, [])
            d = derive(f.messages.get(key, []), assignments, self.gap)
            rules = self.rules.for_shop(shop)
            found = inspection.flags(
                shop, conv, f.violations.get(key, []), d.rounds, d.touches, rules.version
            )
            states[key] = ConversationState(
                derived=d,
                flags=found,
                scores=inspection.session_scores(d.touches, found, rules.weights, rules.fail),
                exposures=inspection.exposures(
                    f.risks.get(key, []), d.sessions, assignments, d.touches
                ),
            )
        ratings = []
        for r in f.ratings:
            state = states.get((r.shop_id, r.conversation_id))
            touch = last_touch_before(state.derived.touches if state else [], r.submitted_at)
            ratings.append(AttributedRating(r, touch.responder if touch else None))
        changes.new_flags += await derived.save_conversations(conn, states, ratings, changes.cells)
        return f.buyers

    async def _refresh_orders(
        self, conn: AsyncConnection, buyers: set[Key], touched: set[Key], changes: Changes
    ) -> None:
        """Re-attribute the touched orders and every order of buyers whose chats changed."""
        order_keys = set(touched) | await facts.orders_of_buyers(conn, buyers)
        folded = {
            key: fold_order(evs)
            for key, evs in (await facts.order_events(conn, order_keys)).items()
        }
        order_buyers = {(shop, o.buyer_id) for (shop, _), o in folded.items()}
        touches = await derived.touches_of_buyers(conn, order_buyers)
        orders = [
            AttributedOrder(
                shop,
                order_id,
                order,
                attribute_order(
                    touches.get((shop, order.buyer_id), []), order.created_at, self.window
                ),
            )
            for (shop, order_id), order in sorted(folded.items())
        ]
        await derived.save_orders(conn, order_keys, orders, changes.cells)


def flagged_event(new: NewFlag, now: datetime) -> QualityFlagged:
    """The `cs.quality.flagged.v1` event of a new quality flag."""
    f = new.flag
    return QualityFlagged(
        shop_id=new.shop_id,
        flag_id=f.flag_id,
        conversation_id=new.conversation_id,
        agent_id=f.agent_id,
        message_id=f.message_id,
        category=f.category,
        rule_id=f.rule_id,
        severity=f.severity,
        start=f.start,
        end=f.end,
        suggestion=f.suggestion,
        response_s=f.response_us / 1_000_000 if f.response_us is not None else None,
        rules_version=f.rules_version[:100],
        sent_at=f.at,
        flagged_at=now,
    )
