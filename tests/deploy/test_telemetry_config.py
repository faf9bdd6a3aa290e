"""The collector configuration is wired end to end; the dashboard queries real metrics."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from shared.observability import REGISTRY
from tests.deploy.conftest import DEPLOY


def test_collector_pipeline_keeps_every_error_trace() -> None:
    cfg: dict[str, Any] = yaml.safe_load((DEPLOY / "otel" / "collector.yaml").read_text())
    (pipeline,) = cfg["service"]["pipelines"].values()
    for section, names in (
        ("receivers", pipeline["receivers"]),
        ("processors", pipeline["processors"]),
        ("exporters", pipeline["exporters"]),
    ):
        for name in names:
            assert name in cfg[section], f"pipeline uses undefined {section[:-1]} {name}"
    assert set(cfg["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    assert pipeline["processors"][0] == "memory_limiter"
    assert pipeline["processors"].index("tail_sampling") < pipeline["processors"].index("batch")
    policies = {p["type"]: p for p in cfg["processors"]["tail_sampling"]["policies"]}
    assert policies["status_code"]["status_code"]["status_codes"] == ["ERROR"]
    assert 0 < policies["probabilistic"]["probabilistic"]["sampling_percentage"] < 100
    assert all(name.startswith("otlp") for name in pipeline["exporters"])
    assert set(cfg["service"]["extensions"]) <= set(cfg["extensions"])


def _metric_names() -> set[str]:
    names: set[str] = set()
    for family in REGISTRY.collect():
        for sample in family.samples:
            names.add(sample.name)
        names.add(family.name)
    return names


def test_dashboard_queries_metrics_the_services_export() -> None:
    board = json.loads((DEPLOY / "grafana" / "xiaoer-sre.json").read_text())
    panels = board["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    exprs = [t["expr"] for p in panels for t in p.get("targets", [])]
    used = {m for e in exprs for m in re.findall(r"\b(xiaoer_[a-z_]+)\b", e)}
    known = _metric_names()
    # Histogram/counter series the registry has not exported yet still follow its families.
    families = {n.removesuffix("_total") for n in known}
    unknown = {
        m
        for m in used
        if m not in known and not any(m in (f + "_bucket", f + "_total", f) for f in families)
    }
    assert not unknown, f"dashboard uses metrics no service exports: {unknown}"
    text = "\n".join(exprs)
    for needed in (
        "xiaoer_consumer_lag",
        "xiaoer_handler_duration_seconds_bucket",
        'outcome="dead_lettered"',
        "xiaoer_outbox_backlog",
        "xiaoer_timers_due",
    ):
        assert needed in text, needed
