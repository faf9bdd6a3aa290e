"""The scenario generator: a pure, deterministic plan of upstream events for a shop's day.

No I/O and no wall clock: `generate(seed, start, hours, ...)` always returns the same plan.
Orders are simulated over their whole life (some were created days before the window, so the
window sees them shipped, signed, refunded, reviewed); only what falls inside the window is
planned. Bad records are extra corrupted copies of valid events, for the dead-letter paths.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from shared.contracts import (
    AgentStatusChanged,
    CsatSubmitted,
    EventPayload,
    LogisticsUpdated,
    MessageReceived,
    MessageSent,
    OrderChanged,
    OrderItem,
    RefundChanged,
    RefundRequested,
    ReviewPosted,
)
from shared.ids import derived_id
from simulator import agents as agents_mod
from simulator import catalog, gaps, texts
from simulator.catalog import Item

TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
IM_SOURCE = "/simulator/im-gateway"
TRADE_SOURCE = "/simulator/trade"

MSG_RECEIVED = "cs.message.received.v1"
# Labels of the risky buyer messages in the plan (not classifier intents: what the buyer meant)
_ABUSE, _SCAM, _THREAT = "risk_abuse", "risk_scam", "risk_threat"
MSG_SENT = "cs.message.sent.v1"
AGENT_STATUS = "cs.agent.status.v1"
CSAT = "cs.csat.submitted.v1"
ORDER = "trade.order.changed.v1"
LOGISTICS = "trade.logistics.updated.v1"
REFUND_REQ = "trade.refund.requested.v1"
REFUND_CHG = "trade.refund.changed.v1"
REVIEW = "trade.review.posted.v1"
UPSTREAM_TOPICS = (MSG_RECEIVED, MSG_SENT, AGENT_STATUS, CSAT, ORDER, LOGISTICS, REFUND_REQ,
                   REFUND_CHG, REVIEW)  # fmt: skip
_SOURCE = {t: (TRADE_SOURCE if t.startswith("trade.") else IM_SOURCE) for t in UPSTREAM_TOPICS}

# Legal order transitions (Taobao trade statuses).
ORDER_TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"WAIT_BUYER_PAY"}),
    "WAIT_BUYER_PAY": frozenset({"WAIT_SELLER_SEND_GOODS", "TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO"}),
    "WAIT_SELLER_SEND_GOODS": frozenset({"SELLER_CONSIGNED_PART", "WAIT_BUYER_CONFIRM_GOODS",
                                         "TRADE_CLOSED"}),
    "SELLER_CONSIGNED_PART": frozenset({"WAIT_BUYER_CONFIRM_GOODS", "TRADE_CLOSED"}),
    "WAIT_BUYER_CONFIRM_GOODS": frozenset({"TRADE_BUYER_SIGNED", "TRADE_FINISHED", "TRADE_CLOSED"}),
    "TRADE_BUYER_SIGNED": frozenset({"TRADE_FINISHED", "TRADE_CLOSED"}),
    "TRADE_FINISHED": frozenset(),
    "TRADE_CLOSED": frozenset(),
    "TRADE_CLOSED_BY_TAOBAO": frozenset(),
}  # fmt: skip

_PRESALE_INTENTS = (
    ("size_advice", 25), ("product_spec", 15), ("stock", 12), ("shipping_time", 12),
    ("price_promotion", 10), ("free_shipping", 8), ("courier", 5), ("recommendation", 5),
    ("invoice", 3), ("human_agent", 3),
)  # fmt: skip
PLANTED_GAP_SHARE = 0.45
"""Presale chats that also ask one of `simulator.gaps.PLANTED` (drawn from a random stream
of their own, so the rest of a seed's day is the same as without them)."""
# Relative chat traffic by local hour: quiet at night, peaks late morning and 20–23 h.
_HOURLY = (4, 2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 9, 10, 11, 11, 10, 9, 8, 10, 13, 14, 13, 8)


@dataclass(frozen=True, slots=True)
class Planned:
    """A valid upstream event due at business time `at`."""

    at: datetime
    topic: str
    payload: EventPayload
    intent: str | None = None  # buyer messages: the intent presale should find
    gap: str | None = None  # buyer messages: the planted gap asked (`simulator.gaps`)

    @property
    def source(self) -> str:
        return _SOURCE[self.topic]


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A corrupted copy of `payload` (same topic, key and headers, broken value)."""

    at: datetime
    topic: str
    payload: EventPayload
    value: bytes
    reason: str

    @property
    def source(self) -> str:
        return _SOURCE[self.topic]


PlanEvent = Planned | BadRecord


@dataclass(frozen=True)
class Buyer:
    buyer_id: str
    level: str
    region: str

    def conversation_id(self, shop_id: str) -> str:
        return derived_id("conversation", shop_id, self.buyer_id)


@dataclass
class Plan:
    seed: int
    shop_id: str
    start: datetime
    end: datetime
    agents: tuple[agents_mod.AgentProfile, ...]
    events: list[PlanEvent]

    def counts(self) -> Counter[str]:
        return Counter(e.topic for e in self.events if isinstance(e, Planned))

    @property
    def bad(self) -> list[BadRecord]:
        return [e for e in self.events if isinstance(e, BadRecord)]


def generate(
    seed: int,
    start: datetime,
    hours: float = 24,
    *,
    shop_id: str = catalog.SHOP_ID,
    buyers: int | None = None,
    bad_rate: float = 0.002,
) -> Plan:
    """Plan the upstream events of `hours` of business time from `start` (timezone-aware)."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    start = start.astimezone(TZ)
    end = start + timedelta(hours=hours)
    n = buyers if buyers is not None else max(20, round(300 * hours / 24))
    gaps_rng = random.Random(seed * 7919 + 2)
    gen = _Generator(random.Random(seed), shop_id, start, end, n, gaps_rng)
    gen.run()
    events: list[PlanEvent] = sorted(gen.events, key=lambda e: e.at)  # stable: per-key order
    events = _add_bad(events, random.Random(seed * 7919 + 1), bad_rate)
    return Plan(seed, shop_id, start, end, gen.agents, events)


@dataclass
class _Order:
    order_id: str
    buyer: Buyer
    items: list[OrderItem]
    total: int
    created: datetime
    steps: list[tuple[datetime, str, dict[str, object]]] = field(default_factory=list)

    def step(self, at: datetime, status: str, **fields: object) -> datetime:
        if self.steps and at <= self.steps[-1][0]:
            at = self.steps[-1][0] + timedelta(seconds=1)
        self.steps.append((at, status, fields))
        return at

    def truncate_after(self, at: datetime) -> None:
        self.steps = [s for s in self.steps if s[0] <= at]

    def status_at(self, at: datetime) -> str | None:
        current = None
        for when, status, _ in self.steps:
            if when > at:
                break
            current = status
        return current


def risky(risk: random.Random, intents: list[str], angry: bool) -> list[str]:
    """A few buyers abuse the agent (angry ones more often), pose as platform staff or
    threaten: their message ends the burst (presale flags it)."""
    roll = risk.random()
    if roll < (0.05 if angry else 0.012):
        return [*intents, _ABUSE]
    if roll < 0.018:
        return [*intents, _SCAM]
    if roll < 0.021:
        return [*intents, _THREAT]
    return intents


class _Generator:
    def __init__(
        self,
        rng: random.Random,
        shop_id: str,
        start: datetime,
        end: datetime,
        n: int,
        gap_rng: random.Random,
    ) -> None:
        self.rng = rng
        self.gap_rng = gap_rng
        self.shop_id = shop_id
        self.start = start
        self.end = end
        self.n = n
        self.events: list[Planned] = []
        self.agents = agents_mod.roster(rng)
        self.buyers = [self._buyer() for _ in range(3 * n)]  # includes earlier customers

    # -- helpers ---------------------------------------------------------------------------
    def emit(
        self,
        at: datetime,
        topic: str,
        payload: EventPayload,
        intent: str | None = None,
        gap: str | None = None,
    ) -> None:
        if self.start <= at < self.end:
            self.events.append(Planned(at, topic, payload, intent, gap))

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def digits(self, first: str, count: int) -> str:
        return first + "".join(self.rng.choice("0123456789") for _ in range(count - 1))

    def minutes(self, lo: float, hi: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(lo, hi))

    def lognormal_minutes(self, median: float, sigma: float) -> timedelta:
        return timedelta(minutes=self.rng.lognormvariate(math.log(median), sigma))

    def _buyer(self) -> Buyer:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
        bid = "AA" + self.rng.choice("EFGH") + "".join(self.rng.choice(alphabet) for _ in range(21))
        level = "vip" if self.rng.random() < 0.12 else "normal"
        return Buyer(bid, level, self.rng.choice(texts.REGIONS))

    def busy_time(self, lo: datetime, hi: datetime) -> datetime:
        """A time in [lo, hi) drawn with the shop's hourly traffic profile."""
        span = (hi - lo).total_seconds()
        for _ in range(50):
            t = lo + timedelta(seconds=self.rng.uniform(0, span))
            if self.rng.random() * max(_HOURLY) < _HOURLY[t.astimezone(TZ).hour]:
                return t
        return t

    def warehouse_time(self, t: datetime) -> datetime:
        """Ship only between 09:00 and 18:00 local time."""
        local = t.astimezone(TZ)
        if local.hour < 9:
            return datetime.combine(local.date(), time(9), TZ) + self.minutes(0, 90)
        if local.hour >= 18:
            nxt = local.date() + timedelta(days=1)
            return datetime.combine(nxt, time(9), TZ) + self.minutes(0, 90)
        return local

    # -- the day ---------------------------------------------------------------------------
    def run(self) -> None:
        self.agent_statuses()
        for _ in range(round(self.n * 4.5)):  # ~10 days of earlier orders, still moving
            created = self.busy_time(self.start - timedelta(days=10), self.start)
            self.order(self.rng.choice(self.buyers), created)
        for buyer in self.rng.sample(self.buyers, k=round(self.n * 0.6)):
            t0 = self.busy_time(self.start, self.end)
            item, last = self.presale_chat(buyer, t0)
            if self.rng.random() < 0.35:
                self.order(buyer, last + self.lognormal_minutes(12, 0.8), item)
            elif self.rng.random() < 0.15:
                self.agent_message(buyer, last + self.minutes(20, 90), texts.AGENT_NUDGES)
        for _ in range(round(self.n * 0.25)):  # silent orders: bought without asking
            self.order(self.rng.choice(self.buyers), self.busy_time(self.start, self.end))

    def agent_statuses(self) -> None:
        for profile in self.agents:
            timeline = agents_mod.status_timeline(profile, self.start, self.end, TZ, self.rng)
            current = max((p for p in timeline if p[0] <= self.start), key=lambda p: p[0])
            changes = [(self.start, current[1])] + [p for p in timeline if p[0] > self.start]
            for at, status in changes:
                self.emit(at, AGENT_STATUS, AgentStatusChanged(
                    shop_id=self.shop_id, agent_id=profile.agent_id, status=status,
                    skills=list(profile.skills), max_concurrent=profile.max_concurrent,
                    changed_at=at,
                ))  # fmt: skip

    # -- conversations ---------------------------------------------------------------------
    def chat(
        self,
        buyer: Buyer,
        t0: datetime,
        intents: list[str],
        item: Item,
        order_id: str | None = None,
        angry: bool = False,
    ) -> datetime:
        """Plan one burst of buyer messages; returns the time of the last one."""
        conv = buyer.conversation_id(self.shop_id)
        at = t0
        other = self.rng.choice(catalog.ITEMS)
        risk = random.Random(f"{conv}|{t0.isoformat()}")  # not self.rng: the plan stays as it was
        intents = risky(risk, intents, angry)
        for i, intent in enumerate(intents):
            planted = gaps.BY_KEY.get(intent.removeprefix("gap:"))
            rng = self.gap_rng if planted else self.rng  # planted: their own random stream
            if i:
                at += timedelta(seconds=max(5.0, rng.lognormvariate(math.log(45), 0.8)))
            with_item = intent not in ("greeting", "acknowledgement") or self.rng.random() < 0.5
            if planted is not None:
                text = texts.roughen(gaps.question(planted, rng, item), rng)
                intent = planted.label
            else:
                text = self.buyer_says(intent, item, other, risk)
            message_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            self.emit(at, MSG_RECEIVED, MessageReceived(
                shop_id=self.shop_id, message_id=message_id, conversation_id=conv,
                buyer_id=buyer.buyer_id, text=text,
                sent_at=at, item_id=item.item_id if with_item else None,
                order_id=order_id if intent not in ("greeting", "acknowledgement") else None,
                buyer_level=buyer.level,
            ), intent, planted.key if planted else None)  # fmt: skip
        if self.rng.random() < 0.3:
            self.csat(buyer, at + self.minutes(3, 30), unhappy=angry)
        return at

    def buyer_says(self, intent: str, item: Item, other: Item, risk: random.Random) -> str:
        bank = {_ABUSE: texts.ABUSIVE_BUYER_TEXTS, _SCAM: texts.SCAM_BUYER_TEXTS,
                _THREAT: texts.THREAT_BUYER_TEXTS}.get(intent)  # fmt: skip
        return risk.choice(bank) if bank else texts.buyer_text(intent, self.rng, item, other)

    def presale_chat(self, buyer: Buyer, t0: datetime) -> tuple[Item, datetime]:
        item = self.rng.choice(catalog.ITEMS)
        names, weights = zip(*_PRESALE_INTENTS, strict=True)
        asks = self.rng.choices(names, weights, k=self.rng.choice((1, 1, 2, 2, 3, 4)))
        intents = (["greeting"] if self.rng.random() < 0.5 else []) + list(asks)
        if self.rng.random() < 0.4:
            intents.append("acknowledgement")
        intents = intents[:6]
        if self.gap_rng.random() < PLANTED_GAP_SHARE:
            asked = "gap:" + gaps.pick(self.gap_rng, item).key
            pos = self.gap_rng.randint(1 if intents[:1] == ["greeting"] else 0, len(asks))
            intents.insert(min(pos, len(intents)), asked)
        return item, self.chat(buyer, t0, intents, item)

    def order_chat(self, order: _Order, lo: datetime, hi: datetime, intents: list[str], **kw: bool):
        if hi <= lo:
            return
        t0 = self.busy_time(lo, hi)
        if self.rng.random() < 0.3:
            intents = ["greeting", *intents]
        if self.rng.random() < 0.3:
            intents = [*intents, "acknowledgement"]
        item = catalog.item(order.items[0].item_id)
        self.chat(order.buyer, t0, intents, item, order.order_id, **kw)

    def csat(self, buyer: Buyer, at: datetime, unhappy: bool) -> None:
        weights = (20, 15, 20, 20, 25) if unhappy else (2, 3, 8, 27, 60)
        rating = self.rng.choices((1, 2, 3, 4, 5), weights)[0]
        comment = self.rng.choice(texts.CSAT_COMMENTS[rating]) or None
        self.emit(at, CSAT, CsatSubmitted(
            shop_id=self.shop_id, conversation_id=buyer.conversation_id(self.shop_id),
            buyer_id=buyer.buyer_id, rating=rating, comment=comment, submitted_at=at,
        ))  # fmt: skip

    # -- orders ----------------------------------------------------------------------------
    def order(self, buyer: Buyer, created: datetime, first: Item | None = None) -> None:
        rng = self.rng
        picks = [first or rng.choice(catalog.ITEMS)]
        if rng.random() < 0.25:
            picks.append(rng.choice([i for i in catalog.ITEMS if i is not picks[0]]))
        lines = []
        for it in picks:
            sku = it.sku(rng.choice(it.sizes).size, rng.choice(it.colours))
            qty = 1 if rng.random() < 0.9 else 2
            lines.append(OrderItem(item_id=it.item_id, sku_id=sku.sku_id, title=it.title,
                                   quantity=qty, price=sku.price))  # fmt: skip
        total = catalog.total_for([li.price * li.quantity for li in lines])
        o = _Order(self.digits("3", 19), buyer, lines, total, created)
        o.step(created, "WAIT_BUYER_PAY", timeout_action_time=created + timedelta(hours=24))
        r = rng.random()
        if r < 0.05:
            o.step(created + self.minutes(10, 360), "TRADE_CLOSED", timeout_action_time=None)
        elif r < 0.13:
            self.order_chat(o, created + self.minutes(5, 60), created + timedelta(hours=3),
                            ["payment_issue"])  # fmt: skip
            o.step(created + timedelta(hours=24), "TRADE_CLOSED", timeout_action_time=None)
        else:
            paid = created + max(timedelta(seconds=20), self.lognormal_minutes(4, 1.2))
            paid = min(paid, created + timedelta(hours=20))
            paid = o.step(paid, "WAIT_SELLER_SEND_GOODS", paid_at=paid, timeout_action_time=None,
                          promised_ship_by=paid + timedelta(hours=48))  # fmt: skip
            self.paid_order(o, paid)
        self.emit_order(o)

    def paid_order(self, o: _Order, paid: datetime) -> None:
        rng = self.rng
        if rng.random() < 0.04:  # changed their mind before shipping: refund-only, order closes
            asked = paid + self.minutes(10, 480)
            self.order_chat(o, paid, asked, ["cancel_order"])
            done = self.refund(o, asked, phase="onsale", reason="不想要了", received=False)
            if done is not None:
                o.step(done, "TRADE_CLOSED", timeout_action_time=None)
            return
        if rng.random() < 0.05:
            consign = paid + timedelta(hours=rng.uniform(50, 72))  # misses the 48 h promise
        else:
            consign = paid + timedelta(hours=rng.lognormvariate(math.log(10), 0.6))
        consign = self.warehouse_time(consign)
        if rng.random() < 0.2:
            self.order_chat(o, paid + timedelta(hours=6), consign, ["urge_shipping"],
                            angry=consign - paid > timedelta(hours=48))  # fmt: skip
        if rng.random() < 0.05:
            self.order_chat(o, paid, min(consign, paid + timedelta(hours=4)), ["address_change"])
        courier = rng.choices(
            catalog.COURIERS, (40, 25, 15, 10, 10 if o.buyer.level == "vip" else 3)
        )[0]
        tracking = texts.tracking_no(rng, courier)
        shipped = dict(consign_time=consign, logistics_company=courier, tracking_no=tracking,
                       timeout_action_time=consign + timedelta(days=10))  # fmt: skip
        if len(o.items) > 1 and rng.random() < 0.25:
            o.step(consign, "SELLER_CONSIGNED_PART", **shipped)
            consign = o.step(
                consign + timedelta(hours=rng.uniform(4, 30)), "WAIT_BUYER_CONFIRM_GOODS"
            )
        else:
            consign = o.step(consign, "WAIT_BUYER_CONFIRM_GOODS", **shipped)
        signed = self.logistics(o, consign, courier, tracking)
        if signed is None:
            return
        signed = o.step(signed + self.minutes(1, 10), "TRADE_BUYER_SIGNED", signed_at=signed)
        if rng.random() < (0.5 if o.buyer.level == "vip" else 0.1):
            self.agent_message(o.buyer, signed + self.minutes(60, 480), texts.AGENT_FOLLOWUPS)
        auto = consign + timedelta(days=10)
        finish = signed + timedelta(hours=rng.uniform(2, 120)) if rng.random() < 0.65 else auto
        finish = min(finish, auto)
        if rng.random() < 0.2:
            asked = signed + timedelta(hours=rng.uniform(2, 96))
            phase = "onsale" if asked < finish else "aftersale"
            done = self.refund(o, asked, phase=phase, reason=None, received=True)
            if done is not None and phase == "onsale":
                o.step(done, "TRADE_CLOSED", timeout_action_time=None)
                return
        finish = o.step(finish, "TRADE_FINISHED", timeout_action_time=None)
        if rng.random() < 0.6:
            self.review(o, finish + timedelta(hours=rng.uniform(0, 48)))

    def emit_order(self, o: _Order) -> None:
        """Every step inside the window. An order older than the window is first announced with
        its state at the window's start (its `changed_at` stays the real one), as a trade bridge
        replays open orders when it connects, so services know what later refunds refer to."""
        state: dict[str, object] = {}
        previous: str | None = None

        def payload(at: datetime, status: str, prev: str | None) -> OrderChanged:
            return OrderChanged(
                shop_id=self.shop_id, order_id=o.order_id, buyer_id=o.buyer.buyer_id,
                status=status, previous_status=prev, total_fee=o.total, items=o.items,
                created_at=o.created, receiver_region=o.buyer.region, changed_at=at, **state,
            )  # fmt: skip

        before: tuple[datetime, str, str | None] | None = None  # latest step before the window
        for at, status, fields in o.steps:
            if at >= self.start and before is not None:
                self.events.append(Planned(self.start, ORDER, payload(*before)))
                before = None
            state.update(fields)
            if at < self.start:
                before = (at, status, previous)
            self.emit(at, ORDER, payload(at, status, previous))
            previous = status
        if before is not None and self.start < self.end:
            self.events.append(Planned(self.start, ORDER, payload(*before)))

    def logistics(
        self, o: _Order, consign: datetime, courier: str, tracking: str
    ) -> datetime | None:
        """Tracking events; returns when the parcel was signed for (None: lost in a stall)."""
        rng = self.rng
        at = consign + timedelta(hours=rng.uniform(0.5, 3))
        plan = ["ACCEPTED"] + ["IN_TRANSIT"] * rng.randint(2, 4) + ["DELIVERING", "SIGNED"]
        stall = rng.random() < 0.06
        exception = rng.random() < 0.04
        for i, status in enumerate(plan):
            if i:
                at += timedelta(
                    hours=rng.uniform(3, 12) if status != "SIGNED" else rng.uniform(0.5, 6)
                )
            if stall and i == 2:
                at += timedelta(days=rng.uniform(3, 5))
                self.order_chat(o, at - timedelta(days=3), at, ["logistics_status", "complaint"],
                                angry=True)  # fmt: skip
            if exception and status == "DELIVERING":
                self.track(o, at, "EXCEPTION", courier, tracking)
                self.order_chat(o, at, at + timedelta(hours=6), ["logistics_status"])
                at += timedelta(hours=rng.uniform(12, 24))
            self.track(o, at, status, courier, tracking)
        if rng.random() < 0.2:
            self.order_chat(o, consign + timedelta(hours=12), at, ["logistics_status"])
        return at

    def track(self, o: _Order, at: datetime, status: str, courier: str, tracking: str) -> None:
        self.emit(at, LOGISTICS, LogisticsUpdated(
            shop_id=self.shop_id, order_id=o.order_id, logistics_company=courier,
            tracking_no=tracking, status=status, occurred_at=at,
            description=texts.logistics_text(status, self.rng, courier, o.buyer.region),
        ))  # fmt: skip

    def agent_message(self, buyer: Buyer, at: datetime, bank: tuple[str, ...]) -> None:
        """An agent writes first (a nudge, an after-sale check), from 千牛 in working hours."""
        local = at.astimezone(TZ)
        if not 10 <= local.hour < 21:
            return
        agent = self.rng.choice(self.agents)
        self.emit(at, MSG_SENT, MessageSent(
            shop_id=self.shop_id, message_id=self.uid(),
            conversation_id=buyer.conversation_id(self.shop_id), buyer_id=buyer.buyer_id,
            sender_kind="agent", sender_id=agent.agent_id, text=self.rng.choice(bank), sent_at=at,
        ))  # fmt: skip

    # -- refunds and reviews ---------------------------------------------------------------
    def refund(
        self, o: _Order, asked: datetime, *, phase: str, reason: str | None, received: bool
    ) -> datetime | None:
        """Plan a refund; returns when a full refund succeeded (the order then closes)."""
        rng = self.rng
        if reason is None:
            names, weights = zip(*texts.REFUND_REASONS, strict=True)
            reason = rng.choices(names, weights)[0]
        line = rng.choice(o.items)
        item = catalog.item(line.item_id)
        with_return = received and reason not in ("少件/漏发",) and rng.random() < 0.85
        fee = min(o.total, line.price * line.quantity)
        if reason in ("少件/漏发",) or (reason == "质量问题" and not with_return):
            fee = fee // rng.choice((2, 3, 5))
        if rng.random() < 0.015:
            fee = o.total + 1000  # asks for the shipping too: more than the order
        if received and rng.random() < 0.6:
            intent = {"质量问题": "quality_issue", "少件/漏发": "missing_or_wrong_item",
                      "发错货": "missing_or_wrong_item"}.get(reason, "return_exchange")  # fmt: skip
            self.order_chat(o, asked - timedelta(hours=6), asked, [intent, "refund"],
                            angry=intent != "return_exchange" and rng.random() < 0.4)  # fmt: skip
        refund_id = self.digits("2", 18)
        self.emit(asked, REFUND_REQ, RefundRequested(
            shop_id=self.shop_id, refund_id=refund_id, order_id=o.order_id,
            buyer_id=o.buyer.buyer_id, refund_phase=phase, has_good_return=with_return,
            good_status="BUYER_RECEIVED" if received else "BUYER_NOT_RECEIVED",
            # its own generator: the wording never shifts the rest of the seeded day
            reason=texts.platform_reason(reason, random.Random(refund_id)),
            description=rng.choice(texts.REFUND_WORDS.get(reason, ("",))) or None,
            refund_fee=fee, order_total_fee=o.total, item_id=line.item_id,
            item_category=item.category, requested_at=asked, timeout=asked + timedelta(hours=48),
        ))  # fmt: skip

        at = asked
        done: datetime | None = None

        def change(
            status: str, after: timedelta, cs: int = 1, deadline: timedelta | None = None,
            **kw: object,
        ) -> datetime:  # fmt: skip
            nonlocal at
            at = at + after
            self.emit(at, REFUND_CHG, RefundChanged(
                shop_id=self.shop_id, refund_id=refund_id, order_id=o.order_id, status=status,
                cs_status=cs, changed_at=at, timeout=at + deadline if deadline else None, **kw,
            ))  # fmt: skip
            return at

        def returned(after: timedelta) -> None:
            change("WAIT_SELLER_CONFIRM_GOODS", after, deadline=timedelta(days=10),
                   return_tracking_no=texts.tracking_no(rng, "中通快递"))  # fmt: skip

        r = rng.random()
        if r < 0.05:
            change("CLOSED", self.minutes(30, 600))  # buyer withdrew
            return None
        if r < 0.15:  # seller refused; the buyer asked the platform to step in
            change("SELLER_REFUSE_BUYER", self.minutes(20, 900), deadline=timedelta(days=7))
            change("SELLER_REFUSE_BUYER", timedelta(hours=rng.uniform(2, 20)), cs=2)
            change("SELLER_REFUSE_BUYER", timedelta(hours=rng.uniform(12, 48)), cs=3)
            done = change("SUCCESS", timedelta(hours=rng.uniform(12, 72)), cs=6)
        elif r < 0.3:  # seller idle: the platform approves at the deadline
            if with_return:
                change("WAIT_BUYER_RETURN_GOODS", timedelta(hours=48), deadline=timedelta(days=7))
                returned(timedelta(hours=rng.uniform(3, 48)))
                done = change("SUCCESS", timedelta(days=10))
            else:
                done = change("SUCCESS", timedelta(hours=48))
        elif with_return:
            change("WAIT_BUYER_RETURN_GOODS", self.minutes(10, 1200), deadline=timedelta(days=7))
            returned(timedelta(hours=rng.uniform(3, 48)))
            done = change("SUCCESS", timedelta(hours=rng.uniform(12, 72)))
        else:
            done = change("SUCCESS", self.minutes(10, 1800))
        return done if fee >= o.total else None

    def review(self, o: _Order, at: datetime) -> None:
        result = self.rng.choices(("good", "neutral", "bad"), (85, 8, 7))[0]
        line = self.rng.choice(o.items)
        self.emit(at, REVIEW, ReviewPosted(
            shop_id=self.shop_id, review_id=self.digits("9", 16), order_id=o.order_id,
            buyer_id=o.buyer.buyer_id, item_id=line.item_id, result=result,
            content=self.rng.choice(texts.REVIEWS[result]), posted_at=at,
        ))  # fmt: skip
        if result == "bad" and self.rng.random() < 0.5:
            self.order_chat(o, at + self.minutes(5, 60), at + timedelta(hours=4),
                            ["complaint"], angry=True)  # fmt: skip


# -- bad input -------------------------------------------------------------------------------
def _add_bad(events: list[PlanEvent], rng: random.Random, rate: float) -> list[PlanEvent]:
    out: list[PlanEvent] = []
    for ev in events:
        out.append(ev)
        if isinstance(ev, Planned) and rng.random() < rate:
            value, reason = corrupt(ev.payload, rng)
            out.append(BadRecord(ev.at, ev.topic, ev.payload, value, reason))
    return out


def corrupt(payload: EventPayload, rng: random.Random) -> tuple[bytes, str]:
    """A value every consumer must reject: not JSON, a missing field, a wrong type, and so on."""
    data = json.loads(payload.model_dump_json())
    required = [n for n, f in type(payload).model_fields.items() if f.is_required()]
    kind = rng.choice(("not_json", "missing_field", "wrong_type", "bad_enum", "naive_time"))
    if kind == "not_json":
        raw = payload.model_dump_json().encode()
        return raw[: len(raw) // 2] + b"\xff\xfe<garbage", "not JSON"
    if kind == "bad_enum" and "status" in data:
        data["status"] = "WAIT_SOMETHING_ELSE"
        return json.dumps(data).encode(), "unknown enum value in status"
    if kind == "naive_time":
        name = next(n for n in required if isinstance(getattr(payload, n), datetime))
        data[name] = datetime.fromisoformat(data[name]).replace(tzinfo=None).isoformat()
        return json.dumps(data).encode(), f"naive datetime in {name}"
    name = rng.choice([n for n in required if n != "shop_id"] or required)
    if kind == "wrong_type":
        data[name] = {"unexpected": [1, 2]}
        return json.dumps(data).encode(), f"wrong type for {name}"
    del data[name]
    return json.dumps(data, ensure_ascii=False).encode(), f"missing required field {name}"
