"""Generated manifests equal what the generators print now, and match the registry."""

from __future__ import annotations

from typing import Any

import yaml

from ops import k8s_services, k8s_topics
from ops.k8s_topics import DLQ_RETENTION_HOURS, HOUR_MS
from ops.topology import REDRIVE_GROUP, SERVICES, consumed, consumer_group, produced
from shared.topics import TOPICS
from tests.deploy.conftest import DEPLOY, of_kind

TOPICS_FILE = DEPLOY / "k8s" / "base" / "topics" / "kafka.yaml"
REGENERATE = (
    "stale: run `uv run python -m ops.k8s_topics > deploy/k8s/base/topics/kafka.yaml` and "
    "`uv run python -m ops.k8s_services --write`, then commit"
)


def test_committed_topic_manifests_equal_the_generator() -> None:
    assert TOPICS_FILE.read_text() == k8s_topics.render(), REGENERATE


def test_committed_service_manifests_equal_the_generator() -> None:
    for rel, text in k8s_services.rendered().items():
        assert (DEPLOY / "k8s" / rel).read_text() == text, f"{rel} {REGENERATE}"


def test_topic_manifests_match_the_registry() -> None:
    docs = list(yaml.safe_load_all(TOPICS_FILE.read_text()))
    topics = {d["spec"]["topicName"]: d["spec"] for d in of_kind(docs, "KafkaTopic")}
    expected = {t.name for t in TOPICS} | {t.dlq for t in TOPICS}
    assert set(topics) == expected
    for t in TOPICS:
        assert topics[t.name]["partitions"] == t.partitions
        assert topics[t.name]["config"]["retention.ms"] == t.retention_hours * HOUR_MS
        assert topics[t.dlq]["config"]["retention.ms"] == DLQ_RETENTION_HOURS * HOUR_MS
        assert topics[t.dlq]["config"]["retention.ms"] > topics[t.name]["config"]["retention.ms"]


def _acls(user: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (a["resource"]["type"], a["resource"]["name"], op)
        for a in user["spec"]["authorization"]["acls"]
        for op in a["operations"]
    }


def test_each_service_may_touch_only_its_own_topics() -> None:
    docs = list(yaml.safe_load_all(TOPICS_FILE.read_text()))
    users = {u["metadata"]["name"]: u for u in of_kind(docs, "KafkaUser")}
    assert set(users) == {f"xiaoer-{s}" for s in SERVICES} | {"xiaoer-ops", "xiaoer-keda"}
    for s in SERVICES:
        acls = _acls(users[f"xiaoer-{s}"])
        reads = {n for kind, n, op in acls if kind == "topic" and op == "Read"}
        writes = {n for kind, n, op in acls if kind == "topic" and op == "Write"}
        groups = {n for kind, n, _ in acls if kind == "group"}
        assert reads == {t.name for t in consumed(s)}
        assert writes == {t.name for t in produced(s)} | {t.dlq for t in consumed(s)}
        assert groups == {consumer_group(s)}
    keda_ops = {op for _, _, op in _acls(users["xiaoer-keda"])}
    assert keda_ops == {"Describe"}
    ops_acls = _acls(users["xiaoer-ops"])
    assert all(n.endswith(".dlq") for _, n, op in ops_acls if op == "Read")
    assert REDRIVE_GROUP.startswith("xiaoer-")


def test_lag_autoscaling_follows_each_consumer_group(
    manifests: dict[str, list[dict[str, Any]]],
) -> None:
    for so in of_kind(manifests["prod"], "ScaledObject"):
        service = so["metadata"]["name"].removeprefix("xiaoer-")
        triggers = so["spec"]["triggers"]
        assert {t["metadata"]["consumerGroup"] for t in triggers} == {consumer_group(service)}
        assert {t["metadata"]["topic"] for t in triggers} == {t.name for t in consumed(service)}
        assert so["spec"]["maxReplicaCount"] == max(t.partitions for t in consumed(service))
