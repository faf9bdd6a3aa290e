"""The facts the KPI maths read, and what they derive from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

BOT = "bot"
UNASSIGNED = "unassigned"

Kind = Literal["buyer", "agent", "bot", "system"]


@dataclass(frozen=True)
class Message:
    """A message of a conversation. System messages are carried but count for nobody."""

    at: datetime
    kind: Kind
    message_id: str
    responder: str | None = None  # agent id for agents, "bot" for the bot, None for buyers
    buyer_id: str = ""

    def order_key(self) -> tuple[datetime, int, str]:
        """Time order; at the same instant the buyer first, then by message_id."""
        return (self.at, 0 if self.kind == "buyer" else 1, self.message_id)


@dataclass(frozen=True)
class Assignment:
    at: datetime
    agent_id: str
    event_id: str
    event_source: str = ""  # with event_id, the event's identity (CloudEvents source + id)

    def order_key(self) -> tuple[datetime, str, str]:
        return (self.at, self.event_id, self.event_source)


@dataclass(frozen=True)
class Rating:
    """A CSAT rating (its comment, free text, is not kept)."""

    event_id: str
    event_source: str
    shop_id: str
    conversation_id: str
    submitted_at: datetime
    rating: int


@dataclass(frozen=True)
class Session:
    buyer_id: str
    start: datetime  # the first buyer message
    last_at: datetime  # the last message (buyer, agent or bot)
    has_bot: bool
    has_agent: bool
    assignment_inside: bool

    @property
    def bot_resolved(self) -> bool:
        return self.has_bot and not self.has_agent and not self.assignment_inside


@dataclass(frozen=True)
class Round:
    opened_at: datetime
    session_start: datetime
    session_last_at: datetime
    responder: str  # who answered, else the agent assigned when it opened, else "unassigned"
    answered: bool
    closed_at: datetime | None = None

    @property
    def response_us(self) -> int | None:
        return micros(self.closed_at - self.opened_at) if self.closed_at else None


@dataclass(frozen=True)
class SessionResponder:
    """One responder's part in one session: its first message and the clock it answered to."""

    session_start: datetime
    responder: str
    first_at: datetime
    clock_start: datetime

    @property
    def first_response_us(self) -> int:
        return micros(self.first_at - self.clock_start)


@dataclass(frozen=True)
class Touch:
    """An agent/bot message inside a session: what last-touch attribution looks at."""

    at: datetime
    message_id: str
    responder: str
    session_start: datetime
    buyer_id: str = ""

    def order_key(self) -> tuple[datetime, str]:
        return (self.at, self.message_id)


@dataclass(frozen=True)
class Derived:
    """Everything one conversation's messages and assignments yield."""

    sessions: list[Session]
    rounds: list[Round]
    session_responders: list[SessionResponder]
    touches: list[Touch]


def micros(delta: timedelta) -> int:
    """A timedelta as integer microseconds: durations stay exact until they are shown."""
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
