"""What presale does with each event it consumes, and when its timers fire."""

from __future__ import annotations

from datetime import timedelta

from services.presale import store
from services.presale.domain import replies
from services.presale.domain.nlu import understand
from services.presale.domain.routing import AgentLoad, choose_agent
from shared.cloudevents import Envelope
from shared.context import Context
from shared.contracts import (
    AgentStatusChanged,
    ConversationAssigned,
    ConversationClosed,
    HandoffRequested,
    MessageClassified,
    MessageReceived,
    MessageSent,
    ReplyRequested,
)
from shared.ids import derived_id
from shared.masking import mask
from shared.observability import BUSINESS
from shared.timers import Timer

SESSION_IDLE = "session_idle"
PRIORITY = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
PRIORITY_NAME = {v: k for k, v in PRIORITY.items()}


class Handlers:
    def __init__(self, session_gap: timedelta) -> None:
        self.session_gap = session_gap

    async def message_received(self, ctx: Context, m: MessageReceived, env: Envelope) -> None:
        await store.touch_conversation(
            ctx.conn,
            conversation_id=m.conversation_id,
            shop_id=m.shop_id,
            buyer_id=m.buyer_id,
            buyer_level=m.buyer_level,
            at=m.sent_at,
        )
        conv = await store.get_conversation(ctx.conn, m.conversation_id)
        await self._arm_idle(ctx, m.conversation_id, conv.last_activity_at)
        result = understand(m.text)
        ctx.emit(
            MessageClassified(
                shop_id=m.shop_id,
                message_id=m.message_id,
                conversation_id=m.conversation_id,
                buyer_id=m.buyer_id,
                intent=result.intent,
                confidence=result.confidence,
                stage=result.stage,
                text_masked=mask(m.text),
                item_id=m.item_id,
                order_id=m.order_id,
                buyer_level=m.buyer_level,
                sent_at=m.sent_at,
                classified_at=ctx.now(),
            )
        )
        BUSINESS.labels("presale", f"intent_{result.intent}").inc()
        if conv.state in ("assigned", "queued") or result.stage != "presale":
            return  # a human has it already, or another stage answers it
        if result.intent == "greeting":
            ctx.emit(
                ReplyRequested(
                    shop_id=m.shop_id,
                    reply_request_id=derived_id(env.id, "reply"),
                    conversation_id=m.conversation_id,
                    buyer_id=m.buyer_id,
                    in_reply_to=m.message_id,
                    text=replies.GREETING_REPLY,
                    kind="auto_answer",
                    requested_by="presale",
                    requested_at=ctx.now(),
                )
            )
            BUSINESS.labels("presale", "auto_reply").inc()
            return
        priority = "high" if m.buyer_level == "vip" else "normal"
        await self._hand_off(ctx, m.conversation_id, "presale", priority, f"intent:{result.intent}")

    async def message_sent(self, ctx: Context, m: MessageSent, env: Envelope) -> None:
        """Agent and bot messages keep the session alive; system messages do not."""
        if m.sender_kind == "system":
            return
        conv = await store.get_conversation(ctx.conn, m.conversation_id)
        if conv is None or conv.state == "closed":
            return
        if m.sent_at > conv.last_activity_at:
            await store.set_state(ctx.conn, m.conversation_id, last_activity_at=m.sent_at)
            await self._arm_idle(ctx, m.conversation_id, m.sent_at)

    async def agent_status(self, ctx: Context, a: AgentStatusChanged, env: Envelope) -> None:
        applied = await store.upsert_agent(
            ctx.conn,
            agent_id=a.agent_id,
            shop_id=a.shop_id,
            status=a.status,
            skills=list(a.skills),
            max_concurrent=a.max_concurrent,
            changed_at=a.changed_at,
        )
        if applied and a.status == "online":
            await self._drain(ctx, a.shop_id)

    async def handoff_requested(self, ctx: Context, h: HandoffRequested, env: Envelope) -> None:
        conversation_id = h.conversation_id or f"{h.shop_id}:{h.buyer_id}"
        await store.touch_conversation(
            ctx.conn,
            conversation_id=conversation_id,
            shop_id=h.shop_id,
            buyer_id=h.buyer_id,
            buyer_level=None,
            at=h.requested_at,
        )
        conv = await store.get_conversation(ctx.conn, conversation_id)
        await self._arm_idle(ctx, conversation_id, conv.last_activity_at)
        if conv.state == "assigned":
            return
        skill = "aftersale" if h.skill == "senior" else h.skill
        await self._hand_off(
            ctx, conversation_id, skill, h.priority, f"{h.requested_by}:{h.reason}"
        )

    async def session_idle(self, ctx: Context, timer: Timer) -> None:
        conv = await store.get_conversation(ctx.conn, timer.key)
        if conv is None or conv.state == "closed":
            return
        due = conv.last_activity_at + self.session_gap
        if due > ctx.now():  # activity arrived after the timer was armed
            await self._arm_idle(ctx, timer.key, conv.last_activity_at)
            return
        await store.set_state(ctx.conn, timer.key, state="closed", queued_at=None)
        ctx.emit(
            ConversationClosed(
                shop_id=conv.shop_id,
                conversation_id=conv.conversation_id,
                agent_id=conv.agent_id if conv.state == "assigned" else None,
                closed_at=due,
                reason="idle",
            )
        )
        BUSINESS.labels("presale", "session_closed").inc()
        if conv.state == "assigned":
            await self._drain(ctx, conv.shop_id)

    # -- routing ---------------------------------------------------------------------------
    async def _arm_idle(self, ctx: Context, conversation_id: str, last_activity) -> None:  # type: ignore[no-untyped-def]
        await ctx.schedule(
            SESSION_IDLE, conversation_id, last_activity + self.session_gap, replace=True
        )

    async def _hand_off(
        self, ctx: Context, conversation_id: str, skill: str, priority: str, reason: str
    ) -> None:
        conv = await store.get_conversation(ctx.conn, conversation_id)
        loads = await store.agent_loads(ctx.conn, conv.shop_id)
        agent = choose_agent(loads, skill)
        if agent is not None:
            await self._assign(ctx, conv, agent, skill, PRIORITY[priority], reason)
            return
        await store.set_state(
            ctx.conn,
            conversation_id,
            state="queued",
            skill=skill,
            priority=PRIORITY[priority],
            reason=reason,
            queued_at=ctx.now(),
        )
        BUSINESS.labels("presale", "queued").inc()

    async def _assign(
        self, ctx, conv, agent: AgentLoad, skill: str, priority: int, reason: str
    ) -> None:  # type: ignore[no-untyped-def]
        now = ctx.now()
        await store.set_state(
            ctx.conn,
            conv.conversation_id,
            state="assigned",
            agent_id=agent.agent_id,
            skill=skill,
            priority=priority,
            reason=reason,
            queued_at=None,
        )
        waited = (now - conv.queued_at).total_seconds() if conv.queued_at else 0.0
        ctx.emit(
            ConversationAssigned(
                shop_id=conv.shop_id,
                conversation_id=conv.conversation_id,
                buyer_id=conv.buyer_id,
                agent_id=agent.agent_id,
                assigned_at=now,
                reason=reason,
                priority=PRIORITY_NAME[priority],  # type: ignore[arg-type]
                skill=skill,
                queued_for_s=max(waited, 0.0),
            )
        )
        BUSINESS.labels("presale", "assigned").inc()

    async def _drain(self, ctx: Context, shop_id: str) -> None:
        """Give waiting conversations to agents with free capacity, best priority first."""
        waiting = await store.queued(ctx.conn, shop_id)
        if not waiting:
            return
        loads = {a.agent_id: a for a in await store.agent_loads(ctx.conn, shop_id)}
        for conv in waiting:
            agent = choose_agent(loads.values(), conv.skill or "presale")
            if agent is None:
                continue
            await self._assign(
                ctx, conv, agent, conv.skill or "presale", conv.priority, conv.reason or "queued"
            )
            loads[agent.agent_id] = AgentLoad(
                agent.agent_id, agent.status, agent.skills, agent.max_concurrent, agent.active + 1
            )
