"""kubernetes-mixin alerts and recording rules, evaluated on a collection of the test cluster.

The queries are those of kubernetes-monitoring/kubernetes-mixin (alerts/apps_alerts.libsonnet,
alerts/kubelet.libsonnet, rules/apps.libsonnet) with its default selectors filled in
(`job="kube-state-metrics"`, cluster label `cluster`); the expected answers follow from
objects.py by hand. They prove that label names, values and shapes join the way the
dashboards and alerts people already run expect.
"""

from __future__ import annotations

import asyncio

import pytest

from kubesight.collect.family import to_batch
from kubesight.discovery.fake_kube import FakeKube
from kubesight.promql import Engine, Vector
from kubesight.store.memory import MemoryStore

from .harness import load_cluster, running

pytestmark = pytest.mark.timeout(60)

T = 1_714_700_000_000  # ms: any instant; the collection is appended at it

QUERIES = {
    "KubePodCrashLooping": (
        'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", '
        'job="kube-state-metrics"}[5m]) >= 1',
        [{"container": "report", "namespace": "shop", "pod": "report-28591200-7xk2q",
          "reason": "CrashLoopBackOff", "uid": "7f3e9a10-2b4c-4d5e-8f60-718293a4b5c6",
          "instance": "kubesight", "job": "kube-state-metrics"}]),
    "KubePodNotReady": (
        """sum by (namespace, pod, job, cluster) (
             max by(namespace, pod, job, cluster) (
               kube_pod_status_phase{job="kube-state-metrics", phase=~"Pending|Unknown"}
               or
               (
                 kube_pod_status_phase{job="kube-state-metrics", phase="Running"} == 1
                 and on(namespace, pod, cluster)
                 kube_pod_status_ready{job="kube-state-metrics", condition="true"} == 0
               )
             ) * on(namespace, pod, cluster) group_left() topk by(namespace, pod, cluster) (
               1, max by(namespace, pod, owner_kind, cluster) (kube_pod_owner{owner_kind!="Job"})
             )
           ) > 0
           unless on(namespace, pod, cluster)
           kube_pod_status_reason{job="kube-state-metrics", reason="SchedulingGated"} == 1""",
        [{"job": "kube-state-metrics", "namespace": "default", "pod": "debug-shell"}]),
    "KubeDeploymentGenerationMismatch": (
        'kube_deployment_status_observed_generation{job="kube-state-metrics"} '
        '!= kube_deployment_metadata_generation{job="kube-state-metrics"}', []),
    "KubeDaemonSetNotScheduled": (
        'kube_daemonset_status_desired_number_scheduled{job="kube-state-metrics"} - '
        'kube_daemonset_status_current_number_scheduled{job="kube-state-metrics"} > 0', []),
    "KubeContainerWaiting": (
        'kube_pod_container_status_waiting_reason{reason!="CrashLoopBackOff", job="kube-state-metrics"} > 0', []),
    "KubeJobFailed": (
        'kube_job_failed{job="kube-state-metrics"} > 0',
        [{"__name__": "kube_job_failed", "condition": "true", "job_name": "cleanup-1", "namespace": "shop",
          "instance": "kubesight", "job": "kube-state-metrics"}]),
    "KubeNodeNotReady": (
        'kube_node_status_condition{job="kube-state-metrics",condition="Ready",status="true"} == 0',
        [{"__name__": "kube_node_status_condition", "condition": "Ready", "node": "node-b", "status": "true",
          "instance": "kubesight", "job": "kube-state-metrics"}]),
    "namespace_workload_pod:kube_pod_owner:relabel (deployments)": (
        """max by (cluster, namespace, workload, pod) (
             label_replace(
               label_replace(
                 kube_pod_owner{job="kube-state-metrics", owner_kind="ReplicaSet"},
                 "replicaset", "$1", "owner_name", "(.*)"
               ) * on(replicaset, namespace, cluster) group_left(owner_name) topk by(cluster, replicaset, namespace) (
                 1, max by (cluster, replicaset, namespace, owner_name) (
                   kube_replicaset_owner{job="kube-state-metrics", owner_kind="Deployment"}
                 )
               ),
               "workload", "$1", "owner_name", "(.*)"
             )
           )""",
        [{"namespace": "shop", "pod": "web-7d9f8b6c5-q8zzt", "workload": "web"},
         {"namespace": "shop", "pod": "web-7d9f8b6c5-x2k4p", "workload": "web"}]),
    "requests by namespace (dashboards)": (
        'sum by (namespace) (kube_pod_container_resource_requests{job="kube-state-metrics", resource="cpu"} '
        '* on(namespace, pod) group_left() max by (namespace, pod) (kube_pod_status_phase{phase=~"Pending|Running"} == 1))',
        [{"namespace": "shop"}]),
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    async def main() -> MemoryStore:
        store = MemoryStore()
        async with FakeKube() as kube:
            load_cluster(kube)
            async with running(kube) as c:
                store.append(to_batch(c.collect(), T, extra=(("instance", "kubesight"),
                                                             ("job", "kube-state-metrics"))))
        return store
    return Engine(asyncio.run(main()))


@pytest.mark.parametrize("name", list(QUERIES))
def test_mixin_query(engine: Engine, name: str) -> None:
    query, want = QUERIES[name]
    res = engine.instant(query, T).value
    assert isinstance(res, Vector)
    got = sorted((dict(lbls) for lbls in res.labels), key=lambda d: sorted(d.items()))
    # A filtering comparison keeps the metric name, as in Prometheus.
    assert got == sorted(want, key=lambda d: sorted(d.items())), name


def test_cpu_requests_of_running_and_pending_pods(engine: Engine) -> None:
    # web-...-x2k4p: app 0.25 + envoy 0.1; report-...-7xk2q: 0.5 (the evicted pod is Failed).
    res = engine.instant(QUERIES["requests by namespace (dashboards)"][0], T).value
    assert isinstance(res, Vector)
    assert res.values.tolist() == pytest.approx([0.85])
