"""Messages sent to the buyer (`cs.message.sent.v1`), in the same batches as the buyers'
messages: agent and bot messages keep the session alive (system messages do not), and an
agent's message is the answer to the question the bot could not answer (the insight loop's
gap it links to, `store.gaps.link_replies`).

- decide: the conversation's new activity time and its idle timer re-armed, when the message
  is newer than the conversation's last activity; the agent's answer, masked;
- apply: folded into the batch's state, so a buyer message after it in the batch sees it;
- save (with the buyer messages' gaps, `messages.MessageBatch.save`): every answer of the
  batch linked in one statement, after the batch's new gaps are saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.presale.domain.conversation import Conversation
from services.presale.domain.gaps import GapAnswer, gap_answer
from services.presale.handlers.effects import SESSION_IDLE
from services.presale.handlers.messages import Loaded
from shared.batch import Decision, Item
from shared.contracts import MessageSent
from shared.effects import Effects

TOPIC = "cs.message.sent.v1"


@dataclass(frozen=True)
class SentHeard:
    """A sent message's decision: the conversation kept alive (None: unchanged) and the
    agent's answer to link to a gap (None: not an agent's message)."""

    conversation: Conversation | None
    answer: GapAnswer | None


class SentMessages:
    """The `cs.message.sent.v1` part of presale's batch (`front_desk.FrontDesk`)."""

    def __init__(self, session_gap: timedelta) -> None:
        self.session_gap = session_gap

    def decide(self, state: Loaded, item: Item, now: datetime) -> Decision[SentHeard]:
        m = item.payload
        assert isinstance(m, MessageSent)
        effects = Effects()
        if m.sender_kind == "system":
            return Decision(SentHeard(None, None), effects)
        answer = None
        if m.sender_kind == "agent":
            answer = gap_answer(m.conversation_id, m.text, m.sender_id, m.sent_at,
                                self.session_gap)  # fmt: skip
        conv = state.conversations.get(m.conversation_id)
        alive = conv.sent_to(m.sent_at) if conv is not None else None
        if alive is not None:
            effects.arm(SESSION_IDLE, alive.conversation_id, m.sent_at + self.session_gap,
                        replace=True)  # fmt: skip
        return Decision(SentHeard(alive, answer), effects)

    def apply(self, state: Loaded, decision: Decision[SentHeard]) -> None:
        heard = decision.changes
        if heard.conversation is not None:
            state.conversations[heard.conversation.conversation_id] = heard.conversation
            state.changed.add(heard.conversation.conversation_id)
        if heard.answer is not None:
            state.answers.append(heard.answer)
