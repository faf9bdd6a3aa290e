"""Messages sent to the buyer (`cs.message.sent.v1`): agent and bot messages keep the session
alive (system messages do not), and an agent's message is the answer to the question the bot
could not answer (the insight loop's gap it links to, `store.gaps.link_reply`)."""

from __future__ import annotations

from datetime import timedelta

from services.presale.handlers.effects import arm_idle
from services.presale.store import conversations as store
from services.presale.store import gaps
from shared.cloudevents import Envelope
from shared.context import Context
from shared.contracts import MessageSent


class AgentMessages:
    def __init__(self, session_gap: timedelta) -> None:
        self.session_gap = session_gap

    async def message_sent(self, ctx: Context, m: MessageSent, env: Envelope) -> None:
        if m.sender_kind == "system":
            return
        if m.sender_kind == "agent":
            await gaps.link_reply(
                ctx.conn, m.conversation_id, m.text, m.sender_id, m.sent_at, self.session_gap
            )
        conv = await store.get_conversation(ctx.conn, m.conversation_id)
        if conv is None or conv.state == "closed":
            return
        if m.sent_at > conv.last_activity_at:
            await store.mark_activity(ctx.conn, m.conversation_id, m.sent_at)
            await arm_idle(ctx, m.conversation_id, m.sent_at, self.session_gap)
