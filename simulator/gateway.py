"""The IM gateway's delivery side: turn xiaoer's reply requests into messages sent to buyers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.contracts import MessageSent, ReplyRequested
from shared.ids import new_id


@dataclass
class Gateway:
    """Delivers each `reply_request_id` once, however often the request is redelivered."""

    delivered: set[str] = field(default_factory=set)
    duplicates: int = 0

    def deliver(self, request: ReplyRequested, now: datetime) -> MessageSent | None:
        if request.reply_request_id in self.delivered:
            self.duplicates += 1
            return None
        self.delivered.add(request.reply_request_id)
        return MessageSent(
            shop_id=request.shop_id,
            message_id=new_id(),
            conversation_id=request.conversation_id,
            buyer_id=request.buyer_id,
            sender_kind="bot" if request.sender == "bot" else "system",
            sender_id=request.requested_by,
            text=request.text,
            sent_at=now,
            reply_request_id=request.reply_request_id,
        )
