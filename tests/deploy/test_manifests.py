"""Every overlay builds, and every manifest is valid: Kubernetes kinds against the official
schemas (kubernetes-validate, offline, strict), custom resources against crd_schemas."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from ops.k8s_services import GRACEFUL_TIMEOUT_S, PRE_STOP_S
from tests.deploy.conftest import OVERLAYS, of_kind
from tests.deploy.crd_schemas import BY_KIND

K8S_VERSION = "1.33.0"


def validate(doc: dict[str, Any]) -> None:
    if doc["kind"] in BY_KIND:
        jsonschema.validate(doc, BY_KIND[doc["kind"]])
    else:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_manifest_is_valid(overlay: str, manifests: dict[str, list[dict[str, Any]]]) -> None:
    docs = manifests[overlay]
    assert docs, f"{overlay} rendered nothing"
    problems = []
    for doc in docs:
        try:
            validate(doc)
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as exc:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(
                f"{doc['kind']} ({doc['apiVersion']}): no schema, add one to crd_schemas"
            )
    assert not problems, "\n".join(problems)


def test_the_validators_do_reject_mistakes(manifests: dict[str, list[dict[str, Any]]]) -> None:
    deployment = copy.deepcopy(of_kind(manifests["prod"], "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["htpGet"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
    topic = copy.deepcopy(of_kind(manifests["prod"], "KafkaTopic")[0])
    topic["spec"]["partitions"] = "eight"
    with pytest.raises(jsonschema.ValidationError):
        validate(topic)


def test_overlays_differ_where_they_should(manifests: dict[str, list[dict[str, Any]]]) -> None:
    dev, prod = manifests["dev"], manifests["prod"]
    assert {d["metadata"]["namespace"] for d in dev} == {"xiaoer-dev"}
    assert {d["metadata"]["namespace"] for d in prod} == {"xiaoer"}
    # dev scales on CPU (no KEDA there), prod on consumer lag
    assert len(of_kind(dev, "HorizontalPodAutoscaler")) == 4
    assert not of_kind(dev, "ScaledObject")
    assert len(of_kind(prod, "ScaledObject")) == 4
    assert not of_kind(prod, "HorizontalPodAutoscaler")
    assert {t["spec"]["replicas"] for t in of_kind(dev, "KafkaTopic")} == {1}
    assert {t["spec"]["replicas"] for t in of_kind(prod, "KafkaTopic")} == {3}
    # secrets: generated in dev, pulled from the secret store in prod, never committed there
    assert not of_kind(prod, "Secret")
    assert {e["metadata"]["name"] for e in of_kind(prod, "ExternalSecret")} == {
        "xiaoer-secrets",
        "xiaoer-keda-kafka",
        "xiaoer-kafka-ca",
    }
    # every service trusts the Kafka cluster CA from that Secret
    for d in of_kind(prod, "Deployment"):
        volumes = {v["name"]: v for v in d["spec"]["template"]["spec"]["volumes"]}
        assert volumes["kafka-ca"]["secret"]["secretName"] == "xiaoer-kafka-ca"
    dev_secret = of_kind(dev, "Secret")[0]["metadata"]["name"]
    for d in of_kind(dev, "Deployment"):
        env = d["spec"]["template"]["spec"]["containers"][0]["env"]
        refs = {
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in env
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        assert dev_secret in refs  # kustomize rewrote the hashed name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_deployments_are_hardened_and_probed(
    overlay: str, manifests: dict[str, list[dict[str, Any]]]
) -> None:
    docs = manifests[overlay]
    deployments = of_kind(docs, "Deployment")
    assert {d["metadata"]["name"] for d in deployments} == {
        "xiaoer-presale", "xiaoer-insale", "xiaoer-aftersale", "xiaoer-metrics",
    }  # fmt: skip
    for d in deployments:
        pod = d["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        sc = c["securityContext"]
        assert sc["runAsNonRoot"]
        assert sc["readOnlyRootFilesystem"]
        assert not sc["allowPrivilegeEscalation"]
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert sc["seccompProfile"]["type"] == "RuntimeDefault"
        assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert c["resources"]["requests"]
        assert c["resources"]["limits"]
        assert {"mountPath": "/tmp", "name": "tmp"} in c["volumeMounts"]
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]
        assert pod["terminationGracePeriodSeconds"] > GRACEFUL_TIMEOUT_S + PRE_STOP_S
        assert "replicas" not in d["spec"], "the autoscaler owns the replica count"
    names = {d["metadata"]["name"] for d in deployments}
    for kind in ("Service", "PodDisruptionBudget", "ServiceMonitor", "NetworkPolicy"):
        assert names <= {d["metadata"]["name"] for d in of_kind(docs, kind)}, kind
    (job,) = of_kind(docs, "Job")
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["shared.migrate"]
