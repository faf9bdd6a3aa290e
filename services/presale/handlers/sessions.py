"""Sessions: SESSION_GAP of silence ends one (the `session_idle` timers), and every activity
re-arms it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from services.presale.domain.conversation import Conversation
from services.presale.handlers.effects import SERVICE, SESSION_IDLE, SESSION_RECHECK
from services.presale.handlers.routing import Routing
from services.presale.store import conversations as store
from shared.context import Context
from shared.contracts import ConversationClosed
from shared.observability import BUSINESS
from shared.timers import Timer


class Sessions:
    """The `session_idle` timers (both kinds)."""

    def __init__(self, session_gap: timedelta, routing: Routing) -> None:
        self.session_gap = session_gap
        self.routing = routing

    async def session_idle(self, ctx: Context, timer: Timer) -> None:
        """SESSION_GAP of silence ends a session and frees its agent.

        Every session of the shop idle at this instant closes together, then the queue drains
        once, so capacity freed at the same moment is shared fairly among the agents.
        A queued conversation does not close: its buyer is waiting for us, not gone.
        """
        conv = await store.get_conversation(ctx.conn, timer.key)
        if conv is None or conv.state in ("closed", "queued"):
            return
        due = conv.last_activity_at + self.session_gap
        if due > ctx.now():  # activity arrived after the timer was armed
            other = SESSION_RECHECK if timer.kind == SESSION_IDLE else SESSION_IDLE
            await ctx.schedule(other, timer.key, due, replace=True)
            return
        also_idle = await store.idle_conversations(
            ctx.conn, conv.shop_id, ctx.now() - self.session_gap, exclude=conv.conversation_id
        )
        freed = False
        for idle in [conv, *also_idle]:
            await self._close(ctx, idle)
            freed = freed or idle.state == "assigned"
        if freed:
            await self.routing.drain(ctx, conv.shop_id)

    async def _close(self, ctx: Context, conv: Conversation) -> None:
        await store.save_conversation(
            ctx.conn, replace(conv, state="closed", memory={}, recent_texts=())
        )
        ctx.emit(
            ConversationClosed(
                shop_id=conv.shop_id,
                conversation_id=conv.conversation_id,
                agent_id=conv.agent_id if conv.state == "assigned" else None,
                closed_at=conv.last_activity_at + self.session_gap,
                reason="idle",
            )
        )
        BUSINESS.labels(SERVICE, "session_closed").inc()
