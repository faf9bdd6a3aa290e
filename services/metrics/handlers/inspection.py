"""Quality inspection (质检) at ingest: an agent's reply is checked by its shop's rules, and
each finding becomes a `fact_quality_violations` row — the rule, the span and the rule-set
version, never the text (no personal data). Flags, scores and exposures are derived from
these facts by the projection, so a replay re-derives them."""

from __future__ import annotations

from services.metrics.quality.rulebook import RuleBook
from services.metrics.store import fact_tables as tables
from services.metrics.store.facts import Fact
from shared.cloudevents import Envelope
from shared.contracts import MessageSent


def quality_violations(m: MessageSent, env: Envelope, rules: RuleBook) -> list[Fact]:
    """What the shop's rules find in an agent's reply, one fact per finding."""
    if m.sender_kind != "agent":
        return []
    ruleset = rules.for_shop(m.shop_id)
    return [
        Fact(
            tables.fact_quality_violations,
            {
                "message_id": m.message_id,
                "rule_id": v.rule_id,
                "span_start": v.start,
                "span_end": v.end,
                "event_id": env.id,
                "shop_id": m.shop_id,
                "conversation_id": m.conversation_id,
                "agent_id": m.sender_id,
                "category": v.category,
                "severity": v.severity,
                "suggestion": v.suggestion[:200],
                "rules_version": ruleset.version[:100],
                "sent_at": m.sent_at,
            },
        )
        for v in ruleset.check(m.text).violations
    ]
