"""Structural JSON Schemas for the custom resources kubernetes-validate does not know.

Not the operators' full CRDs (they are not shipped in any PyPI package): the fields xiaoer
uses, their types and allowed values, so a typo or a missing field fails offline.
"""

from __future__ import annotations

from typing import Any

NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 253}
LABELS = {"type": "object", "additionalProperties": {"type": "string"}}


def _resource(
    api: str, kind: str, spec: dict[str, Any], labels_required: tuple[str, ...] = ()
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": NAME, "namespace": NAME, "labels": LABELS, "annotations": LABELS},
    }
    if labels_required:
        metadata["required"] = ["name", "labels"]
        metadata["properties"]["labels"] = {**LABELS, "required": list(labels_required)}
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": api},
            "kind": {"const": kind},
            "metadata": metadata,
            "spec": spec,
        },
    }


ACL = {
    "type": "object",
    "required": ["resource", "operations"],
    "additionalProperties": False,
    "properties": {
        "resource": {
            "type": "object",
            "required": ["type", "name", "patternType"],
            "additionalProperties": False,
            "properties": {
                "type": {"enum": ["topic", "group", "cluster", "transactionalId"]},
                "name": {"type": "string", "minLength": 1},
                "patternType": {"enum": ["literal", "prefix"]},
            },
        },
        "operations": {
            "type": "array",
            "minItems": 1,
            "items": {
                "enum": [
                    "Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction",
                    "AlterConfigs", "DescribeConfigs", "IdempotentWrite", "All",
                ]
            },
        },
        "host": {"type": "string"},
    },
}  # fmt: skip

KAFKA_TOPIC = _resource(
    "kafka.strimzi.io/v1beta2",
    "KafkaTopic",
    {
        "type": "object",
        "required": ["topicName", "partitions", "replicas", "config"],
        "additionalProperties": False,
        "properties": {
            "topicName": {"type": "string", "pattern": r"^[a-zA-Z0-9._-]{1,249}$"},
            "partitions": {"type": "integer", "minimum": 1},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
            "config": {
                "type": "object",
                "properties": {
                    "retention.ms": {"type": "integer", "minimum": 1},
                    "cleanup.policy": {"enum": ["delete", "compact", "compact,delete"]},
                    "min.insync.replicas": {"type": "integer", "minimum": 1},
                },
            },
        },
    },
    labels_required=("strimzi.io/cluster",),
)

KAFKA_USER = _resource(
    "kafka.strimzi.io/v1beta2",
    "KafkaUser",
    {
        "type": "object",
        "required": ["authentication", "authorization"],
        "additionalProperties": False,
        "properties": {
            "authentication": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"enum": ["tls", "tls-external", "scram-sha-512"]}},
            },
            "authorization": {
                "type": "object",
                "required": ["type", "acls"],
                "additionalProperties": False,
                "properties": {
                    "type": {"const": "simple"},
                    "acls": {"type": "array", "minItems": 1, "items": ACL},
                },
            },
        },
    },
    labels_required=("strimzi.io/cluster",),
)

SERVICE_MONITOR = _resource(
    "monitoring.coreos.com/v1",
    "ServiceMonitor",
    {
        "type": "object",
        "required": ["selector", "endpoints"],
        "additionalProperties": False,
        "properties": {
            "selector": {
                "type": "object",
                "required": ["matchLabels"],
                "properties": {"matchLabels": {**LABELS, "minProperties": 1}},
            },
            "endpoints": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["port", "path"],
                    "additionalProperties": False,
                    "properties": {
                        "port": {"type": "string"},
                        "path": {"type": "string", "pattern": "^/"},
                        "interval": {"type": "string", "pattern": r"^[0-9]+(ms|s|m|h)$"},
                    },
                },
            },
        },
    },
)

KAFKA_TRIGGER = {
    "type": "object",
    "required": ["type", "metadata", "authenticationRef"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "kafka"},
        "name": {"type": "string"},
        "metadata": {
            "type": "object",
            "required": ["bootstrapServers", "consumerGroup", "topic", "lagThreshold"],
            "additionalProperties": {"type": "string"},
        },
        "authenticationRef": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": NAME},
        },
    },
}

SCALED_OBJECT = _resource(
    "keda.sh/v1alpha1",
    "ScaledObject",
    {
        "type": "object",
        "required": ["scaleTargetRef", "triggers"],
        "additionalProperties": False,
        "properties": {
            "scaleTargetRef": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "name": NAME,
                },
            },
            "pollingInterval": {"type": "integer", "minimum": 1},
            "cooldownPeriod": {"type": "integer", "minimum": 0},
            "minReplicaCount": {"type": "integer", "minimum": 0},
            "maxReplicaCount": {"type": "integer", "minimum": 1},
            "advanced": {"type": "object"},
            "triggers": {"type": "array", "minItems": 1, "items": KAFKA_TRIGGER},
        },
    },
)

TRIGGER_AUTHENTICATION = _resource(
    "keda.sh/v1alpha1",
    "TriggerAuthentication",
    {
        "type": "object",
        "required": ["secretTargetRef"],
        "additionalProperties": False,
        "properties": {
            "secretTargetRef": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["parameter", "name", "key"],
                    "additionalProperties": False,
                    "properties": {
                        "parameter": {"type": "string"},
                        "name": NAME,
                        "key": {"type": "string"},
                    },
                },
            }
        },
    },
)

EXTERNAL_SECRET = _resource(
    "external-secrets.io/v1",
    "ExternalSecret",
    {
        "type": "object",
        "required": ["secretStoreRef", "target", "data"],
        "additionalProperties": False,
        "properties": {
            "refreshInterval": {"type": "string"},
            "secretStoreRef": {
                "type": "object",
                "required": ["kind", "name"],
                "properties": {
                    "kind": {"enum": ["SecretStore", "ClusterSecretStore"]},
                    "name": NAME,
                },
            },
            "target": {"type": "object", "required": ["name"]},
            "data": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["secretKey", "remoteRef"],
                    "properties": {
                        "secretKey": {"type": "string"},
                        "remoteRef": {"type": "object", "required": ["key"]},
                    },
                },
            },
        },
    },
)

BY_KIND: dict[str, dict[str, Any]] = {
    "KafkaTopic": KAFKA_TOPIC,
    "KafkaUser": KAFKA_USER,
    "ServiceMonitor": SERVICE_MONITOR,
    "ScaledObject": SCALED_OBJECT,
    "TriggerAuthentication": TRIGGER_AUTHENTICATION,
    "ExternalSecret": EXTERNAL_SECRET,
}
