"""Benchmark of presale's message classifier on the fixed held-out split and the fresh set.

    uv run python -m bench.presale_nlu

Prints per-intent precision/recall, accuracy, the accuracy–coverage curve over confidence
thresholds, the auto-answer precision/coverage at each threshold, secondary-intent and entity
accuracy, and p50/p99 latency per message; then the accuracy on the fresh hand-written set
(`tools/presale/data/fresh_written.py`, written before the issue-16 model and never used
for training), with and without the buyer's order context, by kind of message. Writes
everything to bench/results/presale_nlu.json (the fresh set's misses are not written out:
nobody should tune on them).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.presale.domain.nlu import (
    AUTO_ANSWERABLE,
    DEFAULT_AUTO_REPLY_THRESHOLD,
    BuyerContext,
    Understanding,
    understand,
)
from services.presale.domain.nlu.features import core_of
from services.presale.domain.nlu.normalize import normalize, split_emoji
from services.presale.domain.nlu.stages import INTENTS, stage_of
from services.presale.nlu_loader import install
from tools.presale.data.fresh_written import FRESH

install()  # the classifier's shipped model (the domain reads no file)

HELDOUT_PATH = Path(__file__).resolve().parents[1] / "tools" / "presale" / "data" / "heldout.jsonl"
TRAIN_PATH = HELDOUT_PATH.with_name("train.jsonl")
RESULTS_PATH = Path(__file__).resolve().parent / "results" / "presale_nlu.json"
THRESHOLDS = [round(t / 20, 2) for t in range(20)]


@dataclass(frozen=True)
class Scored:
    record: dict[str, Any]
    result: Understanding

    @property
    def right(self) -> bool:
        return self.result.intent == self.record["intent"]


def load_heldout(path: Path = HELDOUT_PATH) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def score(records: list[dict[str, Any]]) -> list[Scored]:
    return [Scored(r, understand(r["text"], r["history"])) for r in records]


def per_intent(scored: list[Scored]) -> dict[str, dict[str, float]]:
    tp, predicted, actual = Counter(), Counter(), Counter()
    for s in scored:
        predicted[s.result.intent] += 1
        actual[s.record["intent"]] += 1
        tp[s.record["intent"]] += s.right
    out = {}
    for intent in INTENTS:
        p = tp[intent] / predicted[intent] if predicted[intent] else 0.0
        r = tp[intent] / actual[intent] if actual[intent] else 0.0
        out[intent] = {"precision": p, "recall": r, "support": actual[intent]}
    return out


def auto_answer(scored: list[Scored], threshold: float) -> dict[str, float]:
    """Precision of auto-answered messages and the share of presale messages auto-answered."""
    answered = [
        s for s in scored
        if s.result.intent in AUTO_ANSWERABLE and s.result.confidence >= threshold
    ]  # fmt: skip
    presale = [s for s in scored if stage_of(s.record["intent"]) == "presale"]
    covered = [s for s in answered if stage_of(s.record["intent"]) == "presale"]
    return {
        "threshold": threshold,
        "precision": sum(s.right for s in answered) / len(answered) if answered else 1.0,
        "presale_coverage": len(covered) / len(presale) if presale else 0.0,
        "answered": len(answered),
    }


def curve(scored: list[Scored]) -> list[dict[str, float]]:
    rows = []
    for t in THRESHOLDS:
        kept = [s for s in scored if s.result.confidence >= t]
        rows.append({
            "threshold": t,
            "coverage": len(kept) / len(scored),
            "accuracy": sum(s.right for s in kept) / len(kept) if kept else 1.0,
        })  # fmt: skip
    return rows


def secondary_recall(scored: list[Scored]) -> float:
    multi = [s for s in scored if s.record["secondary"]]
    hits = sum(set(s.record["secondary"]) <= set(s.result.secondary_intents) for s in multi)
    return hits / len(multi) if multi else 0.0


def entity_accuracy(scored: list[Scored]) -> dict[str, float]:
    right, total = Counter(), Counter()
    for s in scored:
        for name, gold in s.record["entities"].items():
            total[name] += 1
            right[name] += getattr(s.result.entities, name) == gold
    return {name: right[name] / total[name] for name in sorted(total)}


def latency_ms(records: list[dict[str, Any]], rounds: int = 3) -> dict[str, float]:
    """Per-message cost: CPU time of this thread (what classification costs, immune to other
    processes preempting us on a shared machine) and wall-clock time (what a caller waits)."""
    cpu, wall = [], []
    for _ in range(rounds):
        for r in records:
            start_cpu, start_wall = time.thread_time_ns(), time.perf_counter_ns()
            understand(r["text"], r["history"])
            cpu.append((time.thread_time_ns() - start_cpu) / 1e6)
            wall.append((time.perf_counter_ns() - start_wall) / 1e6)
    cpu.sort()
    wall.sort()
    return {
        "p50": statistics.median(cpu),
        "p99": cpu[int(len(cpu) * 0.99) - 1],
        "max": cpu[-1],
        "wall_p50": statistics.median(wall),
        "wall_p99": wall[int(len(wall) * 0.99) - 1],
    }


_PASTED = re.compile(r"\d{12,}|https?://|tb\.cn")
_STATE_TEXTS = Counter(text for _, text, _, phase in FRESH if phase is not None)


def _fresh_kind(intent: str, text: str, history: tuple[str, ...], phase: str | None) -> str:
    if _STATE_TEXTS[text] > 1:
        return "state_dependent"  # the same words with another label in another order phase
    if _PASTED.search(text):
        return "pasted_id_or_link"
    if intent == "acknowledgement":
        return "short_ack"
    if history:
        return "follow_up"
    return "plain"


def _core(text: str) -> str:
    return core_of(split_emoji(normalize(text))[0])


def fresh_set() -> dict[str, Any]:
    """Accuracy on the fresh hand-written set, with the order context and without it; also on
    the messages whose core (what the model sees) no training message has."""
    trained = {_core(r["text"]) for r in load_heldout(TRAIN_PATH)}
    total, right, blind = Counter(), Counter(), Counter()
    unseen = unseen_right = 0
    for intent, text, history, phase in FRESH:
        kind = _fresh_kind(intent, text, history, phase)
        ctx = BuyerContext(order=phase) if phase is not None else None  # type: ignore[arg-type]
        ok = understand(text, history, ctx).intent == intent
        total[kind] += 1
        right[kind] += ok
        blind[kind] += understand(text, history).intent == intent
        if _core(text) not in trained:
            unseen += 1
            unseen_right += ok
    n = sum(total.values())
    return {
        "messages": n,
        "accuracy": sum(right.values()) / n,
        "accuracy_without_context": sum(blind.values()) / n,
        "unseen_messages": unseen,
        "unseen_accuracy": unseen_right / unseen if unseen else None,
        "by_kind": {
            k: {
                "messages": total[k],
                "accuracy": right[k] / total[k],
                "without_context": blind[k] / total[k],
            }
            for k in sorted(total)
        },
    }


def run() -> dict[str, Any]:
    records = load_heldout()
    understand("预热")  # load the model once, outside the timings
    scored = score(records)
    by_source = Counter()
    right_by_source = Counter()
    for s in scored:
        kind = s.record["source"].split(":")[0] + (":ctx" if s.record["history"] else "")
        kind += ":multi" if s.record["secondary"] else ""
        by_source[kind] += 1
        right_by_source[kind] += s.right
    return {
        "messages": len(scored),
        "accuracy": sum(s.right for s in scored) / len(scored),
        "accuracy_by_source": {k: right_by_source[k] / n for k, n in sorted(by_source.items())},
        "per_intent": per_intent(scored),
        "coverage_curve": curve(scored),
        "auto_answer_curve": [auto_answer(scored, t) for t in THRESHOLDS],
        "default_threshold": DEFAULT_AUTO_REPLY_THRESHOLD,
        "auto_answer_at_default": auto_answer(scored, DEFAULT_AUTO_REPLY_THRESHOLD),
        "secondary_recall": secondary_recall(scored),
        "entity_accuracy": entity_accuracy(scored),
        "latency_ms": latency_ms(records),
        "fresh_written": fresh_set(),
        "errors": [
            {
                "text": s.record["text"],
                "history": s.record["history"],
                "gold": s.record["intent"],
                "predicted": s.result.intent,
                "confidence": s.result.confidence,
            }
            for s in scored
            if not s.right
        ],
    }


def report(results: dict[str, Any]) -> None:
    print(f"held-out messages: {results['messages']}")
    print(f"{'intent':<24}{'precision':>10}{'recall':>8}{'n':>5}")
    for intent, row in results["per_intent"].items():
        print(f"{intent:<24}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['support']:>5}")
    print(f"\naccuracy: {results['accuracy']:.3f}")
    for kind, acc in results["accuracy_by_source"].items():
        print(f"  {kind:<22}{acc:.3f}")
    print("\nthreshold  coverage  accuracy | auto-answer precision  presale coverage")
    for row, auto in zip(results["coverage_curve"], results["auto_answer_curve"], strict=True):
        print(
            f"{row['threshold']:>9.2f}{row['coverage']:>10.3f}{row['accuracy']:>10.3f} |"
            f"{auto['precision']:>22.3f}{auto['presale_coverage']:>18.3f}"
        )
    at = results["auto_answer_at_default"]
    print(
        f"\nDEFAULT_AUTO_REPLY_THRESHOLD={results['default_threshold']}: auto-answer precision "
        f"{at['precision']:.3f}, presale coverage {at['presale_coverage']:.3f}"
    )
    print(f"secondary-intent recall (multi-question messages): {results['secondary_recall']:.3f}")
    print("entity accuracy:", {k: round(v, 3) for k, v in results["entity_accuracy"].items()})
    fresh = results["fresh_written"]
    print(
        f"fresh hand-written set ({fresh['messages']} messages): accuracy {fresh['accuracy']:.3f} "
        f"with order context, {fresh['accuracy_without_context']:.3f} without; "
        f"{fresh['unseen_accuracy']:.3f} on the {fresh['unseen_messages']} whose core no "
        "training message has"
    )
    for kind, row in fresh["by_kind"].items():
        print(
            f"  {kind:<20}{row['messages']:>4}  {row['accuracy']:.3f}"
            f"  (without context {row['without_context']:.3f})"
        )
    lat = results["latency_ms"]
    print(
        f"latency per message (CPU): p50 {lat['p50']:.3f} ms, p99 {lat['p99']:.3f} ms; "
        f"wall clock: p50 {lat['wall_p50']:.3f} ms, p99 {lat['wall_p99']:.3f} ms"
    )


def main() -> None:
    results = run()
    report(results)
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {RESULTS_PATH}")


if __name__ == "__main__":
    main()
