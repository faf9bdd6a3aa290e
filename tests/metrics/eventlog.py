"""A generated, deterministic event log of a shop's chats, orders and refunds, for the KPI tests.

It has what makes KPIs hard: bot hand-offs, reassignments, unanswered rounds, outbound
contact, system messages, same-instant messages, session-gap boundaries, CSAT, orders paid
(or not) up to 80 h after a chat, fee changes, refunds with disputes, 催付 reminders before and
after payment. `delivery()` then
duplicates some events (same ce_id) and delivers others late and out of order.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from shared.contracts import (
    ConversationAssigned,
    CsatSubmitted,
    EventPayload,
    MessageReceived,
    MessageSent,
    OrderChanged,
    OrderItem,
    RefundChanged,
    RefundRequested,
    ReplyRequested,
)

GAP = timedelta(minutes=30)
CST = timezone(timedelta(hours=8))
ITEM = [OrderItem(item_id="i1", title="连衣裙", quantity=1, price=19900)]


@dataclass(frozen=True)
class Event:
    payload: EventPayload
    event_id: str


@dataclass
class ShopLog:
    shop_id: str
    start: datetime
    end: datetime
    agents: list[str]
    events: list[Event] = field(default_factory=list)


class Generator:
    def __init__(
        self, shop_id: str, start: datetime, seed: int, hours: int = 72, agents: int = 20
    ) -> None:
        self.rng = random.Random(seed)
        self.remind_rng = random.Random(seed * 7 + 3)  # its own stream: the rest stays as it was
        self.shop = shop_id
        self.start = start
        self.end = start + timedelta(hours=hours)
        self.hours = hours
        self.agents = [f"{shop_id}-agent{i:03d}" for i in range(agents)]
        self.log = ShopLog(shop_id, start, self.end, self.agents)
        self._n = 0

    # -- helpers ---------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self.shop}-{self._n:07d}"

    def _emit(self, payload: EventPayload) -> None:
        self.log.events.append(Event(payload, str(uuid.UUID(int=self.rng.getrandbits(128)))))

    def _tz(self, at: datetime) -> datetime:
        return at.astimezone(CST) if self.rng.random() < 0.5 else at

    def _secs(self, lo: float, hi: float) -> timedelta:
        return timedelta(microseconds=int(self.rng.uniform(lo, hi) * 1_000_000))

    def buyer_msg(self, conv: str, buyer: str, at: datetime) -> None:
        self._emit(
            MessageReceived(
                shop_id=self.shop, message_id=self._id("in"), conversation_id=conv,
                buyer_id=buyer, text="请问有货吗？手机 13812345678", sent_at=self._tz(at),
            )
        )  # fmt: skip

    def out_msg(self, conv: str, buyer: str, at: datetime, kind: str, sender: str) -> None:
        self._emit(
            MessageSent(
                shop_id=self.shop, message_id=self._id("out"), conversation_id=conv,
                buyer_id=buyer, sender_kind=kind, sender_id=sender, text="亲，有的哦",
                sent_at=self._tz(at),
            )
        )  # fmt: skip

    def assign(self, conv: str, buyer: str, at: datetime, agent: str) -> None:
        self._emit(
            ConversationAssigned(
                shop_id=self.shop, conversation_id=conv, buyer_id=buyer, agent_id=agent,
                assigned_at=self._tz(at), reason="intent:other",
            )
        )  # fmt: skip

    # -- the script ------------------------------------------------------------------------
    def generate(self, buyers: int) -> ShopLog:
        for b in range(buyers):
            buyer = f"{self.shop}-buyer{b:05d}"
            conv = f"{self.shop}-conv{b:05d}"
            at = self.start + self._secs(0, (self.hours - 12) * 3600)
            for _ in range(self.rng.choice([1, 1, 2, 2, 3, 4])):
                if at >= self.end:
                    break
                last = self.session(conv, buyer, at)
                gap = self.rng.choice([GAP, GAP, GAP - timedelta(microseconds=1)])
                if self.rng.random() < 0.7:
                    gap = self._secs(1800, 20 * 3600)
                at = last + gap
            if self.rng.random() < 0.05:  # a buyer who orders without chatting
                self.order(buyer, self.start + self._secs(0, (self.hours - 2) * 3600))
        return self.log

    def session(self, conv: str, buyer: str, at: datetime) -> datetime:
        r = self.rng.random
        if r() < 0.05:  # outbound contact before the buyer writes
            agent = self.rng.choice(self.agents)
            self.out_msg(conv, buyer, at, "agent", agent)
            at += self._secs(5, 600)
        self.buyer_msg(conv, buyer, at)
        if r() < 0.3:
            at += self._secs(0.5, 20)
            self.buyer_msg(conv, buyer, at)
        agent: str | None = None
        if r() < 0.75:  # the bot answers
            at += self._secs(0.2, 4)
            self.out_msg(conv, buyer, at, "bot", "presale")
            if r() < 0.1:
                at += self._secs(0.1, 2)
                self.out_msg(conv, buyer, at, "system", "insale")
            if r() < 0.5:
                at += self._secs(5, 60)
                self.buyer_msg(conv, buyer, at)
        if r() < 0.6:  # hand-off to an agent
            agent = self.rng.choice(self.agents)
            at += self._secs(0, 120)
            self.assign(conv, buyer, at, agent)
            for _ in range(self.rng.choice([1, 1, 2, 3])):
                if r() < 0.08:
                    other = self.rng.choice(self.agents)
                    at += self._secs(1, 60)
                    self.assign(conv, buyer, at, other)
                    agent = other
                if r() < 0.04:
                    at += timedelta(0)  # same instant as the last message
                else:
                    at += self._secs(5, self.rng.choice([100, 200, 900]))
                self.out_msg(conv, buyer, at, "agent", agent)
                if r() < 0.6:
                    at += self._secs(5, 300)
                    self.buyer_msg(conv, buyer, at)
                else:
                    break
            if r() < 0.05:  # system reminder at the end
                at += self._secs(1, 60)
                self.out_msg(conv, buyer, at, "system", "insale")
        if r() < 0.12:  # the last question stays unanswered
            at += self._secs(5, 120)
            self.buyer_msg(conv, buyer, at)
        last = at
        if r() < 0.3:
            submitted = last + self._secs(10, 1200)
            self._emit(
                CsatSubmitted(
                    shop_id=self.shop, conversation_id=conv, buyer_id=buyer,
                    rating=self.rng.choice([1, 2, 3, 4, 4, 5, 5, 5]), comment="很好",
                    submitted_at=self._tz(submitted),
                )
            )  # fmt: skip
        if r() < 0.4:
            self.order(
                buyer, last + self._secs(-600, self.rng.choice([3600, 3 * 86400, 80 * 3600]))
            )
        return last

    def order(self, buyer: str, created: datetime) -> None:
        order_id = self._id("order")
        fee = self.rng.randrange(990, 99_900)

        def changed(
            status: str, at: datetime, paid: datetime | None, fee: int, prev: str | None
        ) -> None:
            self._emit(
                OrderChanged(
                    shop_id=self.shop, order_id=order_id, buyer_id=buyer, status=status,
                    previous_status=prev, total_fee=fee, items=ITEM,
                    created_at=self._tz(created), paid_at=self._tz(paid) if paid else None,
                    changed_at=self._tz(at),
                )
            )  # fmt: skip

        changed("WAIT_BUYER_PAY", created, None, fee, None)
        if self.rng.random() < 0.15:  # the shop changes the price before payment
            fee -= self.rng.randrange(0, 500)
            changed("WAIT_BUYER_PAY", created + self._secs(10, 300), None, fee, "WAIT_BUYER_PAY")
        if self.rng.random() < 0.3:
            changed(
                "TRADE_CLOSED_BY_TAOBAO", created + timedelta(hours=1), None, fee, "WAIT_BUYER_PAY"
            )
            self.remind(order_id, buyer, created, None)
            return
        paid = created + self._secs(20, 3000)
        self.remind(order_id, buyer, created, paid)
        changed("WAIT_SELLER_SEND_GOODS", paid, paid, fee, "WAIT_BUYER_PAY")
        shipped = paid + self._secs(3600, 30 * 3600)
        changed("WAIT_BUYER_CONFIRM_GOODS", shipped, paid, fee, "WAIT_SELLER_SEND_GOODS")
        if self.rng.random() < 0.2:
            self.refund(order_id, buyer, fee, shipped + self._secs(600, 40 * 3600))

    def remind(self, order_id: str, buyer: str, created: datetime, paid: datetime | None) -> None:
        """催付 30 min after creation (mostly while unpaid, sometimes racing the payment)."""
        rng = self.remind_rng
        times = [created + timedelta(minutes=30)]
        if rng.random() < 0.3:
            times.append(created + timedelta(minutes=rng.choice([40, 50, 55])))
        for n, at in enumerate(times, 1):
            if paid is not None and paid < at and rng.random() < 0.8:
                continue  # insale cancels the reminder once the order is paid, usually
            payload = ReplyRequested(
                shop_id=self.shop, reply_request_id=f"{order_id}-reminder-{n}",
                conversation_id=f"conv-{buyer}", buyer_id=buyer, text="亲，订单还未付款哦",
                kind="reminder", sender="system", requested_by="insale", order_id=order_id,
                requested_at=at.astimezone(CST) if rng.random() < 0.5 else at,
            )  # fmt: skip
            self.log.events.append(Event(payload, str(uuid.UUID(int=rng.getrandbits(128)))))

    def refund(self, order_id: str, buyer: str, fee: int, requested: datetime) -> None:
        refund_id = self._id("refund")
        self._emit(
            RefundRequested(
                shop_id=self.shop, refund_id=refund_id, order_id=order_id, buyer_id=buyer,
                refund_phase="aftersale", has_good_return=True, good_status="BUYER_RECEIVED",
                reason="尺码不合适", refund_fee=fee, order_total_fee=fee, item_id="i1",
                requested_at=self._tz(requested), timeout=self._tz(requested + timedelta(days=2)),
            )
        )  # fmt: skip
        at = requested

        def change(status: str, cs_status: int) -> None:
            self._emit(
                RefundChanged(
                    shop_id=self.shop, refund_id=refund_id, order_id=order_id, status=status,
                    cs_status=cs_status, changed_at=self._tz(at),
                )
            )  # fmt: skip

        at += self._secs(60, 3600)
        change("WAIT_SELLER_AGREE", 1)
        disputed = self.rng.random() < 0.2
        if disputed:
            at += self._secs(60, 7200)
            change("SELLER_REFUSE_BUYER", 2)
        if self.rng.random() < 0.85:
            at += self._secs(600, 20 * 3600)
            change(self.rng.choice(["SUCCESS", "SUCCESS", "CLOSED"]), 2 if disputed else 1)
            if self.rng.random() < 0.1:  # a repeated final status: the first one counts
                at += self._secs(1, 600)
                change("SUCCESS", 1)


def delivery(events: list[Event], seed: int) -> list[Event]:
    """Events in a realistic but unkind order: jittered, some hours late, some duplicated."""
    rng = random.Random(seed)
    keyed = []
    for e in events:
        t = e.payload.business_time().timestamp()
        roll = rng.random()
        if roll < 0.80:
            t += rng.uniform(0, 5)
        elif roll < 0.95:
            t += rng.uniform(0, 4 * 3600)  # late by up to hours
        else:
            t += 10 * 86400  # delivered at the very end
        keyed.append((t, rng.random(), e))
    out = [e for _, _, e in sorted(keyed, key=lambda k: (k[0], k[1]))]
    for i in rng.sample(range(len(out)), k=len(out) // 30):  # ~3% duplicates (same ce_id)
        out.insert(min(len(out), i + rng.randrange(1, 2000)), out[i])
    return out
