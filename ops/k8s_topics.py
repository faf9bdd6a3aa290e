"""`python -m ops.k8s_topics > deploy/k8s/base/topics/kafka.yaml`: Strimzi topics and users.

Every registry topic becomes a `KafkaTopic` (partitions and retention from `shared.topics`),
followed by its dead-letter twin (one partition, longer retention, so an operator has two
weeks to fix and re-drive). Each service gets a `KafkaUser` whose ACLs allow exactly its own
traffic: read what it consumes (in its group `xiaoer-<service>`), write what it produces and
the dead-letter twins of what it consumes. `xiaoer-ops` may read dead letters and re-drive
them (its ledger is in PostgreSQL, see ops/dlq/ledger.py); `xiaoer-keda` may only describe, to measure consumer lag.
"""

from __future__ import annotations

import sys
from typing import Any

from ops.manifests import KAFKA_CLUSTER, Manifest, dump_all, k8s_name, labels
from ops.topology import (
    SERVICES,
    consumed,
    consumer_group,
    consumers_of,
    produced,
)
from shared.topics import TOPICS, Topic

COMMAND = "python -m ops.k8s_topics"
HOUR_MS = 3_600_000
DLQ_RETENTION_HOURS = 24 * 14
REPLICAS = 3
MIN_INSYNC = 2


def _topic(name: str, partitions: int, retention_hours: int, role: str) -> Manifest:
    return {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaTopic",
        "metadata": {
            "name": k8s_name(name),
            "labels": {
                "strimzi.io/cluster": KAFKA_CLUSTER,
                **labels("topics"),
                "xiaoer.io/topic-role": role,
            },
        },
        "spec": {
            "topicName": name,
            "partitions": partitions,
            "replicas": REPLICAS,
            "config": {
                "retention.ms": retention_hours * HOUR_MS,
                "cleanup.policy": "delete",
                "min.insync.replicas": MIN_INSYNC,
            },
        },
    }


def topics() -> list[Manifest]:
    out: list[Manifest] = []
    for t in TOPICS:
        out.append(_topic(t.name, t.partitions, t.retention_hours, "events"))
        out.append(_topic(t.dlq, 1, DLQ_RETENTION_HOURS, "dead-letters"))
    return out


def _acl(kind: str, name: str, *operations: str) -> dict[str, Any]:
    return {
        "resource": {"type": kind, "name": name, "patternType": "literal"},
        "operations": list(operations),
        "host": "*",
    }


def _user(name: str, acls: list[dict[str, Any]]) -> Manifest:
    return {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaUser",
        "metadata": {
            "name": name,
            "labels": {"strimzi.io/cluster": KAFKA_CLUSTER, **labels("kafka-users")},
        },
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": acls},
        },
    }


def service_acls(service: str) -> list[dict[str, Any]]:
    reads: list[Topic] = list(consumed(service))
    acls = [_acl("group", consumer_group(service), "Read", "Describe")]
    acls += [_acl("topic", t.name, "Read", "Describe") for t in reads]
    writes = [t.name for t in produced(service)] + [t.dlq for t in reads]
    acls += [_acl("topic", name, "Write", "Describe") for name in writes]
    return acls


def ops_acls() -> list[dict[str, Any]]:
    """Dead-letter tooling: read every `.dlq` (no group), write back to consumed topics."""
    redrivable = [t for t in TOPICS if consumers_of(t)]
    acls = [_acl("topic", t.dlq, "Read", "Describe") for t in redrivable]
    acls += [_acl("topic", t.name, "Write", "Describe") for t in redrivable]
    return acls


def keda_acls() -> list[dict[str, Any]]:
    """KEDA's Kafka scaler reads offsets to compute lag: describe only, nothing else."""
    acls = [_acl("group", consumer_group(s), "Describe") for s in SERVICES]
    acls += [_acl("topic", t.name, "Describe") for t in TOPICS if consumers_of(t)]
    return acls


def users() -> list[Manifest]:
    out = [_user(f"xiaoer-{s}", service_acls(s)) for s in SERVICES]
    out.append(_user("xiaoer-ops", ops_acls()))
    out.append(_user("xiaoer-keda", keda_acls()))
    return out


def render() -> str:
    return dump_all([*topics(), *users()], COMMAND + " > deploy/k8s/base/topics/kafka.yaml")


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
