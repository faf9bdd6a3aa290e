"""The demo's business story from events, API answers and ground truth (pure, no stack)."""

from __future__ import annotations

from collections import Counter

from devstack.story import Events, bot_figures, business_figures, format_story

AGENT = {
    "rounds_answered": 10, "rounds_unanswered": 1, "response_time_avg_s": 40.0,
    "response_time_p50_s": 30.0, "response_rate_3min": 0.9, "first_response_time_avg_s": 20.0,
    "inquiry_conversion_rate": 0.25, "csat_satisfied_rate": 0.8, "csat_responses": 5,
}  # fmt: skip


def events() -> Events:
    return Events(
        received_ms={"m1": 1000, "m2": 2000, "m3": 3000, "m4": 4000, "m5": 5000},
        classified={
            "m1": ("size_advice", "presale"),  # answered, right
            "m2": ("stock", "presale"),  # answered, wrong (truth: courier)
            "m3": ("greeting", "presale"),  # small talk: not a question
            "m4": ("invoice", "presale"),  # a question the bot left to an agent
            "m5": ("refund", "aftersale"),
        },
        auto_answers_ms={"m1": 1040, "m2": 2100},
        handoff_reasons=Counter(
            {
                "presale:no_kb_answer": 2,
                "presale:angry": 1,
                "reassigned:agent-a_offline": 1,
                "reassigned:agent-b_offline": 2,
            }
        ),
        refund_rules=Counter({("approve", "small-amount"): 3}),
        alert_kinds=Counter({"logistics_stalled": 1}),
        dead_letters={"cs.message.received.v1": 2, "trade.order.changed.v1": 0},
    )


def test_bot_share_precision_and_latency() -> None:
    truth = {"m1": "size_advice", "m2": "courier", "m3": "greeting", "m4": "invoice"}
    b = bot_figures(events(), truth)
    assert (b["presale_questions"], b["answered"], b["answered_share"]) == (3, 2, 2 / 3)
    assert (b["judged"], b["correct"], b["precision"]) == (2, 1, 0.5)
    assert (b["latency_ms_p50"], b["latency_ms_p90"]) == (40, 100)


def test_story_tells_the_business_figures() -> None:
    agents = [{"agent_id": "bot", **AGENT}, {"agent_id": "agent-a", **AGENT},
              {"agent_id": "unassigned", **AGENT}]  # fmt: skip
    reminders = {"reminders_sent": 7, "reminded_orders": 6, "recovered_orders": 3,
                 "recovered_fen": 123_456, "recovery_rate": 0.5, "days": []}  # fmt: skip
    f = business_figures("shop-demo", events(), {}, agents, {"handoffs": 3}, reminders)
    assert f["dead_letters"] == {"cs.message.received.v1": 2}
    assert "days" not in f["reminders"]
    assert f["handoffs_by_reason"]["reassigned: agent went offline"] == 3
    text = format_story(f, 720, {"from": "2026-12-02 10:00", "to": "2026-12-03 10:00"})
    for expected in ("presale questions", "precision –", "presale:no_kb_answer",
                     "agent-a", "¥1,234.56", "approve   small-amount ", "logistics_stalled",
                     "runs 720× fast", "rounds nobody answered (unassigned): 1"):  # fmt: skip
        assert expected in text, expected
