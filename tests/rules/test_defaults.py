"""The default rules kubesight ships load, validate, and cover what the issue lists."""

from __future__ import annotations

import subprocess

import pytest

from kubesight.promql import parse
from kubesight.rules import check_rules
from kubesight.rules.defaults import default_groups, default_rule_files
from tests.conftest import require_peer

REQUIRED_ALERTS = {
    "KubePodCrashLooping", "KubePodNotReady", "KubeDeploymentReplicasMismatch", "KubeDeploymentRolloutStuck",
    "KubeStatefulSetReplicasMismatch", "KubeDaemonSetRolloutStuck", "KubeJobFailed", "KubeContainerWaiting",
    "KubeNodeNotReady", "KubeNodeUnreachable", "KubePersistentVolumeFillingUp", "CPUThrottlingHigh",
    "KubeCPUOvercommit", "KubeMemoryOvercommit", "NodeFilesystemSpaceFillingUp", "NodeFilesystemAlmostOutOfSpace",
    "NodeMemoryHighUtilization", "NodeHighNumberConntrackEntriesUsed", "NodeClockNotSynchronising",
    "TargetDown", "Watchdog", "KubesightIngestFailing", "KubesightWALCorrupted",
    "KubesightRuleEvaluationFailures", "KubesightNotificationsFailing", "KubesightDiskFilling",
}
REQUIRED_RECORDS = {
    "node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate",
    "node_namespace_pod_container:container_cpu_usage_seconds_total:sum_rate5m",
    "node_namespace_pod_container:container_memory_working_set_bytes",
    "namespace_workload_pod:kube_pod_owner:relabel",
    "instance:node_cpu_utilisation:rate5m",
    "instance:node_memory_utilisation:ratio",
    "namespace_cpu:kube_pod_container_resource_requests:sum",
    "namespace_memory:kube_pod_container_resource_requests:sum",
}


def test_every_default_rule_validates_and_parses() -> None:
    files = default_rule_files()
    assert [f.name for f in files] == ["general.yaml", "kubernetes.yaml", "kubesight.yaml", "node.yaml"]
    assert check_rules(files) == []
    groups = default_groups()
    for g in groups:
        for r in g.rules:
            parse(r.expr)
            if r.alert:
                labels, annotations = dict(r.labels), dict(r.annotations)
                assert labels.get("severity") in ("critical", "warning", "info", "none"), r.name
                assert annotations.get("summary") and annotations.get("description"), r.name
    alerts = {r.name for g in groups for r in g.rules if r.alert}
    records = {r.name for g in groups for r in g.rules if not r.alert}
    assert alerts >= REQUIRED_ALERTS, REQUIRED_ALERTS - alerts
    assert records >= REQUIRED_RECORDS, REQUIRED_RECORDS - records
    assert {g.file for g in groups} == {"defaults/general.yaml", "defaults/kubernetes.yaml",
                                        "defaults/kubesight.yaml", "defaults/node.yaml"}


def test_each_rule_group_and_file_can_be_switched_off() -> None:
    all_names = {r.name for g in default_groups() for r in g.rules}
    without = default_groups({"Watchdog", "node-alerts", "kubesight"})
    names = {r.name for g in without for r in g.rules}
    assert "Watchdog" not in names and "TargetDown" in names
    assert "NodeMemoryHighUtilization" not in names and "instance:node_cpu_utilisation:rate5m" in names
    assert not any(n.startswith("Kubesight") for n in names)
    assert names < all_names
    assert default_groups({"general", "kubernetes", "kubesight", "node"}) == []


@pytest.mark.peer
def test_prometheus_accepts_them() -> None:
    promtool = require_peer("promtool", "prometheus")
    out = subprocess.run([promtool, "check", "rules", *map(str, default_rule_files())],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("SUCCESS") == 4
