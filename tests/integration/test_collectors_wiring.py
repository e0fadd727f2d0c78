"""The built-in collectors and ``kubesight top`` in the real server process: host and container
collectors on by default, the object-state collector and PrometheusRule objects against the fake
Kubernetes API server."""

from __future__ import annotations

import asyncio
import copy
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubesight.model import SampleBatch
from tests.conftest import Server, start_server
from tests.integration.test_kubernetes_default_job import fake_kube
from tests.integration.test_server import write


def query(url: str, q: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{url}/api/v1/query", params={"query": q}, timeout=30)
    assert r.status_code == 200, r.text
    result: list[dict[str, Any]] = r.json()["data"]["result"]
    return result


def eventually(what: str, fn: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def top(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kubesight", "top", *args, "--url", url],
                          capture_output=True, text=True, timeout=60)


def test_host_and_container_collectors_are_up_by_default(server: Server) -> None:
    for job in ("node", "cadvisor"):
        (up,) = eventually(f'up{{job="{job}"}}', lambda j=job: query(server.url, f'up{{job="{j}"}}'))
        assert up["value"][1] == "1"
        assert up["metric"]["instance"] == socket.gethostname()
    # The root cgroup is always there, whatever the hierarchy.
    assert query(server.url, 'container_cpu_usage_seconds_total{job="cadvisor",id="/"}')
    text = httpx.get(f"{server.url}/collectors/cadvisor/metrics", timeout=30).text
    assert "# TYPE container_cpu_usage_seconds_total counter" in text


def test_container_collector_can_be_switched_off(tmp_path: Path) -> None:
    s = start_server(tmp_path / "data", "--no-collectors.containers")
    try:
        assert httpx.get(f"{s.url}/collectors/cadvisor/metrics", timeout=30).status_code == 404
        assert httpx.get(f"{s.url}/collectors/node/metrics", timeout=30).status_code == 200
    finally:
        s.stop()


NODE = {"metadata": {"name": "node-a", "labels": {"kubernetes.io/hostname": "node-a"}},
        "spec": {}, "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                               "allocatable": {"cpu": "3800m", "memory": "7Gi", "pods": "110"},
                               "conditions": [{"type": "Ready", "status": "True"}],
                               "nodeInfo": {"kubeletVersion": "v1.30.0"}}}
POD = {"metadata": {"name": "web-1", "namespace": "shop", "uid": "6b1d2c3e-0000-4000-8000-000000000001",
                    "creationTimestamp": "2024-05-01T10:00:00Z"},
       "spec": {"nodeName": "node-a", "containers": [
           {"name": "app", "image": "shop/web:1", "resources": {"requests": {"cpu": "250m"}}}]},
       "status": {"phase": "Running", "containerStatuses": [
           {"name": "app", "image": "shop/web:1", "ready": True, "restartCount": 3,
            "state": {"running": {"startedAt": "2024-05-01T10:00:05Z"}}}]}}
RULE = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
        "metadata": {"name": "team", "namespace": "shop", "uid": "u-1"},
        "spec": {"groups": [{"name": "team-rules", "interval": "1s", "rules": [
            {"record": "team:restarts", "expr": 'sum(kube_pod_container_status_restarts_total{namespace="shop"})'}]}]}}


def test_object_state_collector_and_prometheus_rules_from_the_fake_api(tmp_path: Path) -> None:
    cfg = tmp_path / "k.yml"
    cfg.write_text("collectors: {interval: 1s}\nscrape_configs: []\ndefault_rules: {enabled: false}\n")
    with fake_kube() as (kube, loop):
        def call(fn: Any, *args: Any) -> Any:  # FakeKube lives on its own loop's thread
            async def go() -> Any:
                return fn(*args)
            return asyncio.run_coroutine_threadsafe(go(), loop).result(10)

        call(kube.add, "nodes", NODE)
        call(kube.add, "pods", POD)
        call(kube.add, "prometheusrules", RULE)
        s = start_server(tmp_path / "data", "--config", str(cfg), "--kubernetes.api-server", kube.url,
                         "--kubernetes.monitors")
        try:
            (up,) = eventually("up of kube-state-metrics",
                               lambda: query(s.url, 'up{job="kube-state-metrics"}'))
            assert up["value"][1] == "1"
            info = eventually("kube_pod_info", lambda: query(s.url, 'kube_pod_info{job="kube-state-metrics"}'))
            assert {(m["metric"]["namespace"], m["metric"]["pod"], m["metric"]["node"]) for m in info} == {
                ("shop", "web-1", "node-a")}
            phase = query(s.url, 'kube_pod_status_phase{pod="web-1"} == 1')
            assert [m["metric"]["phase"] for m in phase] == ["Running"]
            assert query(s.url, 'kube_node_status_capacity{node="node-a",resource="cpu"}')[0]["value"][1] == "4"

            # A change in the API reaches the store through the watch.
            failed = copy.deepcopy(POD)
            failed["status"]["phase"] = "Failed"
            call(kube.update, "pods", failed)
            eventually("the new phase", lambda: [m["metric"]["phase"] for m in
                                                 query(s.url, 'kube_pod_status_phase{pod="web-1"} == 1')] == ["Failed"])

            # The PrometheusRule's group runs, over the object-state series.
            def groups() -> dict[str, str]:
                g = httpx.get(f"{s.url}/api/v1/rules", timeout=30).json()["data"]["groups"]
                return {x["name"]: x["file"] for x in g}
            assert eventually("the PrometheusRule's group", groups) == {"team-rules": "shop-team-u-1.yaml"}
            rec = eventually("the recorded series", lambda: query(s.url, "team:restarts"))
            assert rec[0]["value"][1] == "3"

            # An edit is picked up; a broken object is left out and the others stay.
            edited = copy.deepcopy(RULE)
            edited["spec"]["groups"][0]["name"] = "team-rules-v2"
            call(kube.update, "prometheusrules", edited)
            broken = copy.deepcopy(RULE)
            broken["metadata"] = {"name": "broken", "namespace": "shop", "uid": "u-2"}
            broken["spec"]["groups"][0]["rules"][0]["expr"] = "sum("
            call(kube.add, "prometheusrules", broken)
            eventually("the edited group", lambda: groups() == {"team-rules-v2": "shop-team-u-1.yaml"})
            time.sleep(2)  # past the debounce: the broken object has been seen by now
            assert groups() == {"team-rules-v2": "shop-team-u-1.yaml"}
            assert "PrometheusRule shop/broken" in s.log.read_text()
        finally:
            s.stop()


def test_object_state_collector_forced_on_without_an_api_is_refused(tmp_path: Path) -> None:
    try:
        started = start_server(tmp_path / "data", "--collectors.kube-state")
    except RuntimeError as exc:
        assert "collectors.kube_state: needs a Kubernetes API" in str(exc), str(exc)
    else:
        started.stop()  # never leave a server running behind a failed test
        raise AssertionError("the server started without a Kubernetes API to watch")


def _pod_series(now_ms: int) -> SampleBatch:
    """Two pods in shop and one in kube-system, as the container collector labels them in Kubernetes."""
    series = []
    for ns, pod, cores, mib in (("shop", "web-1", 0.25, 100), ("shop", "db-0", 0.5, 200),
                                ("kube-system", "dns-1", 0.1, 30)):
        base = (("instance", "node-a"), ("job", "cadvisor"), ("namespace", ns), ("pod", pod),
                ("container", "main"))
        ts = [now_ms - 45_000 + 15_000 * i for i in range(4)]
        series.append(((("__name__", "container_cpu_usage_seconds_total"), *base),
                       [(t, 1000 + cores * (t - ts[0]) / 1000) for t in ts]))
        series.append(((("__name__", "container_memory_working_set_bytes"), *base),
                       [(t, float(mib << 20)) for t in ts]))
        # The pause container and the pod-level cgroup must not count twice.
        for container in ("POD", ""):
            pause = tuple((k, container if k == "container" else v) for k, v in base
                          if k != "container" or container)  # an empty label is an absent one
            series.append(((("__name__", "container_memory_working_set_bytes"), *pause),
                           [(t, float(999 << 20)) for t in ts]))
    return SampleBatch.from_series(series)


def test_top_nodes_and_pods_against_a_server(tmp_path: Path) -> None:
    cfg = tmp_path / "k.yml"
    cfg.write_text("collectors: {interval: 1s}\ndefault_rules: {enabled: false}\n")
    s = start_server(tmp_path / "data", "--config", str(cfg))
    try:
        eventually("two host collections", lambda: query(
            s.url, 'count_over_time(node_memory_MemTotal_bytes{job="node"}[1m]) >= 3'))
        # The collectors are targets too, as the Targets page and up{job="node"} say.
        active = httpx.get(f"{s.url}/api/v1/targets").json()["data"]["activeTargets"]
        by_pool = {t["scrapePool"]: t for t in active}
        assert {"node", "cadvisor", "kubesight"} <= by_pool.keys()
        node = by_pool["node"]
        assert node["health"] == "up" and node["labels"]["job"] == "node" and node["scrapeInterval"] == "1s"
        assert node["scrapeUrl"] == f"{s.url}/collectors/node/metrics"
        assert httpx.get(node["scrapeUrl"]).status_code == 200
        assert node["labels"]["instance"] == query(s.url, 'up{job="node"}')[0]["metric"]["instance"]
        pools = httpx.get(f"{s.url}/api/v1/scrape_pools").json()["data"]["scrapePools"]
        assert {"node", "cadvisor", "kubesight"} <= set(pools)
        only = httpx.get(f"{s.url}/api/v1/targets", params={"scrapePool": "cadvisor"}).json()["data"]
        assert [t["scrapePool"] for t in only["activeTargets"]] == ["cadvisor"]
        r = top(s.url, "nodes")
        assert r.returncode == 0, r.stderr
        header, row = r.stdout.splitlines()
        assert header.split() == ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"]
        name, cpu, cpu_pct, mem, mem_pct = row.split()
        assert name == socket.gethostname()
        assert cpu.endswith("m") and 0 <= int(cpu_pct.rstrip("%")) <= 100
        total_mib = int(query(s.url, 'node_memory_MemTotal_bytes{job="node"}')[0]["value"][1]) >> 20
        assert mem.endswith("Mi") and 0 < int(mem[:-2]) <= total_mib
        assert abs(int(mem_pct.rstrip("%")) - 100 * int(mem[:-2]) / total_mib) <= 1

        # Outside Kubernetes, pods are the busiest cgroups.
        r = top(s.url, "pods", "--limit", "5")
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0].split() == ["CGROUP", "CPU(cores)", "MEMORY(bytes)"] and 1 <= len(lines) - 1 <= 5

        # With pod-labelled container series, kubectl's view.
        w = write(s.url, _pod_series(int(time.time() * 1000)))
        assert w.status_code == 204, w.text
        r = top(s.url, "pods", "-n", "shop", "--sort-by", "cpu")
        assert r.returncode == 0, r.stderr
        assert [line.split() for line in r.stdout.splitlines()] == [
            ["NAME", "CPU(cores)", "MEMORY(bytes)"], ["db-0", "500m", "200Mi"], ["web-1", "250m", "100Mi"]]
        r = top(s.url, "pods", "-A", "--sort-by", "memory")
        assert [line.split()[:2] for line in r.stdout.splitlines()] == [
            ["NAMESPACE", "NAME"], ["shop", "db-0"], ["shop", "web-1"], ["kube-system", "dns-1"]]
        r = top(s.url, "pods")
        assert r.returncode == 0 and r.stdout == "" and "No resources found in default namespace." in r.stderr
    finally:
        s.stop()


def test_top_says_when_the_server_cannot_be_reached() -> None:
    from tests.conftest import free_port

    r = top(f"http://127.0.0.1:{free_port()}", "nodes")
    assert r.returncode == 1 and r.stderr.startswith("error: cannot reach http://127.0.0.1:")
    assert "Traceback" not in r.stderr


def test_container_collector_names_this_nodes_pods_through_the_api(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixture cgroup v2 host, its pods in the fake API server: the server labels the cgroups of
    the pods of its node (NODE_NAME) with namespace/pod/container, as the kubelet's cAdvisor does."""
    from kubesight.collect.containers import ContainerCollector, PodIndex
    from tests.collect.containers import cgtree

    cg, proc, sys_ = cgtree.v2_host(tmp_path), cgtree.proc_tree(tmp_path), cgtree.sys_tree(tmp_path)
    web, db = copy.deepcopy(cgtree.PODS)
    web["spec"]["nodeName"], db["spec"]["nodeName"] = "node-a", "node-b"
    app_path = f"{cgtree.V2_POD}/cri-containerd-{cgtree.APP}.scope"
    db_path = f"{cgtree.V2_POD2}/cri-containerd-{cgtree.POD2_APP}.scope"
    cfg = tmp_path / "k.yml"
    cfg.write_text(f"collectors:\n  interval: 1s\n  host: {{enabled: false}}\n  kube_state: {{enabled: false}}\n"
                   f"  containers: {{cgroupfs: '{cg}', procfs: '{proc}', sysfs: '{sys_}'}}\n"
                   "scrape_configs: []\ndefault_rules: {enabled: false}\n")
    monkeypatch.setenv("NODE_NAME", "node-a")
    with fake_kube() as (kube, loop):
        for pod in (web, db):
            asyncio.run_coroutine_threadsafe(_call(kube.add, "pods", pod), loop).result(10)
        s = start_server(tmp_path / "data", "--config", str(cfg), "--kubernetes.api-server", kube.url)
        try:
            app = eventually("the app container with its pod's labels", lambda: query(
                s.url, f'container_memory_usage_bytes{{job="cadvisor",id="{app_path}",pod!=""}}'))
            m = app[0]["metric"]
            assert (m["namespace"], m["pod"], m["container"], m["image"], m["instance"]) == (
                "shop", "web-7d9c", "nginx", "docker.io/library/nginx:1.25", "node-a")
            # The pod of another node is not watched: its cgroup is named by its ID only.
            (other,) = query(s.url, f'container_memory_usage_bytes{{job="cadvisor",id="{db_path}"}}')
            assert "pod" not in other["metric"] and other["metric"]["name"] == cgtree.POD2_APP

            # kubectl top's view of the pod: its containers' working sets, as the collector computes them.
            fams = ContainerCollector(PodIndex([web]), cgroup_root=str(cg), proc=str(proc),
                                      sys_root=str(sys_)).collect()
            (ws,) = [f for f in fams if f.name == "container_memory_working_set_bytes"]
            want = sum(v for lbls, v in ws.samples
                       if dict(lbls).get("pod") == "web-7d9c" and dict(lbls).get("container"))
            assert want >= 1 << 20
            # Two collections make a CPU rate: until then top prints "-" (no figure), then 0m (the
            # fixture's CPU counters stand still).
            eventually("a CPU rate for the pod", lambda: query(
                s.url, 'rate(container_cpu_usage_seconds_total{job="cadvisor",pod="web-7d9c",container!=""}[1m])'))
            r = top(s.url, "pods", "-n", "shop")
            assert r.returncode == 0, r.stderr
            assert [line.split() for line in r.stdout.splitlines()] == [
                ["NAME", "CPU(cores)", "MEMORY(bytes)"], ["web-7d9c", "0m", f"{round(want / (1 << 20))}Mi"]]
        finally:
            s.stop()


async def _call(fn: Any, *args: Any) -> Any:
    return fn(*args)
