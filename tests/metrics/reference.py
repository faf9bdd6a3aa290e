"""A separate, plain implementation of KPIS.md over a list of events, to check the service.

Written straight from the definitions, without the service's code: one pass per
conversation, dictionaries and lists, nothing clever. Durations in float seconds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from shared.contracts import (
    ConversationAssigned,
    CsatSubmitted,
    MessageReceived,
    MessageSent,
    OrderChanged,
    RefundChanged,
    RefundRequested,
    ReplyRequested,
)
from tests.metrics.eventlog import Event


def pct(values: list[float], p: int) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[math.ceil(p * len(s) / 100) - 1]


def div(a: float, b: float) -> float | None:
    return a / b if b else None


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


class Reference:
    def __init__(self, events: list[Event], gap: timedelta, window: timedelta) -> None:
        unique = {e.event_id: e.payload for e in events}.values()  # duplicates: same ce_id
        self.gap, self.window = gap, window
        self.msgs: dict[str, list[tuple[datetime, int, str, str | None, str]]] = defaultdict(list)
        self.assigns: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        self.csat: list[CsatSubmitted] = []
        self.order_events: dict[str, list[OrderChanged]] = defaultdict(list)
        self.refund_req: dict[str, list[RefundRequested]] = defaultdict(list)
        self.refund_chg: dict[str, list[RefundChanged]] = defaultdict(list)
        self.buyer_messages: list[datetime] = []
        self.reminders: dict[str, list[datetime]] = defaultdict(list)
        for p in unique:
            if isinstance(p, MessageReceived):
                self.msgs[p.conversation_id].append((p.sent_at, 0, p.message_id, None, p.buyer_id))
                self.buyer_messages.append(p.sent_at)
            elif isinstance(p, MessageSent) and p.sender_kind != "system":
                who = p.sender_id if p.sender_kind == "agent" else "bot"
                self.msgs[p.conversation_id].append((p.sent_at, 1, p.message_id, who, p.buyer_id))
            elif isinstance(p, ConversationAssigned):
                self.assigns[p.conversation_id].append((p.assigned_at, p.agent_id))
            elif isinstance(p, CsatSubmitted):
                self.csat.append(p)
            elif isinstance(p, OrderChanged):
                self.order_events[p.order_id].append(p)
            elif isinstance(p, RefundRequested):
                self.refund_req[p.refund_id].append(p)
            elif isinstance(p, RefundChanged):
                self.refund_chg[p.refund_id].append(p)
            elif isinstance(p, ReplyRequested) and p.kind == "reminder" and p.order_id:
                self.reminders[p.order_id].append(p.requested_at)
        self._build()

    def _build(self) -> None:
        # rows: (time placed, responder, ...)
        self.rounds: list[dict[str, Any]] = []
        self.parts: list[dict[str, Any]] = []
        self.sessions: list[dict[str, Any]] = []
        touches_by_conv: dict[str, list[tuple[datetime, str, str, datetime]]] = defaultdict(list)
        touches_by_buyer: dict[str, list[tuple[datetime, str, str, datetime]]] = defaultdict(list)
        for conv, msgs in self.msgs.items():
            msgs.sort(key=lambda m: (m[0], m[1], m[2]))
            assigns = sorted(self.assigns.get(conv, []))
            groups: list[list[Any]] = []
            for m in msgs:
                if groups and m[0] - groups[-1][-1][0] < self.gap:
                    groups[-1].append(m)
                else:
                    groups.append([m])
            for g in groups:
                firsts = [i for i, m in enumerate(g) if m[1] == 0]
                if not firsts:
                    continue
                body = g[firsts[0] :]
                start, last = body[0][0], g[-1][0]
                inside = [a for a in assigns if start <= a[0] <= last]
                senders = {m[3] for m in body if m[1] == 1}
                self.sessions.append(
                    {
                        "start": start,
                        "bot_resolved": "bot" in senders
                        and all(s == "bot" for s in senders)
                        and not inside,
                    }
                )
                open_at = None
                for m in body:
                    if m[1] == 0:
                        if open_at is None:
                            open_at = m[0]
                    else:
                        touches_by_conv[conv].append((m[0], m[2], m[3], start))
                        touches_by_buyer[m[4]].append((m[0], m[2], m[3], start))
                        if open_at is not None:
                            self.rounds.append(
                                {"at": open_at, "who": m[3], "rt": (m[0] - open_at).total_seconds()}
                            )
                            open_at = None
                if open_at is not None:
                    before = [a for a in assigns if a[0] <= open_at]
                    self.rounds.append(
                        {
                            "at": open_at,
                            "who": before[-1][1] if before else "unassigned",
                            "rt": None,
                        }
                    )
                seen: set[str] = set()
                for m in body:
                    if m[1] == 0 or m[3] in seen:
                        continue
                    seen.add(m[3])
                    clock = start
                    if m[3] != "bot":
                        mine = [a[0] for a in inside if a[1] == m[3] and a[0] <= m[0]]
                        if mine:
                            clock = mine[-1]
                    self.parts.append(
                        {
                            "at": start,
                            "who": m[3],
                            "frt": (m[0] - clock).total_seconds(),
                            "buyer": body[0][4],
                            "bot_resolved": self.sessions[-1]["bot_resolved"],
                        }
                    )

        def last_before(touches: list[Any], t: datetime) -> Any:
            cands = [x for x in touches if x[0] < t]
            return max(cands, key=lambda x: (x[0], x[1])) if cands else None

        self.csat_rows = []
        for c in self.csat:
            t = last_before(touches_by_conv.get(c.conversation_id, []), c.submitted_at)
            if t is not None:
                self.csat_rows.append({"at": c.submitted_at, "who": t[2], "rating": c.rating})
        self.orders = []
        for evs in self.order_events.values():
            evs = sorted(evs, key=lambda e: e.changed_at)
            latest = evs[-1]
            paid = [e.paid_at for e in evs if e.paid_at is not None]
            t = last_before(touches_by_buyer.get(latest.buyer_id, []), latest.created_at)
            if t is not None and latest.created_at - t[0] > self.window:
                t = None
            self.orders.append(
                {
                    "order_id": latest.order_id,
                    "paid_at": paid[0] if paid else None,
                    "fee": latest.total_fee,
                    "buyer": latest.buyer_id,
                    "who": t[2] if t else None,
                    "at": t[3] if t else None,
                }
            )
        self.refunds = []
        for rid in set(self.refund_req) | set(self.refund_chg):
            changes = sorted(self.refund_chg.get(rid, []), key=lambda e: e.changed_at)
            req = min((r.requested_at for r in self.refund_req.get(rid, [])), default=None)
            success = [c.changed_at for c in changes if c.status == "SUCCESS"]
            finish = [c.changed_at for c in changes if c.status in ("SUCCESS", "CLOSED")]
            self.refunds.append(
                {
                    "requested": req,
                    "success": success[0] if success else None,
                    "finish": finish[0] if finish else None,
                    "disputed": any(c.cs_status >= 2 for c in changes),
                }
            )

    # -- windows ---------------------------------------------------------------------------
    def agents(self, lo: datetime, hi: datetime) -> dict[str, dict[str, Any]]:
        def inw(t: datetime | None) -> bool:
            return t is not None and lo <= t < hi

        who_all = set()
        rows: dict[str, dict[str, Any]] = {}
        rounds = [r for r in self.rounds if inw(r["at"])]
        parts = [p for p in self.parts if inw(p["at"])]
        orders = [o for o in self.orders if inw(o["at"])]
        csat = [c for c in self.csat_rows if inw(c["at"])]
        for x in (*rounds, *parts, *csat):
            who_all.add(x["who"])
        who_all |= {o["who"] for o in orders if o["paid_at"] is not None}
        for who in who_all:
            rts = [r["rt"] for r in rounds if r["who"] == who and r["rt"] is not None]
            unanswered = sum(1 for r in rounds if r["who"] == who and r["rt"] is None)
            mine = [p for p in parts if p["who"] == who]
            frts = [p["frt"] for p in mine]
            buyers = {p["buyer"] for p in mine}
            paid = [o for o in orders if o["who"] == who and o["paid_at"] is not None]
            paid_buyers = {o["buyer"] for o in paid}
            sales = sum(o["fee"] for o in paid)
            ratings = [c["rating"] for c in csat if c["who"] == who]
            resolved = sum(1 for p in mine if p["bot_resolved"])
            rows[who] = {
                "agent_id": who,
                "rounds_answered": len(rts),
                "rounds_unanswered": unanswered,
                "response_time_avg_s": mean(rts),
                "response_time_p50_s": pct(rts, 50),
                "response_time_p90_s": pct(rts, 90),
                "response_rate_3min": div(sum(1 for x in rts if x <= 180), len(rts) + unanswered),
                "sessions": len(mine),
                "first_response_time_avg_s": mean(frts),
                "first_response_time_p50_s": pct(frts, 50),
                "first_response_time_p90_s": pct(frts, 90),
                "inquiry_buyers": len(buyers),
                "paid_buyers": len(paid_buyers),
                "inquiry_conversion_rate": div(len(paid_buyers), len(buyers)),
                "sales_fen": sales,
                "avg_order_value_fen": sales // len(paid_buyers) if paid_buyers else None,
                "csat_responses": len(ratings),
                "csat_satisfied_rate": div(sum(1 for x in ratings if x >= 4), len(ratings)),
                "bot_resolved_sessions": resolved if who == "bot" else None,
                "bot_resolution_rate": div(resolved, len(mine)) if who == "bot" else None,
            }
        return rows

    def shop(self, lo: datetime, hi: datetime) -> dict[str, Any]:
        def inw(t: datetime | None) -> bool:
            return t is not None and lo <= t < hi

        requested = [r for r in self.refunds if inw(r["requested"])]
        finished = [
            (r["finish"] - r["requested"]).total_seconds()
            for r in self.refunds
            if inw(r["finish"]) and r["requested"] is not None
        ]
        orders_paid = sum(1 for o in self.orders if inw(o["paid_at"]))
        succeeded = sum(1 for r in self.refunds if inw(r["success"]))
        return {
            "buyer_messages": sum(1 for t in self.buyer_messages if inw(t)),
            "sessions": sum(1 for s in self.sessions if inw(s["start"])),
            "handoffs": sum(1 for a in self.assigns.values() for x in a if inw(x[0])),
            "orders_paid": orders_paid,
            "refund_requests": len(requested),
            "refunds_succeeded": succeeded,
            "refund_rate": div(succeeded, orders_paid),
            "dispute_rate": div(sum(1 for r in requested if r["disputed"]), len(requested)),
            "refund_duration_avg_s": mean(finished),
        }

    def recovery(self, lo: datetime, hi: datetime, window: timedelta) -> dict[str, Any]:
        """催付 recovery, written out independently of services/metrics/domain/recovery.py."""
        orders = {o["order_id"]: o for o in self.orders}
        sent = sum(1 for times in self.reminders.values() for t in times if lo <= t < hi)
        cohort = [oid for oid, times in self.reminders.items() if lo <= min(times) < hi]
        recovered = []
        for oid in cohort:
            paid = orders[oid]["paid_at"] if oid in orders else None
            before = [t for t in self.reminders[oid] if paid is not None and t < paid]
            if before and paid - max(before) <= window:
                recovered.append(orders[oid]["fee"])
        return {
            "reminders_sent": sent,
            "reminded_orders": len(cohort),
            "recovered_orders": len(recovered),
            "recovered_fen": sum(recovered),
            "recovery_rate": div(len(recovered), len(cohort)),
        }


DURATION = ("_s",)
RATE = ("_rate", "rate_3min")


def assert_matches(actual: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    """Exact for counts and money, 1 ms for durations, 1e-9 for rates."""
    for key, want in expected.items():
        got = actual.get(key)
        if want is None or got is None or isinstance(want, str):
            assert got == want, f"{where} {key}: got {got!r}, want {want!r}"
        elif key.endswith("_s"):
            assert abs(got - want) <= 0.001, f"{where} {key}: got {got!r}, want {want!r}"
        elif key.endswith(RATE):
            assert abs(got - want) <= 1e-9, f"{where} {key}: got {got!r}, want {want!r}"
        else:
            assert isinstance(got, int), f"{where} {key}: {got!r} is not an integer"
            assert got == want, f"{where} {key}: got {got!r}, want {want!r}"
