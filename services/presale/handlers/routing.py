"""Agents and hand-offs one event at a time: the roster (`cs.agent.status.v1`: offline agents
hand their chats back, new capacity drains the queue) and hand-offs asked by insale or
aftersale (`cs.handoff.requested.v1`), routed like presale's own. (Presale's own hand-offs are
routed once per batch: `messages.MessageBatch.settle`.)"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from services.presale.domain import routing
from services.presale.domain.conversation import Conversation
from services.presale.domain.routing import PRIORITY, AgentLoad, Waiting
from services.presale.handlers.effects import SERVICE, arm_idle, assigned
from services.presale.store import agents as agent_store
from services.presale.store import conversations as store
from shared.cloudevents import Envelope
from shared.context import Context
from shared.contracts import AgentStatusChanged, HandoffRequested
from shared.conversations import fallback_conversation
from shared.observability import BUSINESS


class Routing:
    """`agent_status` and `handoff_requested`; `drain` gives waiting chats to free agents."""

    def __init__(self, session_gap: timedelta) -> None:
        self.session_gap = session_gap

    async def agent_status(self, ctx: Context, a: AgentStatusChanged, env: Envelope) -> None:
        """Keep the roster; offline agents hand their chats back; new capacity drains the queue."""
        await agent_store.lock_shops(ctx.conn, [a.shop_id])  # the roster changes under the lock
        applied = await agent_store.upsert_agent(
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
        await self.drain(ctx, a.shop_id)

    async def handoff_requested(self, ctx: Context, h: HandoffRequested, env: Envelope) -> None:
        """Insale or aftersale asks for a human: routed like presale's own hand-offs."""
        conversation_id = h.conversation_id or fallback_conversation(h.shop_id, h.buyer_id)
        await store.touch_conversation(
            ctx.conn,
            conversation_id=conversation_id,
            shop_id=h.shop_id,
            buyer_id=h.buyer_id,
            buyer_level=None,
            at=h.requested_at,
        )
        conv = await store.get_conversation(ctx.conn, conversation_id)
        assert conv is not None
        if h.refund_id is not None:  # a case is open: the classifier reads the chat as after-sale
            conv = replace(conv, stage="aftersale")
            await store.save_conversation(ctx.conn, conv)
        await arm_idle(ctx, conversation_id, conv.last_activity_at, self.session_gap)
        skill = routing.required_skill(h.skill)
        priority = PRIORITY[h.priority]
        reason = f"{h.requested_by}:{h.reason}"
        if conv.state == "assigned":
            holder = next(
                (a for a in await agent_store.agent_loads(ctx.conn, h.shop_id)
                 if a.agent_id == conv.agent_id),
                None,
            )  # fmt: skip
            if holder is not None and skill in holder.skills:
                return  # the agent on it can do this too
        if conv.state == "queued":
            conv = replace(conv, skill=skill, priority=max(priority, conv.priority), reason=reason)
            await store.save_conversation(ctx.conn, conv)
            await self.drain(ctx, h.shop_id)
            return
        await self._hand_off(ctx, conv, skill, priority, reason)

    async def _hand_off(
        self, ctx: Context, conv: Conversation, skill: str, priority: int, reason: str
    ) -> str | None:
        """Assign the conversation now if someone can take it, else queue it. Returns the agent."""
        loads = await agent_store.agent_loads(ctx.conn, conv.shop_id)
        if conv.state == "assigned":  # moving to someone with the needed skill
            loads = [
                AgentLoad(a.agent_id, a.status, a.skills, a.max_concurrent, a.active - 1, a.assigned_total)
                if a.agent_id == conv.agent_id else a
                for a in loads
            ]  # fmt: skip
        agent = routing.choose_agent(loads, skill, vip=conv.vip, previous=conv.last_agent_id)
        if agent is not None:
            await self._assign(ctx, conv, agent.agent_id, skill, priority, reason, waited_from=None)
            return agent.agent_id
        await store.save_conversation(
            ctx.conn,
            replace(conv, state="queued", agent_id=None, skill=skill, priority=priority,
                    reason=reason, queued_at=ctx.now()),
        )  # fmt: skip
        BUSINESS.labels(SERVICE, "queued").inc()
        return None

    async def _assign(
        self,
        ctx: Context,
        conv: Conversation,
        agent_id: str,
        skill: str,
        priority: int,
        reason: str,
        waited_from: datetime | None,
    ) -> None:
        now = ctx.now()
        active_from = max(now, conv.last_activity_at)  # a fresh assignment is not idle
        await store.save_conversation(
            ctx.conn,
            replace(conv, state="assigned", agent_id=agent_id, last_agent_id=agent_id,
                    skill=skill, priority=priority, reason=reason, queued_at=None,
                    last_activity_at=active_from),
        )  # fmt: skip
        await agent_store.count_assignment(ctx.conn, agent_id)
        await arm_idle(ctx, conv.conversation_id, active_from, self.session_gap)
        waited = (now - waited_from).total_seconds() if waited_from else 0.0
        ctx.emit(
            assigned(conv, agent_id, now, skill=skill, priority=priority, reason=reason,
                     queued_for_s=max(waited, 0.0))
        )  # fmt: skip
        BUSINESS.labels(SERVICE, "assigned").inc()

    async def _requeue_from(self, ctx: Context, agent_id: str, at: datetime) -> None:
        """An agent went offline: their buyers wait again, as urgently as a VIP."""
        for conv in await store.assigned_to(ctx.conn, agent_id):
            await store.save_conversation(
                ctx.conn,
                replace(conv, state="queued", agent_id=None,
                        priority=max(conv.priority, PRIORITY["high"]),
                        reason=f"reassigned:{agent_id}_offline", queued_at=at),
            )  # fmt: skip
            BUSINESS.labels(SERVICE, "requeued").inc()

    async def drain(self, ctx: Context, shop_id: str) -> None:
        """Give waiting conversations to agents with free capacity, best priority first."""
        loads = await agent_store.agent_loads(ctx.conn, shop_id)  # locks the shop first
        room = routing.queue_room(loads)
        if not room:
            return  # nobody free: the queue is not read at all
        queued = {c.conversation_id: c for c in await store.queued(ctx.conn, shop_id, room)}
        if not queued:
            return
        waiting = [  # a queued conversation always has its queued_at (the fallback is for types)
            Waiting(c.conversation_id, c.skill or "presale", c.priority,
                    c.queued_at or c.last_activity_at, vip=c.vip, last_agent_id=c.last_agent_id)
            for c in queued.values()
        ]  # fmt: skip
        for w, agent_id in routing.drain(waiting, loads):
            conv = queued[w.conversation_id]
            await self._assign(ctx, conv, agent_id, w.skill, w.priority, conv.reason or "queued",
                               waited_from=conv.queued_at)  # fmt: skip
