"""kubesight's default rules give the same recorded series and alerts in Prometheus and in kubesight.

A small synthetic cluster (two nodes, a few workloads with the usual failures)
in the metric names of node_exporter, cAdvisor, kube-state-metrics and
kubesight itself goes through promtool's rule engine and kubesight's; at every
evaluation every recorded series and the ALERTS/ALERTS_FOR_STATE series must
match. Samples come every 56 s and rules run every 49 s: no window bound
(every range in the rules is a whole number of minutes) can land on a sample,
where Debian's Prometheus 2.42 and kubesight (3.x semantics) legitimately differ.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubesight.rules.defaults import default_groups, default_rule_files
from tests.rules.diffrun import differences, run_kubesight
from tests.rules.promtool import query_with_promtool

pytestmark = pytest.mark.peer

EVAL_S, INPUT_S, STEPS = 49, 56, 62  # ~50 minutes: long enough for the 15m and 30m 'for's
N = 60  # input samples per series


def counter(rate: float, start: float = 0) -> str:
    return f"{start}+{rate * INPUT_S}x{N}"


def gauge(v: float) -> str:
    return f"{v}x{N}"


def series() -> list[tuple[str, str]]:
    s: list[tuple[str, str]] = []
    add = s.append
    nodes = {"n1": "10.0.0.1:9100", "n2": "10.0.0.2:9100"}
    for node, inst in nodes.items():
        # n1 runs node_exporter as a pod (kube-prometheus); n2 is kubesight's host collector
        ne = (f'job="node-exporter",instance="{inst}",namespace="monitoring",pod="node-exporter-{node}"'
              if node == "n1" else f'job="node",instance="{node}"')
        for cpu in ("0", "1"):
            for mode, r in (("idle", 0.5 if node == "n1" else 0.02), ("user", 0.3), ("system", 0.1),
                            ("iowait", 0.05), ("steal", 0.0)):
                add((f'node_cpu_seconds_total{{{ne},cpu="{cpu}",mode="{mode}"}}', counter(r)))
        add((f"node_load1{{{ne}}}", gauge(0.5 if node == "n1" else 5.0)))
        add((f"node_memory_MemTotal_bytes{{{ne}}}", gauge(8e9)))
        add((f"node_memory_MemAvailable_bytes{{{ne}}}", gauge(4e9 if node == "n1" else 0.4e9)))
        add((f"node_vmstat_pgmajfault{{{ne}}}", counter(10 if node == "n1" else 900)))
        add((f'node_disk_io_time_seconds_total{{{ne},device="sda"}}', counter(0.2)))
        add((f'node_disk_io_time_weighted_seconds_total{{{ne},device="sda"}}', counter(2 if node == "n1" else 20)))
        for dev in ("eth0", "lo"):
            add((f'node_network_receive_bytes_total{{{ne},device="{dev}"}}', counter(1e6)))
            add((f'node_network_transmit_bytes_total{{{ne},device="{dev}"}}', counter(5e5)))
            add((f'node_network_receive_drop_total{{{ne},device="{dev}"}}', counter(0.1)))
            add((f'node_network_transmit_drop_total{{{ne},device="{dev}"}}', counter(0)))
            add((f'node_network_receive_packets_total{{{ne},device="{dev}"}}', counter(1000)))
            add((f'node_network_transmit_packets_total{{{ne},device="{dev}"}}', counter(1000)))
            add((f'node_network_receive_errs_total{{{ne},device="{dev}"}}', counter(50 if node == "n2" else 0)))
            add((f'node_network_transmit_errs_total{{{ne},device="{dev}"}}', counter(0)))
        fs = f'{ne},device="/dev/sda1",fstype="ext4",mountpoint="/"'
        add((f"node_filesystem_size_bytes{{{fs}}}", gauge(100e9)))
        # n2's root filesystem is almost full and still filling
        add((f"node_filesystem_avail_bytes{{{fs}}}", gauge(50e9) if node == "n1" else f"2.5e9-{1e6 * INPUT_S}x{N}"))
        add((f"node_filesystem_readonly{{{fs}}}", gauge(0)))
        add((f"node_filesystem_files{{{fs}}}", gauge(1e6)))
        add((f"node_filesystem_files_free{{{fs}}}", gauge(9e5 if node == "n1" else 3e4)))
        add((f"node_nf_conntrack_entries{{{ne}}}", gauge(800 if node == "n1" else 100)))
        add((f"node_nf_conntrack_entries_limit{{{ne}}}", gauge(1000)))
        add((f"node_timex_offset_seconds{{{ne}}}", gauge(0.001) if node == "n1" else f"0.06+0.001x{N}"))
        add((f"node_timex_sync_status{{{ne}}}", gauge(1 if node == "n1" else 0)))
        add((f"node_timex_maxerror_seconds{{{ne}}}", gauge(0.1 if node == "n1" else 16)))
        add((f"node_textfile_scrape_error{{{ne}}}", gauge(0)))
        ksm = 'job="kube-state-metrics"'
        add((f'kube_node_status_condition{{{ksm},node="{node}",condition="Ready",status="true"}}',
             gauge(1) if node == "n1" else f"1x5 0x{N - 5}"))
        add((f'kube_node_status_allocatable{{{ksm},node="{node}",resource="cpu"}}', gauge(2)))
        add((f'kube_node_status_allocatable{{{ksm},node="{node}",resource="memory"}}', gauge(8e9)))
        add((f'kube_node_status_capacity{{{ksm},node="{node}",resource="pods"}}', gauge(110)))
    add(('kube_node_spec_taint{job="kube-state-metrics",node="n2",key="node.kubernetes.io/unreachable",'
         'value="",effect="NoSchedule"}', gauge(1)))
    # targets: one of three api targets down
    for i, v in enumerate((1, 1, 0)):
        add((f'up{{job="api",namespace="prod",service="api",instance="10.1.0.{i}:8080"}}', gauge(v)))
    # pods: api-1 (Deployment api via ReplicaSet api-7d), web-0 (StatefulSet web), agent-x (DaemonSet),
    # batch-1 (Job batch), stuck-1 (ReplicaSet stuck-5c, never starts)
    pods = [("prod", "api-1", "n1", "ReplicaSet", "api-7d", "Running"),
            ("prod", "web-0", "n1", "StatefulSet", "web", "Running"),
            ("kube-system", "agent-x", "n2", "DaemonSet", "agent", "Running"),
            ("prod", "batch-1", "n2", "Job", "batch", "Failed"),
            ("prod", "stuck-1", "n2", "ReplicaSet", "stuck-5c", "Pending"),
            ("monitoring", "node-exporter-n1", "n1", "DaemonSet", "node-exporter", "Running")]
    ksm = 'job="kube-state-metrics",instance="ksm:8080"'
    for ns, pod, node, kind, owner, phase in pods:
        add((f'kube_pod_info{{{ksm},namespace="{ns}",pod="{pod}",node="{node}"}}', gauge(1)))
        add((f'kube_pod_owner{{{ksm},namespace="{ns}",pod="{pod}",owner_kind="{kind}",owner_name="{owner}"}}', gauge(1)))
        for ph in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
            add((f'kube_pod_status_phase{{{ksm},namespace="{ns}",pod="{pod}",phase="{ph}"}}',
                 gauge(1 if ph == phase else 0)))
        # pods on n1: a kubelet scraped the kube-prometheus way; on n2: kubesight's collector
        cad = (f'job="kubelet",metrics_path="/metrics/cadvisor",namespace="{ns}",pod="{pod}",'
               f'container="main",image="img",instance="{node}:10250"' if node == "n1" else
               f'job="cadvisor",namespace="{ns}",pod="{pod}",container="main",image="img",instance="{node}"')
        # the kubelet's resource endpoint repeats the name: it must not count twice
        add((f'container_cpu_usage_seconds_total{{job="kubelet",metrics_path="/metrics/resource",namespace="{ns}",'
             f'pod="{pod}",container="main",instance="{node}:10250"}}', counter(0.25)))
        add((f"container_cpu_usage_seconds_total{{{cad}}}", counter(0.25)))
        add((f"container_memory_working_set_bytes{{{cad}}}", gauge(2e8)))
        add((f"container_memory_rss{{{cad}}}", gauge(1.5e8)))
        add((f"container_memory_cache{{{cad}}}", gauge(5e7)))
        add((f"container_memory_swap{{{cad}}}", gauge(0)))
        add((f"container_cpu_cfs_periods_total{{{cad}}}", counter(10)))
        add((f"container_cpu_cfs_throttled_periods_total{{{cad}}}", counter(5 if pod == "api-1" else 0)))
        for res, req, lim in (("cpu", 1.5, 2), ("memory", 5e9, 6e9)):
            add((f'kube_pod_container_resource_requests{{{ksm},namespace="{ns}",pod="{pod}",container="main",'
                 f'resource="{res}"}}', gauge(req)))
            add((f'kube_pod_container_resource_limits{{{ksm},namespace="{ns}",pod="{pod}",container="main",'
                 f'resource="{res}"}}', gauge(lim)))
    add((f'kube_replicaset_owner{{{ksm},namespace="prod",replicaset="api-7d",owner_kind="Deployment",'
         'owner_name="api"}', gauge(1)))
    add((f'kube_replicaset_owner{{{ksm},namespace="prod",replicaset="stuck-5c",owner_kind="Deployment",'
         'owner_name="stuck"}', gauge(1)))
    add((f'kube_pod_container_status_waiting_reason{{{ksm},namespace="prod",pod="api-1",container="main",'
         'reason="CrashLoopBackOff"}', gauge(1)))
    for dep, spec, avail in (("api", 2, 2), ("stuck", 1, 0)):
        d = f'{ksm},namespace="prod",deployment="{dep}"'
        add((f"kube_deployment_spec_replicas{{{d}}}", gauge(spec)))
        add((f"kube_deployment_status_replicas_available{{{d}}}", gauge(avail)))
        add((f"kube_deployment_status_replicas_updated{{{d}}}", gauge(avail)))
        add((f"kube_deployment_status_observed_generation{{{d}}}", gauge(3)))
        add((f"kube_deployment_metadata_generation{{{d}}}", gauge(3 if dep == "api" else 4)))
        add((f'kube_deployment_status_condition{{{d},condition="Progressing",status="false"}}',
             gauge(0 if dep == "api" else 1)))
    st = f'{ksm},namespace="prod",statefulset="web"'
    add((f"kube_statefulset_status_replicas_ready{{{st}}}", gauge(1)))
    add((f"kube_statefulset_status_replicas{{{st}}}", gauge(2)))
    add((f"kube_statefulset_status_replicas_updated{{{st}}}", gauge(2)))
    add((f"kube_statefulset_status_observed_generation{{{st}}}", gauge(1)))
    add((f"kube_statefulset_metadata_generation{{{st}}}", gauge(1)))
    ds = f'{ksm},namespace="kube-system",daemonset="agent"'
    for name, v in (("current_number_scheduled", 1), ("desired_number_scheduled", 2), ("number_misscheduled", 0),
                    ("updated_number_scheduled", 1), ("number_available", 1)):
        add((f"kube_daemonset_status_{name}{{{ds}}}", gauge(v)))
    job = f'{ksm},namespace="prod",job_name="batch"'
    add((f"kube_job_failed{{{job}}}", gauge(1)))
    add((f"kube_job_status_active{{{job}}}", gauge(0)))
    add((f"kube_job_status_start_time{{{job}}}", gauge(0)))
    add(('kube_persistentvolume_status_phase{job="kube-state-metrics",persistentvolume="pv1",phase="Failed"}', gauge(1)))
    pvc = 'job="kubelet",namespace="prod",persistentvolumeclaim="data-web-0"'
    add((f"kubelet_volume_stats_capacity_bytes{{{pvc}}}", gauge(10e9)))
    add((f"kubelet_volume_stats_available_bytes{{{pvc}}}", gauge(0.2e9)))
    add((f"kubelet_volume_stats_used_bytes{{{pvc}}}", gauge(9.8e9)))
    hpa = f'{ksm},namespace="prod",horizontalpodautoscaler="api"'
    add((f"kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}}", gauge(5)))
    add((f"kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}}", gauge(5)))
    ks = 'job="kubesight",instance="127.0.0.1:9595"'
    add((f"kubesight_ingest_failed_requests_total{{{ks},protocol=\"remote_write\"}}", counter(2)))
    add((f"kubesight_ingest_samples_total{{{ks},protocol=\"remote_write\"}}", counter(100)))
    add((f"kubesight_ingest_samples_rejected_total{{{ks},protocol=\"remote_write\"}}", counter(0)))
    add((f"kubesight_tsdb_wal_corruptions_total{{{ks}}}", f"0x10 1x{N - 10}"))
    add((f"kubesight_rule_evaluation_failures_total{{{ks},rule_group=\"r.yml;g\"}}", counter(0.1)))
    add((f"alertmanager_notifications_total{{{ks},integration=\"webhook\"}}", counter(1)))
    add((f"alertmanager_notifications_failed_total{{{ks},integration=\"webhook\"}}", counter(0.5)))
    add((f"kubesight_notifications_dropped_total{{{ks}}}", counter(0)))
    add((f"kubesight_tsdb_blocks_bytes{{{ks}}}", gauge(1e9)))
    add((f"kubesight_tsdb_wal_bytes{{{ks}}}", gauge(1e8)))
    return s


QUERIES = [
    '{__name__=~"ALERTS|ALERTS_FOR_STATE|.+:.*"}',
    'timestamp(label_replace({__name__=~"ALERTS|ALERTS_FOR_STATE|.+:.*"}, "name", "$1", "__name__", "(.+)"))',
]


def test_default_rules_evaluate_as_in_prometheus(tmp_path: Path) -> None:
    groups = default_groups()
    text = yaml.safe_dump({"groups": [g for f in default_rule_files() for g in yaml.safe_load(f.read_text())["groups"]]})
    data = series()
    times = [k * EVAL_S for k in range(STEPS)]
    prom = query_with_promtool(tmp_path, text, data, QUERIES, times, interval=f"{EVAL_S}s",
                               input_interval=f"{INPUT_S}s")
    ours = run_kubesight(groups, data, QUERIES, times, eval_s=EVAL_S, input_s=INPUT_S)
    last = prom[(QUERIES[0], times[-1])]
    firing = {dict(k)["alertname"] for k in last if ("alertstate", "firing") in k}
    # the synthetic failures do make the alerts fire, in Prometheus first of all
    assert {"KubePodCrashLooping", "KubePodNotReady", "KubeNodeNotReady", "KubeNodeUnreachable", "TargetDown",
            "Watchdog", "NodeFilesystemAlmostOutOfSpace", "NodeHighNumberConntrackEntriesUsed",
            "NodeClockNotSynchronising", "KubeJobFailed", "KubeDeploymentReplicasMismatch",
            "KubeDeploymentRolloutStuck", "KubeStatefulSetReplicasMismatch", "KubeDaemonSetRolloutStuck",
            "KubePersistentVolumeFillingUp", "CPUThrottlingHigh", "KubeCPUOvercommit", "KubeMemoryOvercommit",
            "KubesightWALCorrupted", "KubesightNotificationsFailing"} <= firing, firing
    recorded: dict[str, list[dict[str, str]]] = {}
    for k in last:
        recorded.setdefault(dict(k)["__name__"], []).append(dict(k))
    cpu = recorded["node_namespace_pod_container:container_cpu_usage_seconds_total:sum_rate5m"]
    # every pod once, from either convention, with its node
    assert sorted((c["pod"], c["node"]) for c in cpu) == [
        ("agent-x", "n2"), ("api-1", "n1"), ("batch-1", "n2"), ("node-exporter-n1", "n1"), ("stuck-1", "n2"),
        ("web-0", "n1")]
    assert sorted(c["node"] for c in recorded["node:node_num_cpu:sum"]) == ["n1", "n2"]
    assert "namespace_workload_pod:kube_pod_owner:relabel" in recorded
    diffs = differences(prom, ours)
    assert not diffs, "\n".join(diffs[:20])
