"""Presale's flows, one module per flow:

- `messages` — buyer messages a batch at a time (`MessageBatch`, the batch pattern: classify,
  answer or hand off, route the batch's hand-offs once per shop, save in bulk);
- `agent_messages` — messages sent to buyers, in the same batches: sessions kept alive,
  agents' replies linked to the questions the bot did not answer;
- `order_feed` — `trade.order.changed.v1` in the same batches: each buyer's latest order,
  which the messages after it are classified with;
- `front_desk` — the three above as one `BatchLogic` (`FrontDesk`), in record order;
- `routing` — the agents' roster and hand-offs asked by insale and aftersale, one at a time;
- `sessions` — the idle timers that end a session and free its agent;
- `effects` — what they emit: session timers, replies, assignments.

`Handlers` gathers the per-event handlers of the rarer topics for the wiring (`app.py`).
"""

from __future__ import annotations

from datetime import timedelta

from services.presale.handlers.effects import SESSION_IDLE, SESSION_RECHECK
from services.presale.handlers.routing import Routing
from services.presale.handlers.sessions import Sessions

__all__ = ["SESSION_IDLE", "SESSION_RECHECK", "Handlers"]


class Handlers:
    """Presale's rarer events one at a time (buyer messages: `messages.MessageBatch`)."""

    def __init__(self, session_gap: timedelta) -> None:
        self.session_gap = session_gap
        routing = Routing(session_gap)
        self.agent_status = routing.agent_status
        self.handoff_requested = routing.handoff_requested
        self.session_idle = Sessions(session_gap, routing).session_idle
