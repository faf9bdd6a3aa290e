"""Evaluation of the insight loop on a simulated shop day with planted gaps.

    uv run python -m bench.insight [--seed 7] [--days 1]

1. the simulator plans a day (`simulator.scenario.generate`): buyers ask, among the usual
   questions, the planted gaps (`simulator.gaps`) the demo KB does not answer;
2. every buyer message goes through presale's own per-message decision (`on_message`) with
   the demo KB; a message the bot does not answer becomes a gap, and the agents' replies
   (the simulator's `AgentDesk` rules: one reply per burst, after a human delay, in the words
   of the last question) are linked to the last gap before them, as presale's store does;
3. `suggest` groups, ranks and drafts; the top 10 are checked against the planted gaps
   (found, with the planted answer; none repeats an answer the KB already has);
4. the drafts of the found planted gaps are accepted into the KB and the same messages are
   replayed: auto-answer share before/after, and auto-answer precision (an answer is right
   when the intent is the one the simulator planned, and, for a planted question, when the
   reply carries the planted answer; a suggestion's answer given to any other question is
   wrong).

Also compares the grouping methods (exact canonical text; word-free character n-grams at
several thresholds) on how many planted gaps each puts in the top 10 with a correct draft.
Writes bench/results/insight.json.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from services.presale.domain.answers import Handoff, Reply
from services.presale.domain.conversation import Conversation, on_message
from services.presale.domain.coverage import (
    gap_reason,
    kb_answers,
    product_words,
    still_open,
)
from services.presale.domain.kb import KnowledgeBase
from services.presale.domain.nlu.stages import stage_of
from services.presale.domain.suggestions import Draft, Gap, answer_key, faq_entry, suggest
from services.presale.domain.textsim import canonical
from services.presale.kb.loading import read_file
from services.presale.nlu_loader import buyer_language, install
from shared.contracts import MessageReceived
from shared.masking import mask
from simulator import gaps as planted_gaps
from simulator import texts
from simulator.agents import human_delay
from simulator.scenario import TZ, Planned, generate

install()  # the classifier's shipped model (the domain reads no file)

DEMO_KB = Path(__file__).resolve().parents[1] / "services" / "presale" / "kb" / "shop-demo.yaml"
RESULTS_PATH = Path(__file__).resolve().parent / "results" / "insight.json"
START = datetime(2026, 12, 1, 0, 0, tzinfo=TZ)
SESSION_GAP = timedelta(minutes=30)


@dataclass
class Outcome:
    """What the bot did with one simulated buyer message."""

    message: MessageReceived
    label: str
    gap: str | None
    kind: str
    """auto_answer | clarify | handoff | silent | with_agent"""
    text: str | None = None
    intent: str | None = None


@dataclass
class Day:
    outcomes: list[Outcome]
    gaps: list[Gap] = field(default_factory=list)

    def presale(self) -> list[Outcome]:
        return [o for o in self.outcomes if stage_of(o.label) == "presale"]  # type: ignore[arg-type]


def buyer_messages(seed: int, hours: float = 24) -> list[Planned]:
    plan = generate(seed, START, hours)
    return [
        e for e in plan.events
        if isinstance(e, Planned) and isinstance(e.payload, MessageReceived)
    ]  # fmt: skip


def run_day(messages: Sequence[Planned], kb: KnowledgeBase, seed: int) -> Day:
    """Every message through presale's decision, in time order; gaps with agents' replies."""
    convs: dict[str, Conversation] = {}
    day = Day([])
    rng = random.Random(seed + 1)
    latest_gap: dict[str, int] = {}  # conversation → index of its latest gap
    reply_due: dict[str, datetime] = {}  # conversation → when the agent's pending reply goes
    last: dict[str, Planned] = {}
    gap_rows: list[dict[str, Any]] = []

    def flush_replies(until: datetime) -> None:
        for cid, due in sorted(reply_due.items(), key=lambda kv: kv[1]):
            if due > until:
                continue
            del reply_due[cid]
            ev = last[cid]
            planted = planted_gaps.BY_KEY.get(ev.gap or "")
            text = (planted_gaps.agent_answer(planted, rng) if planted
                    else texts.agent_reply(ev.intent, rng, "小二"))  # fmt: skip
            i = latest_gap.get(cid)  # the reply answers the last question before it
            if i is not None and gap_rows[i]["answer"] is None:
                gap_rows[i]["answer"] = mask(text)

    for ev in messages:
        m = ev.payload
        assert isinstance(m, MessageReceived)
        flush_replies(m.sent_at)
        conv = convs.get(m.conversation_id)
        if conv is not None and m.sent_at - conv.last_activity_at >= SESSION_GAP:
            conv = Conversation(**{**conv.__dict__, "state": "closed", "memory": {},
                                   "recent_texts": (), "agent_id": None})  # fmt: skip
        out = on_message(
            conv, conversation_id=m.conversation_id, shop_id=m.shop_id, buyer_id=m.buyer_id,
            buyer_level=m.buyer_level, text=m.text, item_id=m.item_id, sent_at=m.sent_at,
            kb=kb, now=m.sent_at, session_gap=SESSION_GAP,
        )  # fmt: skip
        c, u, d = out.conversation, out.understanding, out.decision
        label = ev.intent or "other"
        if isinstance(d, Handoff):
            c = Conversation(**{**c.__dict__, "state": "assigned", "agent_id": "agent"})
        convs[m.conversation_id] = c
        if isinstance(d, Reply):
            kind, text = d.kind, d.text
        elif isinstance(d, Handoff):
            kind, text = "handoff", None
        elif d is None:
            kind, text = "with_agent", None
        else:
            kind, text = "silent", None
        day.outcomes.append(Outcome(m, label, ev.gap, kind, text, u.intent))
        reason = gap_reason(u, d)
        if reason is not None:
            latest_gap[m.conversation_id] = len(gap_rows)
            gap_rows.append({"gap_id": m.message_id, "buyer_id": m.buyer_id, "text": mask(m.text),
                             "intent": u.intent, "reason": reason, "item_id": m.item_id,
                             "answer": None})  # fmt: skip
        if isinstance(d, Handoff) or d is None:
            last[m.conversation_id] = ev
            reply_due.setdefault(m.conversation_id, m.sent_at + human_delay(rng))
    flush_replies(datetime.max.replace(tzinfo=TZ))
    day.gaps = [Gap(**row) for row in gap_rows]
    return day


def answered_by(kb: KnowledgeBase) -> Any:
    """`answered_by_kb` for `suggest`: the bot already auto-answers most of the group's
    example questions with this KB (presale's job uses the same rule)."""
    return lambda d: kb_answers(kb, d, START)


def accept(kb: KnowledgeBase, drafts: Sequence[Draft]) -> KnowledgeBase:
    doc = kb.model_dump(mode="json")
    doc["faqs"] = [*doc["faqs"], *(faq_entry(d, f"suggested-{d.key}") for d in drafts)]
    return KnowledgeBase.model_validate(doc)


def planted_of(draft: Draft, day: Day) -> str | None:
    """The planted gap a draft is about: the one most of its questions ask, if any."""
    by_id = {o.message.message_id: o.gap for o in day.outcomes}
    keys = [by_id.get(g) for g in draft.gap_ids]
    best = max(set(keys), key=lambda k: (keys.count(k), k or ""))
    return best if best is not None and keys.count(best) * 2 > len(keys) else None


def correct_answer(draft: Draft, key: str) -> bool:
    return answer_key(draft.answer) == answer_key(planted_gaps.BY_KEY[key].answer)


def duplicates_kb(draft: Draft, kb: KnowledgeBase) -> bool:
    known = {answer_key(f.answer) for f in kb.faqs}
    for p in kb.products:
        known |= {answer_key(v) for v in p.specs.values()}
    return answer_key(draft.answer) in known


def shares(day: Day, accepted_answers: Sequence[str]) -> dict[str, float]:
    presale = day.presale()
    auto = [o for o in presale if o.kind == "auto_answer"]
    suggested = [canonical(a) for a in accepted_answers]

    def right(o: Outcome) -> bool:
        text = canonical(o.text or "")
        if o.gap is not None:
            return canonical(planted_gaps.BY_KEY[o.gap].answer) in text
        if any(a in text for a in suggested):
            return False
        return o.intent == o.label

    n = len(presale)
    return {
        "presale_messages": n,
        "auto_answered": len(auto),
        "auto_answer_share": round(len(auto) / n, 4) if n else 0.0,
        "auto_answer_precision": round(sum(map(right, auto)) / len(auto), 4) if auto else 1.0,
        "planted_messages": sum(o.gap is not None for o in presale),
        "planted_share": round(sum(o.gap is not None for o in presale) / n, 4) if n else 0.0,
    }


def evaluate(
    seed: int = 7, hours: float = 24, threshold: float | None = None, by_answers: bool = True
) -> dict[str, Any]:
    kb = read_file(DEMO_KB)
    messages = buyer_messages(seed, hours)
    before = run_day(messages, kb, seed)
    kw: dict[str, Any] = {"by_answers": by_answers}
    if threshold is not None:
        kw["threshold"] = threshold
    open_gaps = still_open(kb, before.gaps, START)
    top = suggest(
        open_gaps, answered_by_kb=answered_by(kb), limit=10, background=product_words(kb),
        common=buyer_language(), **kw,
    )  # fmt: skip
    found = {}
    for d in top:
        key = planted_of(d, before)
        if key is not None and correct_answer(d, key):
            found.setdefault(key, d)
    after_kb = accept(kb, list(found.values()))
    after = run_day(messages, after_kb, seed)
    return {
        "seed": seed,
        "gaps_collected": len(before.gaps),
        "planted": len(planted_gaps.PLANTED),
        "found_in_top10_with_correct_answer": sorted(found),
        "coverage": round(len(found) / len(planted_gaps.PLANTED), 3),
        "duplicates_of_kb": [d.key for d in top if duplicates_kb(d, kb)],
        "top10": [
            {
                "key": d.key,
                "item_id": d.item_id,
                "buyers": d.buyers,
                "handoffs": d.handoffs,
                "asked": d.asked,
                "answer": d.answer,
                "answer_share": d.answer_share,
                "keywords": list(d.keywords),
                "examples": [t for t, _ in d.examples[:3]],
                "planted": planted_of(d, before),
            }
            for d in top
        ],
        "before": shares(before, []),
        "after": shares(after, [d.answer for d in found.values()]),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.insight")
    p.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    args = p.parse_args(argv)
    runs = [evaluate(seed) for seed in args.seeds]
    variants: dict[str, dict[str, Any]] = {
        "exact canonical text": {"threshold": 0.999, "by_answers": False},
        "char 1-3-gram tf-idf, cosine >= 0.5": {"threshold": 0.5, "by_answers": False},
        "exact canonical text + agents' answers": {"threshold": 0.999},
        **{f"char 1-3-gram tf-idf, cosine >= {t} + agents' answers": {"threshold": t}
           for t in (0.3, 0.5, 0.7)},
    }  # fmt: skip
    methods = {}
    for name, kw in variants.items():
        results = [evaluate(s, **kw) for s in args.seeds]
        methods[name] = {
            "coverage": [r["coverage"] for r in results],
            "share_gain_minus_planted_share": [
                round(r["after"]["auto_answer_share"] - r["before"]["auto_answer_share"]
                      - r["before"]["planted_share"], 4)
                for r in results
            ],
            "precision_after": [r["after"]["auto_answer_precision"] for r in results],
        }  # fmt: skip
    out = {"runs": runs, "methods": methods}
    RESULTS_PATH.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for r in runs:
        print(f"seed {r['seed']}: coverage {r['coverage']}, before {r['before']}, "
              f"after {r['after']}, duplicates {r['duplicates_of_kb']}")  # fmt: skip
    for name, figures in methods.items():
        print(f"{name}: {figures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
