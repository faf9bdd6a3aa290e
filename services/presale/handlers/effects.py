"""What presale's flows emit, built the same way by the batch and by the per-event handlers:
the session timers, a reply to the buyer (with an id derived from the message's event, so a
redelivery asks for the same reply) and an assignment."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.presale.domain.conversation import Conversation
from services.presale.domain.routing import PRIORITY_NAME
from shared.context import Context
from shared.contracts import ConversationAssigned, ReplyRequested
from shared.contracts.emitted import ReplyKind
from shared.ids import derived_id

SERVICE = "presale"

SESSION_IDLE = "session_idle"
SESSION_RECHECK = "session_idle_recheck"
"""Both kinds run `session_idle`. A timer that fires before its session is idle re-arms the
*other* kind: shared/timer_runner marks the fired row by id after the handler, which would
swallow a re-arm of the same (kind, key) made in that transaction."""


async def arm_idle(
    ctx: Context, conversation_id: str, last_activity: datetime, session_gap: timedelta
) -> None:
    """(Re-)arm the conversation's idle timer: SESSION_GAP after its last activity."""
    await ctx.schedule(SESSION_IDLE, conversation_id, last_activity + session_gap, replace=True)


def reply(
    conv: Conversation,
    in_reply_to: str,
    event_id: str,
    text: str,
    kind: ReplyKind,
    kb_version: int | None,
    now: datetime,
) -> ReplyRequested:
    return ReplyRequested(
        shop_id=conv.shop_id,
        reply_request_id=derived_id(event_id, "reply", kind),
        conversation_id=conv.conversation_id,
        buyer_id=conv.buyer_id,
        in_reply_to=in_reply_to,
        text=text,
        kind=kind,
        requested_by=SERVICE,
        kb_version=kb_version,
        requested_at=now,
    )


def assigned(
    conv: Conversation,
    agent_id: str,
    now: datetime,
    *,
    skill: str,
    priority: int,
    reason: str,
    queued_for_s: float = 0.0,
) -> ConversationAssigned:
    return ConversationAssigned(
        shop_id=conv.shop_id,
        conversation_id=conv.conversation_id,
        buyer_id=conv.buyer_id,
        agent_id=agent_id,
        assigned_at=now,
        reason=reason,
        priority=PRIORITY_NAME[priority],
        skill=skill,
        queued_for_s=queued_for_s,
    )
