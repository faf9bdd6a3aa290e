"""The demo's business story: what the shop owner wants to know after a day, as figures and text.

Pure: the figures come from the events read off the broker (`Events`), the metrics API's
answers, and the simulator's ground truth (each buyer message's true intent). `summary.py`
does the reading; `business_figures` adds up, `format_story` writes it for a human, and the
same figures go to `<state>/summary.json` for scripts and tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SMALL_TALK = frozenset({"greeting", "acknowledgement"})
"""Presale messages that are not questions: the bot's share is of the questions."""


@dataclass
class Events:
    """What the summary needs from the topics (wall timestamps are the records' own, in ms)."""

    received_ms: dict[str, int] = field(default_factory=dict)  # message_id → record time
    classified: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (intent, stage)
    auto_answers_ms: dict[str, int] = field(default_factory=dict)  # answered id → reply time
    handoff_reasons: Counter[str] = field(default_factory=Counter)
    refund_rules: Counter[tuple[str, str]] = field(default_factory=Counter)  # (decision, rule)
    alert_kinds: Counter[str] = field(default_factory=Counter)
    dead_letters: dict[str, int] = field(default_factory=dict)  # topic → dead letters


def nearest_rank(values: list[int], p: int) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, -(-p * len(ordered) // 100)) - 1]


def ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def bot_figures(ev: Events, truth: Mapping[str, str]) -> dict[str, Any]:
    """The bot's share of presale questions answered, its precision, its real latency."""
    questions = {
        m
        for m, (intent, stage) in ev.classified.items()
        if stage == "presale" and intent not in SMALL_TALK
    }
    answered = set(ev.auto_answers_ms)
    judged = [m for m in answered if m in truth and m in ev.classified]
    correct = [m for m in judged if ev.classified[m][0] == truth[m]]
    latencies = [ev.auto_answers_ms[m] - ev.received_ms[m] for m in answered if m in ev.received_ms]
    return {
        "buyer_messages": len(ev.received_ms),
        "presale_questions": len(questions),
        "answered": len(questions & answered),
        "answered_share": ratio(len(questions & answered), len(questions)),
        "auto_answers": len(answered),
        "judged": len(judged),
        "correct": len(correct),
        "precision": ratio(len(correct), len(judged)),
        "latency_ms_p50": nearest_rank(latencies, 50),
        "latency_ms_p90": nearest_rank(latencies, 90),
    }


def handoff_reason(reason: str) -> str:
    """Group per-agent reasons: `reassigned:agent-x_offline` → `reassigned: agent went offline`."""
    if reason.startswith("reassigned:"):
        return "reassigned: agent went offline" if reason.endswith("_offline") else "reassigned"
    return reason


def business_figures(
    shop_id: str,
    ev: Events,
    truth: Mapping[str, str],
    agents: list[dict[str, Any]],
    shop: Mapping[str, Any],
    reminders: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "shop_id": shop_id,
        "bot": bot_figures(ev, truth),
        "handoffs_by_reason": dict(_grouped(ev.handoff_reasons).most_common()),
        "agents": agents,
        "shop": dict(shop),
        "reminders": {k: v for k, v in reminders.items() if k != "days"},
        "refunds_by_rule": [
            {"decision": d, "rule_id": r, "refunds": n}
            for (d, r), n in sorted(ev.refund_rules.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "alerts_by_kind": dict(ev.alert_kinds.most_common()),
        "dead_letters": {t: n for t, n in sorted(ev.dead_letters.items()) if n},
    }


def _grouped(reasons: Counter[str]) -> Counter[str]:
    out: Counter[str] = Counter()
    for reason, n in reasons.items():
        out[handoff_reason(reason)] += n
    return out


# -- text --------------------------------------------------------------------------------------
def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.1f}%"


def _s(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f} s"


def _yuan(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


def _bot_row(agents: list[dict[str, Any]]) -> dict[str, Any]:
    return next((a for a in agents if a["agent_id"] == "bot"), {})


def format_story(f: Mapping[str, Any], speed: float, window: Mapping[str, str]) -> str:
    b, agents, rem = f["bot"], f["agents"], f["reminders"]
    bot = _bot_row(agents)
    lines = [
        "",
        f"The shop day in figures — {f['shop_id']}, business time {window['from']} → "
        f"{window['to']}",
        "=" * 78,
        "Bot (智能客服)",
        f"  buyer messages                   {b['buyer_messages']:>7}",
        f"  presale questions                {b['presale_questions']:>7}",
        f"  answered by the bot              {b['answered']:>7}   {_pct(b['answered_share'])}",
        f"  right intent (ground truth)      {b['correct']:>7}   of {b['judged']} answers, "
        f"precision {_pct(b['precision'])}",
        f"  reply latency, real time         p50 {_ms(b['latency_ms_p50'])}, "
        f"p90 {_ms(b['latency_ms_p90'])}",
        f"  response time, business time     avg {_s(bot.get('response_time_avg_s'))}, "
        f"p50 {_s(bot.get('response_time_p50_s'))}",
        f"  (the demo clock runs {speed:g}× fast: 1 ms of real time is {speed / 1000:g} s of "
        "business time,",
        "   so the bot's real latency above appears as seconds in the business-time KPIs)",
        "",
        f"Hand-offs to agents: {sum(f['handoffs_by_reason'].values())}",
    ]
    lines += [f"  {reason[:44]:<44} {n:>5}" for reason, n in f["handoffs_by_reason"].items()]
    lines += ["", _agents_table(agents), ""]
    lines += [
        "催付 (payment reminders)",
        f"  reminders sent                   {rem.get('reminders_sent', 0):>7}",
        f"  orders paid after a reminder     {rem.get('recovered_orders', 0):>7}   of "
        f"{rem.get('reminded_orders', 0)} reminded ({_pct(rem.get('recovery_rate'))})",
        f"  amount recovered                 {_yuan(rem.get('recovered_fen', 0)):>11}",
        "",
        f"Refunds decided by rule: {sum(r['refunds'] for r in f['refunds_by_rule'])}",
    ]
    lines += [
        f"  {r['decision']:<9} {r['rule_id'][:34]:<34} {r['refunds']:>5}"
        for r in f["refunds_by_rule"]
    ]
    lines += ["", f"Alerts raised: {sum(f['alerts_by_kind'].values())}"]
    lines += [f"  {kind:<44} {n:>5}" for kind, n in f["alerts_by_kind"].items()]
    dead = f["dead_letters"]
    lines += ["", f"Dead letters: {sum(dead.values())} (bad records, kept for inspection)"]
    lines += [f"  {t:<44} {n:>5}" for t, n in dead.items()]
    return "\n".join(lines)


def _ms(v: int | None) -> str:
    return "–" if v is None else f"{v} ms"


def _agents_table(agents: list[dict[str, Any]]) -> str:
    head = (
        f"  {'agent':<14}{'rounds':>7}{'1st resp.':>11}{'resp. avg':>11}{'3-min':>8}"
        f"{'conv.':>8}{'CSAT':>8}{'ratings':>9}"
    )
    lines = ["Agents (business time; CSAT = share of ratings ≥ 4)", head]
    for a in agents:
        if a["agent_id"] == "unassigned":
            continue
        lines.append(
            f"  {a['agent_id'][:14]:<14}{a['rounds_answered']:>7}"
            f"{_s(a['first_response_time_avg_s']):>11}{_s(a['response_time_avg_s']):>11}"
            f"{_pct(a['response_rate_3min']):>8}{_pct(a['inquiry_conversion_rate']):>8}"
            f"{_pct(a['csat_satisfied_rate']):>8}{a['csat_responses']:>9}"
        )
    unassigned = next((a for a in agents if a["agent_id"] == "unassigned"), None)
    if unassigned:
        lines.append(f"  rounds nobody answered (unassigned): {unassigned['rounds_unanswered']}")
    return "\n".join(lines)
