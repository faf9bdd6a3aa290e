"""A generated shop day for insale, and what should come of it, computed independently.

`generate` plays the trade system: orders created over one day, some paid, some closed
unpaid, shipped on time or late, parcels that move, stall or report exceptions, signed for.
Deliveries are then disturbed like a real pipe: some events arrive hours late (out of
order), some twice with the same CloudEvents id (redelivery), some re-sent with a new id.

`expected` replays the same deliveries, tick by tick, with the rules written out plainly
(it does not use `services.insale`), and lists every effect that should come out, with the
tick it should come at: a reminder, a shipped notification, an apology, an alert.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.contracts import EventPayload, LogisticsUpdated, OrderChanged, OrderItem
from tests.support.factories import SHANGHAI

DAY0 = datetime(2026, 11, 11, tzinfo=SHANGHAI)
H = timedelta(hours=1)
M = timedelta(minutes=1)
TITLES = ("加厚连帽卫衣", "纯棉白色T恤", "高腰阔腿牛仔裤", "羊毛围巾", "保温杯500ml", "蓝牙耳机")
COURIERS = ("中通快递", "圆通速递", "顺丰速运", "韵达快递")

# The rules' defaults (see services/insale/settings.py), written out again for the oracle.
REMIND_AFTER = 30 * M
MIN_LEAD = 10 * M
SHIP_WITHIN = 48 * H
RISK_LEAD = 6 * H
STALL_AFTER = 72 * H


@dataclass(frozen=True)
class Delivery:
    at: datetime  # when the event reaches insale (business time)
    seq: int
    event_id: str
    payload: EventPayload

    @property
    def order_id(self) -> str:
        return self.payload.order_id  # type: ignore[attr-defined]


Effect = tuple[str, str, datetime]  # (order_id, effect, tick)


def generate(seed: int, shops: dict[str, int]) -> list[Delivery]:
    rng = random.Random(seed)
    out: list[Delivery] = []
    for shop, n in shops.items():
        for i in range(n):
            out += _deliveries(rng, _order_events(rng, shop, f"{shop}-o{i:04d}"), len(out))
    return sorted(out, key=lambda d: (d.at, d.seq))


def _order_events(rng: random.Random, shop: str, order_id: str) -> list[EventPayload]:
    created = DAY0 + timedelta(seconds=rng.randrange(24 * 3600))
    closes = created + rng.choice([20 * M, 45 * M, 2 * H, 12 * H, 24 * H])
    item = rng.choice(TITLES)
    base = {
        "shop_id": shop, "order_id": order_id, "buyer_id": f"buyer-{order_id}",
        "total_fee": 12900,
        "items": [OrderItem(item_id="i1", sku_id="s1", title=item, quantity=1, price=12900)],
        "created_at": created, "receiver_region": "浙江省杭州市西湖区",
    }  # fmt: skip
    facts: dict[str, object] = {"timeout_action_time": closes}
    events: list[EventPayload] = []

    def order(status: str, at: datetime) -> None:
        events.append(OrderChanged(**base, **facts, status=status, changed_at=at))

    order("WAIT_BUYER_PAY", created)
    paid = created + timedelta(seconds=rng.expovariate(1 / (40 * 60)))
    if paid >= closes:
        order("TRADE_CLOSED_BY_TAOBAO", closes)
        return events
    facts = {"paid_at": paid, "timeout_action_time": paid + 240 * H}
    if rng.random() < 0.3:
        facts["promised_ship_by"] = paid + 24 * H
    order("WAIT_SELLER_SEND_GOODS", paid)
    ship_by = facts.get("promised_ship_by") or paid + SHIP_WITHIN
    consign = paid + timedelta(hours=rng.uniform(1, 62))
    if rng.random() < 0.06:  # refunded before shipping
        order("TRADE_CLOSED", paid + timedelta(hours=rng.uniform(1, 50)))
        return events
    assert isinstance(ship_by, datetime)
    courier = rng.choice(COURIERS)
    tracking = f"YT{rng.randrange(10**12, 10**13)}"
    facts.update(consign_time=consign, logistics_company=courier, tracking_no=tracking)
    order("WAIT_BUYER_CONFIRM_GOODS", consign)
    at = consign + timedelta(hours=rng.uniform(0.5, 3))
    plan = ["ACCEPTED", "IN_TRANSIT", "IN_TRANSIT", "DELIVERING", "SIGNED"]
    stall_at = rng.randrange(1, 4) if rng.random() < 0.15 else None
    exception_at = rng.randrange(1, 4) if rng.random() < 0.08 else None
    for step, status in enumerate(plan):
        if step:
            at += timedelta(hours=rng.uniform(2, 20))
        if step == stall_at:
            at += timedelta(hours=rng.uniform(70, 100))
        if step == exception_at:
            events.append(_tracking(shop, order_id, courier, tracking, "EXCEPTION", at))
            at += timedelta(hours=rng.uniform(2, 30))
        events.append(_tracking(shop, order_id, courier, tracking, status, at))
    facts["signed_at"] = at
    order("TRADE_BUYER_SIGNED", at + timedelta(minutes=rng.uniform(1, 90)))
    return events


def _tracking(shop: str, order_id: str, courier: str, no: str, status: str, at: datetime):
    return LogisticsUpdated(
        shop_id=shop, order_id=order_id, logistics_company=courier, tracking_no=no,
        status=status, description=f"【杭州市】{status} 快件在杭州转运中心", occurred_at=at,
    )  # fmt: skip


def _deliveries(rng: random.Random, events: list[EventPayload], seq0: int) -> list[Delivery]:
    out: list[Delivery] = []
    for e in events:
        happened = e.business_time()
        event_id = f"ev-{seq0 + len(out)}-{rng.randrange(10**9)}"
        late = rng.random() < 0.15
        at = happened + (
            timedelta(hours=rng.uniform(0, 4)) if late else timedelta(seconds=rng.uniform(0, 60))
        )
        out.append(Delivery(at, seq0 + len(out), event_id, e))
        if rng.random() < 0.10:  # redelivered: same id, a little later
            out.append(
                Delivery(at + timedelta(minutes=rng.uniform(0, 120)), seq0 + len(out), event_id, e)
            )
        if rng.random() < 0.05:  # re-sent by the producer with a new id
            again = f"ev-{seq0 + len(out)}-{rng.randrange(10**9)}"
            out.append(
                Delivery(at + timedelta(minutes=rng.uniform(0, 120)), seq0 + len(out), again, e)
            )
    return out


# -- the oracle ---------------------------------------------------------------------------
RANK = {
    "WAIT_BUYER_PAY": 0, "WAIT_SELLER_SEND_GOODS": 1, "SELLER_CONSIGNED_PART": 2,
    "WAIT_BUYER_CONFIRM_GOODS": 3, "TRADE_BUYER_SIGNED": 4, "TRADE_FINISHED": 5,
    "TRADE_CLOSED": 5, "TRADE_CLOSED_BY_TAOBAO": 5,
}  # fmt: skip


@dataclass
class _Known:
    """What insale can know about one order from the events delivered so far."""

    status: str | None = None
    changed_at: datetime | None = None
    created_at: datetime | None = None
    closes: datetime | None = None
    paid_at: datetime | None = None
    promised: datetime | None = None
    consign: datetime | None = None
    courier: str | None = None
    tracking_no: str | None = None
    last_status: str | None = None
    last_at: datetime | None = None
    # what was done
    reminder_due: datetime | None = None
    reminder_planned: bool = False
    reminded: bool = False
    risk: bool = False
    missed: bool = False
    notified: bool = False
    stalled: bool = False
    seen: set[str] = field(default_factory=set)

    @property
    def closed(self) -> bool:
        return self.status in ("TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO")

    @property
    def rank(self) -> int:
        return RANK[self.status] if self.status else -1

    @property
    def shipped(self) -> bool:
        return (
            (self.rank >= 2 and not self.closed)
            or self.consign is not None
            or self.last_at is not None
        )

    @property
    def delivered(self) -> bool:
        return (self.rank >= 4 and not self.closed) or self.last_status == "SIGNED"

    @property
    def in_transit(self) -> bool:
        return self.status is not None and self.shipped and not self.delivered and not self.closed

    @property
    def awaiting(self) -> bool:
        paid = self.paid_at is not None or (self.rank >= 1 and not self.closed)
        return (
            self.status is not None
            and paid
            and not self.shipped
            and not self.closed
            and self.rank < 4
        )

    @property
    def ship_by(self) -> datetime | None:
        return self.promised or (self.paid_at + SHIP_WITHIN if self.paid_at else None)


def _quiet(t: datetime) -> bool:
    hour = t.astimezone(SHANGHAI).hour
    return hour >= 22 or hour < 8


def _morning(t: datetime) -> datetime:
    local = t.astimezone(SHANGHAI)
    day = local if local.hour < 8 else local + timedelta(days=1)
    return day.replace(hour=8, minute=0, second=0, microsecond=0)


def _useful(k: _Known, t: datetime) -> bool:
    return k.closes is None or t <= k.closes - MIN_LEAD


def expected(
    deliveries: list[Delivery], ticks: list[datetime], opted_out: frozenset[str]
) -> Counter[Effect]:
    by_order: dict[str, list[Delivery]] = {}
    for d in deliveries:
        by_order.setdefault(d.order_id, []).append(d)
    effects: Counter[Effect] = Counter()
    for order_id, ds in by_order.items():
        shop = ds[0].payload.shop_id
        k = _Known()
        i = 0
        for tick in ticks:
            while i < len(ds) and ds[i].at <= tick:
                d = ds[i]
                i += 1
                if d.event_id in k.seen:
                    continue
                k.seen.add(d.event_id)
                _apply(k, d.payload)
                for effect in _on_event(k, shop in opted_out):
                    effects[(order_id, effect, tick)] += 1
            for effect in _on_tick(k, tick):
                effects[(order_id, effect, tick)] += 1
    return effects


def _apply(k: _Known, e: EventPayload) -> None:
    if isinstance(e, OrderChanged):
        if k.status is None or (RANK[e.status], e.changed_at) > (k.rank, k.changed_at):
            k.status, k.changed_at = e.status, e.changed_at
        k.created_at = k.created_at or e.created_at
        if e.status == "WAIT_BUYER_PAY":
            k.closes = k.closes or e.timeout_action_time
        k.paid_at = k.paid_at or e.paid_at
        k.promised = k.promised or e.promised_ship_by
        k.consign = k.consign or e.consign_time
        k.courier = k.courier or e.logistics_company
        k.tracking_no = k.tracking_no or e.tracking_no
    else:
        assert isinstance(e, LogisticsUpdated)
        k.courier = k.courier or e.logistics_company
        k.tracking_no = k.tracking_no or e.tracking_no
        if k.last_at is None or e.occurred_at > k.last_at:
            k.last_status, k.last_at = e.status, e.occurred_at
            if e.status != "EXCEPTION":
                k.stalled = False


def _on_event(k: _Known, opted_out: bool) -> list[str]:
    out = []
    if k.status == "WAIT_BUYER_PAY" and not k.reminder_planned and not opted_out:
        due = k.created_at + REMIND_AFTER
        due = _morning(due) if _quiet(due) else due
        if _useful(k, due):
            k.reminder_planned, k.reminder_due = True, due
    tellable = k.status is not None and k.shipped and not k.delivered and not k.closed
    if tellable and not k.notified and k.courier and k.tracking_no:
        k.notified = True
        out.append("notification")
    if k.in_transit and k.last_status == "EXCEPTION" and not k.stalled:
        k.stalled = True
        out += ["apology", "logistics_stalled"]
    return out


def _on_tick(k: _Known, tick: datetime) -> list[str]:
    out = []
    if k.reminder_due is not None and tick >= k.reminder_due and not k.reminded:
        if k.status != "WAIT_BUYER_PAY":
            k.reminder_due = None
        elif _quiet(tick):
            k.reminder_due = _morning(tick) if _useful(k, _morning(tick)) else None
        elif not _useful(k, tick):
            k.reminder_due = None
        else:
            k.reminded, k.reminder_due = True, None
            out.append("reminder")
    if k.awaiting and k.ship_by is not None:
        if not k.risk and k.ship_by - RISK_LEAD <= tick < k.ship_by:
            k.risk = True
            out.append("ship_deadline_at_risk")
        if not k.missed and tick >= k.ship_by:
            k.missed = True
            out.append("ship_deadline_missed")
    if k.in_transit and not k.stalled:
        moved = max(t for t in (k.consign, k.last_at) if t is not None)
        if tick >= moved + STALL_AFTER:
            k.stalled = True
            out += ["apology", "logistics_stalled"]
    return out
