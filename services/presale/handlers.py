"""What presale does with each event it consumes, and when its timers fire."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row

from services.presale import gap_store, store
from services.presale.domain import routing
from services.presale.domain.routing import PRIORITY, PRIORITY_NAME, AgentLoad, Waiting
from services.presale.kb.repository import KbCache
from shared.cloudevents import Envelope
from shared.context import Context
from shared.contracts import (
    AgentStatusChanged,
    ConversationAssigned,
    ConversationClosed,
    HandoffRequested,
    MessageSent,
)
from shared.observability import BUSINESS
from shared.timers import Timer

SESSION_IDLE = "session_idle"
SESSION_RECHECK = "session_idle_recheck"
"""Both kinds run `session_idle`. A timer that fires before its session is idle re-arms the
*other* kind: shared/timer_runner marks the fired row by id after the handler, which would
swallow a re-arm of the same (kind, key) made in that transaction."""


class Handlers:
    """Presale's rarer events one at a time (buyer messages: `messages.MessageBatch`)."""

    def __init__(self, session_gap: timedelta, kbs: KbCache | None = None) -> None:
        self.session_gap = session_gap
        self.kbs = kbs or KbCache()

    async def message_sent(self, ctx: Context, m: MessageSent, env: Envelope) -> None:
        """Agent and bot messages keep the session alive; system messages do not. An agent's
        message is the answer to the question the bot could not answer (the insight loop)."""
        if m.sender_kind == "system":
            return
        if m.sender_kind == "agent":
            await gap_store.link_reply(
                ctx.conn, m.conversation_id, m.text, m.sender_id, m.sent_at, self.session_gap
            )
        conv = await store.get_conversation(ctx.conn, m.conversation_id)
        if conv is None or conv.state == "closed":
            return
        if m.sent_at > conv.last_activity_at:
            await store.set_state(ctx.conn, m.conversation_id, last_activity_at=m.sent_at)
            await self._arm_idle(ctx, m.conversation_id, m.sent_at)

    async def agent_status(self, ctx: Context, a: AgentStatusChanged, env: Envelope) -> None:
        """Keep the roster; offline agents hand their chats back; new capacity drains the queue."""
        applied = await store.upsert_agent(
            ctx.conn,
            agent_id=a.agent_id,
            shop_id=a.shop_id,
            status=a.status,
            skills=list(a.skills),
            max_concurrent=a.max_concurrent,
            changed_at=a.changed_at,
        )
        if not applied:
            return  # an older status arrived late
        if a.status == "offline":
            await self._requeue_from(ctx, a.agent_id, a.changed_at)
        await self._drain(ctx, a.shop_id)

    async def handoff_requested(self, ctx: Context, h: HandoffRequested, env: Envelope) -> None:
        """Insale or aftersale asks for a human: routed like presale's own hand-offs."""
        conversation_id = h.conversation_id or f"{h.shop_id}:{h.buyer_id}"
        await store.touch_conversation(
            ctx.conn,
            conversation_id=conversation_id,
            shop_id=h.shop_id,
            buyer_id=h.buyer_id,
            buyer_level=None,
            at=h.requested_at,
        )
        if h.refund_id is not None:  # a case is open: the classifier reads the chat as after-sale
            await store.set_state(ctx.conn, conversation_id, stage="aftersale")
        conv = await store.get_conversation(ctx.conn, conversation_id)
        assert conv is not None
        await self._arm_idle(ctx, conversation_id, conv.last_activity_at)
        skill = routing.required_skill(h.skill)
        priority = PRIORITY[h.priority]
        reason = f"{h.requested_by}:{h.reason}"
        if conv.state == "assigned":
            holder = next(
                (a for a in await store.agent_loads(ctx.conn, h.shop_id) if a.agent_id == conv.agent_id),
                None,
            )  # fmt: skip
            if holder is not None and skill in holder.skills:
                return  # the agent on it can do this too
        if conv.state == "queued":
            await store.set_state(
                ctx.conn,
                conversation_id,
                skill=skill,
                priority=max(priority, conv.priority),
                reason=reason,
            )
            await self._drain(ctx, h.shop_id)
            return
        await self._hand_off(ctx, conv, skill, priority, reason)

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
            await self._drain(ctx, conv.shop_id)

    async def _close(self, ctx: Context, conv: Row[Any]) -> None:
        await store.set_state(
            ctx.conn, conv.conversation_id, state="closed", memory={}, recent_texts=[]
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
        BUSINESS.labels("presale", "session_closed").inc()

    # -- routing ---------------------------------------------------------------------------
    async def _arm_idle(self, ctx: Context, conversation_id: str, last_activity: datetime) -> None:
        await ctx.schedule(
            SESSION_IDLE, conversation_id, last_activity + self.session_gap, replace=True
        )

    async def _hand_off(
        self, ctx: Context, conv: Row[Any], skill: str, priority: int, reason: str
    ) -> str | None:
        """Assign the conversation now if someone can take it, else queue it. Returns the agent."""
        loads = await store.agent_loads(ctx.conn, conv.shop_id)
        if conv.state == "assigned":  # moving to someone with the needed skill
            loads = [
                AgentLoad(a.agent_id, a.status, a.skills, a.max_concurrent, a.active - 1, a.assigned_total)
                if a.agent_id == conv.agent_id else a
                for a in loads
            ]  # fmt: skip
        agent = routing.choose_agent(
            loads, skill, vip=conv.buyer_level == "vip", previous=conv.last_agent_id
        )
        if agent is not None:
            await self._assign(ctx, conv, agent.agent_id, skill, priority, reason, waited_from=None)
            return agent.agent_id
        await store.set_state(
            ctx.conn,
            conv.conversation_id,
            state="queued",
            agent_id=None,
            skill=skill,
            priority=priority,
            reason=reason,
            queued_at=ctx.now(),
        )
        BUSINESS.labels("presale", "queued").inc()
        return None

    async def _assign(
        self,
        ctx: Context,
        conv: Row[Any],
        agent_id: str,
        skill: str,
        priority: int,
        reason: str,
        waited_from: datetime | None,
    ) -> None:
        now = ctx.now()
        active_from = max(now, conv.last_activity_at)  # a fresh assignment is not idle
        await store.set_state(
            ctx.conn,
            conv.conversation_id,
            state="assigned",
            agent_id=agent_id,
            last_agent_id=agent_id,
            skill=skill,
            priority=priority,
            reason=reason,
            queued_at=None,
            last_activity_at=active_from,
        )
        await store.count_assignment(ctx.conn, agent_id)
        await self._arm_idle(ctx, conv.conversation_id, active_from)
        waited = (now - waited_from).total_seconds() if waited_from else 0.0
        ctx.emit(
            ConversationAssigned(
                shop_id=conv.shop_id,
                conversation_id=conv.conversation_id,
                buyer_id=conv.buyer_id,
                agent_id=agent_id,
                assigned_at=now,
                reason=reason,
                priority=PRIORITY_NAME[priority],
                skill=skill,
                queued_for_s=max(waited, 0.0),
            )
        )
        BUSINESS.labels("presale", "assigned").inc()

    async def _requeue_from(self, ctx: Context, agent_id: str, at: datetime) -> None:
        """An agent went offline: their buyers wait again, as urgently as a VIP."""
        for conv in await store.assigned_to(ctx.conn, agent_id):
            await store.set_state(
                ctx.conn,
                conv.conversation_id,
                state="queued",
                agent_id=None,
                priority=max(conv.priority, PRIORITY["high"]),
                reason=f"reassigned:{agent_id}_offline",
                queued_at=at,
            )
            BUSINESS.labels("presale", "requeued").inc()

    async def _drain(self, ctx: Context, shop_id: str) -> None:
        """Give waiting conversations to agents with free capacity, best priority first."""
        loads = await store.agent_loads(ctx.conn, shop_id)  # locks the roster first
        rows = {r.conversation_id: r for r in await store.queued(ctx.conn, shop_id)}
        if not rows:
            return
        waiting = [
            Waiting(r.conversation_id, r.skill or "presale", r.priority, r.queued_at,
                    vip=r.buyer_level == "vip", last_agent_id=r.last_agent_id)
            for r in rows.values()
        ]  # fmt: skip
        for w, agent_id in routing.drain(waiting, loads):
            row = rows[w.conversation_id]
            await self._assign(ctx, row, agent_id, w.skill, w.priority, row.reason or "queued",
                               waited_from=row.queued_at)  # fmt: skip
