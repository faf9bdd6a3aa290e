"""Sessions, rounds and first responses of one conversation (KPIS.md "Building blocks").

`derive` is a pure function of the conversation's buyer/agent/bot messages and its
assignments, so the same facts always give the same figures, in whatever order they arrived.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from services.metrics.domain.model import (
    BOT,
    UNASSIGNED,
    Assignment,
    Derived,
    Message,
    Round,
    Session,
    SessionResponder,
    Touch,
)


def chains(messages: Iterable[Message], gap: timedelta) -> list[list[Message]]:
    """Messages in time order, split where one comes `gap` or more after the previous one.

    System messages (reminders, notifications) are no part of any session.
    """
    out: list[list[Message]] = []
    for m in sorted((m for m in messages if m.kind != "system"), key=Message.order_key):
        if out and m.at - out[-1][-1].at < gap:
            out[-1].append(m)
        else:
            out.append([m])
    return out


class Assignments:
    """A conversation's assignments, ordered by `assigned_at` (then event id)."""

    def __init__(self, assignments: Iterable[Assignment]) -> None:
        self._items = sorted(assignments, key=Assignment.order_key)
        self._times = [a.at for a in self._items]

    def current_at(self, at: datetime) -> str | None:
        """The agent of the latest assignment at or before `at`."""
        i = bisect_right(self._times, at)
        return self._items[i - 1].agent_id if i else None

    def any_within(self, start: datetime, end: datetime) -> bool:
        return any(start <= a.at <= end for a in self._items)

    def last_to(self, agent_id: str, start: datetime, end: datetime) -> datetime | None:
        """The latest assignment to `agent_id` with start <= assigned_at <= end."""
        found = None
        for a in self._items:
            if a.agent_id == agent_id and start <= a.at <= end:
                found = a.at
        return found


def derive(
    messages: Sequence[Message], assignments: Sequence[Assignment], gap: timedelta
) -> Derived:
    assigned = Assignments(assignments)
    sessions: list[Session] = []
    rounds: list[Round] = []
    responders: list[SessionResponder] = []
    touches: list[Touch] = []
    for chain in chains(messages, gap):
        first_buyer = next((i for i, m in enumerate(chain) if m.kind == "buyer"), None)
        if first_buyer is None:
            continue  # outbound contact only: not a session
        body = chain[first_buyer:]  # agent/bot messages before it are ignored
        start, last_at = body[0].at, chain[-1].at
        outgoing = [m for m in body if m.kind != "buyer"]
        sessions.append(
            Session(
                buyer_id=body[0].buyer_id,
                start=start,
                last_at=last_at,
                has_bot=any(m.kind == "bot" for m in outgoing),
                has_agent=any(m.kind == "agent" for m in outgoing),
                assignment_inside=assigned.any_within(start, last_at),
            )
        )
        rounds += _rounds(body, start, last_at, assigned)
        responders += _first_responses(outgoing, start, last_at, assigned)
        touches += [Touch(m.at, m.message_id, _who(m), start, m.buyer_id) for m in outgoing]
    return Derived(sessions, rounds, responders, touches)


def _who(m: Message) -> str:
    return BOT if m.kind == "bot" else str(m.responder)


def _rounds(
    body: Sequence[Message], start: datetime, last_at: datetime, assigned: Assignments
) -> list[Round]:
    out: list[Round] = []
    opened: datetime | None = None
    for m in body:
        if m.kind == "buyer":
            if opened is None:
                opened = m.at
        elif opened is not None:
            out.append(Round(opened, start, last_at, _who(m), True, m.at))
            opened = None
    if opened is not None:
        owner = assigned.current_at(opened) or UNASSIGNED
        out.append(Round(opened, start, last_at, owner, False))
    return out


def _first_responses(
    outgoing: Sequence[Message], start: datetime, last_at: datetime, assigned: Assignments
) -> list[SessionResponder]:
    first: dict[str, datetime] = {}
    for m in outgoing:
        first.setdefault(_who(m), m.at)
    out = []
    for who, first_at in first.items():
        clock = None if who == BOT else assigned.last_to(who, start, min(last_at, first_at))
        out.append(SessionResponder(start, who, first_at, clock or start))
    return out
