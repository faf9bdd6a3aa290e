"""`python -m ops.k8s_services --write`: per-service Kubernetes manifests for the base.

One file per service under `deploy/k8s/base/services/` (ServiceAccount, Deployment, Service,
PodDisruptionBudget, ServiceMonitor, NetworkPolicy, KEDA ScaledObject on consumer lag) and
the CPU HPA alternative under `deploy/k8s/components/cpu-hpa/`. They are generated because
the autoscaling triggers follow the consumption map in `ops/topology.py`; hand-written parts
(config, migrations Job, overlays) live beside them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ops.manifests import Manifest, dump_all, labels
from ops.topology import SERVICES, consumed, consumer_group

COMMAND = "python -m ops.k8s_services --write"
ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"

HTTP_PORT = 8080
UID = 10001
GRACEFUL_TIMEOUT_S = 15
"""The broker's graceful timeout (`GRACEFUL_TIMEOUT_S`, shared.settings default)."""
PRE_STOP_S = 5
"""Time for endpoints to drop the pod before SIGTERM reaches the process."""
TERMINATION_GRACE_S = GRACEFUL_TIMEOUT_S + PRE_STOP_S + 10
LAG_THRESHOLD = 200
KAFKA_BOOTSTRAP_TLS = "xiaoer-kafka-bootstrap.kafka.svc:9093"

RESOURCES = {
    "presale": ({"cpu": "200m", "memory": "256Mi"}, {"cpu": "1", "memory": "512Mi"}),
    "insale": ({"cpu": "100m", "memory": "192Mi"}, {"cpu": "1", "memory": "384Mi"}),
    "aftersale": ({"cpu": "100m", "memory": "192Mi"}, {"cpu": "1", "memory": "384Mi"}),
    "metrics": ({"cpu": "200m", "memory": "256Mi"}, {"cpu": "1", "memory": "512Mi"}),
}


def _selector(service: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": f"xiaoer-{service}"}


def _meta(service: str, name: str | None = None) -> dict[str, object]:
    return {"name": name or f"xiaoer-{service}", "labels": labels(service)}


def _secret_env(name: str, secret: str, key: str, optional: bool = False) -> dict[str, object]:
    ref: dict[str, object] = {"name": secret, "key": key}
    if optional:
        ref["optional"] = True
    return {"name": name, "valueFrom": {"secretKeyRef": ref}}


def _http_probe(path: str, period: int, timeout: int, failures: int) -> dict[str, object]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    }


def max_replicas(service: str) -> int:
    """More consumers than the widest topic's partitions would sit idle."""
    return max(t.partitions for t in consumed(service))


def service_account(service: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(service),
        "automountServiceAccountToken": False,
    }


def deployment(service: str) -> Manifest:
    requests, limits = RESOURCES[service]
    name = f"xiaoer-{service}"
    container = {
        "name": service,
        "image": "xiaoer",
        "imagePullPolicy": "Always",
        "args": [f"services.{service}"],
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": "xiaoer-config"}}],
        "env": [
            {"name": "SERVICE_NAME", "value": name},
            {"name": "OTEL_SERVICE_NAME", "value": name},
            {"name": "HTTP_PORT", "value": str(HTTP_PORT)},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {
                "name": "OTEL_RESOURCE_ATTRIBUTES",
                "value": "k8s.pod.name=$(POD_NAME),service.namespace=xiaoer",
            },
            _secret_env("DATABASE_URL", "xiaoer-secrets", "DATABASE_URL"),
            _secret_env("API_TOKENS", "xiaoer-secrets", "API_TOKENS"),
            _secret_env("OPERATOR_TOKEN", "xiaoer-secrets", "OPERATOR_TOKEN"),
            # The service's own Kafka identity (Strimzi writes the KafkaUser's secret).
            {"name": "KAFKA_SASL_USERNAME", "value": name},
            _secret_env("KAFKA_SASL_PASSWORD", name, "password", optional=True),
        ],
        "resources": {"requests": requests, "limits": limits},
        "startupProbe": _http_probe("/healthz", 2, 2, 30),
        "livenessProbe": _http_probe("/healthz", 10, 2, 3),
        "readinessProbe": _http_probe("/readyz", 5, 3, 2),
        "lifecycle": {"preStop": {"sleep": {"seconds": PRE_STOP_S}}},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            # The Kafka cluster's CA (KAFKA_SSL_CAFILE): optional, dev brokers use plaintext.
            {"name": "kafka-ca", "mountPath": "/etc/kafka-ca", "readOnly": True},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(service),
        "spec": {
            # No `replicas`: the ScaledObject (or the CPU HPA) owns the count.
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": _selector(service)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {"labels": labels(service)},
                "spec": {
                    "serviceAccountName": name,
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": TERMINATION_GRACE_S,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": UID,
                        "runAsGroup": UID,
                        "fsGroup": UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": _selector(service)},
                        }
                    ],
                    "containers": [container],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                        {
                            "name": "kafka-ca",
                            "secret": {
                                "secretName": "xiaoer-kafka-ca",
                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                "optional": True,
                            },
                        },
                    ],
                },
            },
        },
    }


def service(service: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(service),
        "spec": {
            "type": "ClusterIP",
            "selector": _selector(service),
            "ports": [{"name": "http", "port": HTTP_PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def pod_disruption_budget(service: str) -> Manifest:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(service),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _selector(service)}},
    }


def service_monitor(service: str) -> Manifest:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": _meta(service),
        "spec": {
            "selector": {"matchLabels": _selector(service)},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "15s"}],
        },
    }


def network_policy(service: str) -> Manifest:
    """Ingress: Prometheus and labelled API clients. Egress: DNS, Kafka, Postgres, OTLP."""

    def ns(name: str) -> dict[str, object]:
        return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}

    def ports(*numbers: int, protocol: str = "TCP") -> list[dict[str, object]]:
        return [{"port": n, "protocol": protocol} for n in numbers]

    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(service),
        "spec": {
            "podSelector": {"matchLabels": _selector(service)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {"from": [ns("monitoring")], "ports": ports(HTTP_PORT)},
                {
                    "from": [{"podSelector": {"matchLabels": {"xiaoer.io/api-client": "true"}}}],
                    "ports": ports(HTTP_PORT),
                },
            ],
            "egress": [
                {"to": [ns("kube-system")], "ports": ports(53) + ports(53, protocol="UDP")},
                {"to": [ns("kafka")], "ports": ports(9092, 9093)},
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": ports(5432)},
                {"to": [ns("observability")], "ports": ports(4317, 4318)},
            ],
        },
    }


def scaled_object(service: str) -> Manifest:
    """Scale on consumer lag of the service's group, one trigger per consumed topic."""
    triggers = [
        {
            "type": "kafka",
            "name": f"lag-{t.name.replace('.', '-')}",
            "metadata": {
                "bootstrapServers": KAFKA_BOOTSTRAP_TLS,
                "consumerGroup": consumer_group(service),
                "topic": t.name,
                "lagThreshold": str(LAG_THRESHOLD),
                "activationLagThreshold": "0",
                "offsetResetPolicy": "earliest",
                "allowIdleConsumers": "false",
            },
            "authenticationRef": {"name": "xiaoer-keda-kafka"},
        }
        for t in consumed(service)
    ]
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": _meta(service),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": f"xiaoer-{service}",
            },
            "pollingInterval": 15,
            "cooldownPeriod": 300,
            "minReplicaCount": 2,
            "maxReplicaCount": max_replicas(service),
            "advanced": {
                "horizontalPodAutoscalerConfig": {
                    "behavior": {
                        "scaleDown": {
                            "stabilizationWindowSeconds": 300,
                            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
                        }
                    }
                }
            },
            "triggers": triggers,
        },
    }


def cpu_hpa(service: str) -> Manifest:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(service),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": f"xiaoer-{service}",
            },
            "minReplicas": 2,
            "maxReplicas": max_replicas(service),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
        },
    }


def service_manifests(name: str) -> list[Manifest]:
    return [
        service_account(name),
        deployment(name),
        service(name),
        pod_disruption_budget(name),
        service_monitor(name),
        network_policy(name),
        scaled_object(name),
    ]


def rendered() -> dict[Path, str]:
    """Relative path under deploy/k8s → file content."""
    out = {
        Path("base/services") / f"{name}.yaml": dump_all(service_manifests(name), COMMAND)
        for name in SERVICES
    }
    out[Path("components/cpu-hpa/hpa.yaml")] = dump_all([cpu_hpa(s) for s in SERVICES], COMMAND)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write the files under {K8S}")
    args = parser.parse_args()
    for rel, text in rendered().items():
        if args.write:
            path = K8S / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
        else:
            sys.stdout.write(f"# --- {rel}\n{text}")


if __name__ == "__main__":
    main()
