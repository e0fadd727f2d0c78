"""The watch cache follows the API server: updates, deletes, 410 Gone, dropped watches, a dead server."""

from __future__ import annotations

import asyncio
import copy
import socket
from typing import Any

import pytest

from kubesight.collect.kube_state import KubeStateCollector, KubeStateOptions
from kubesight.discovery._httpconfig import HTTPClientConfig
from kubesight.discovery._kubeclient import KubeAccess
from kubesight.discovery.fake_kube import FakeKube

from .harness import eventually, options, running, samples
from .objects import CRASHLOOP_POD, DEPLOYMENT, NODE_A, RUNNING_POD

pytestmark = pytest.mark.timeout(60)

POD = "web-7d9f8b6c5-x2k4p"


def _phase(c: KubeStateCollector, pod: str) -> str | None:
    for lbls, v in samples(c, "kube_pod_status_phase").items():
        d = dict(lbls)
        if d["pod"] == pod and v == 1:
            return d["phase"]
    return None


def _pods(c: KubeStateCollector) -> set[str]:
    return {dict(k)["pod"] for k in samples(c, "kube_pod_info")}


def _self(c: KubeStateCollector, family: str, **want: str) -> float:
    total = 0.0
    for lbls, v in samples(c, family).items():
        if all(dict(lbls).get(k) == x for k, x in want.items()):
            total += v
    return total


def test_updates_and_deletes_are_reflected() -> None:
    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("pods", RUNNING_POD)
            kube.add("deployments", DEPLOYMENT)
            async with running(kube) as c:
                assert _phase(c, POD) == "Running"
                # An added object appears.
                kube.add("pods", CRASHLOOP_POD)
                await eventually(lambda: "report-28591200-7xk2q" in _pods(c))
                # A modification replaces every sample of the object (no stale series).
                pod = copy.deepcopy(RUNNING_POD)
                pod["status"]["phase"] = "Succeeded"
                pod["status"]["containerStatuses"][0]["restartCount"] = 5
                pod["status"]["containerStatuses"] = pod["status"]["containerStatuses"][:1]
                kube.update("pods", pod)
                await eventually(lambda: _phase(c, POD) == "Succeeded")
                restarts = {dict(k)["container"]: v for k, v in
                            samples(c, "kube_pod_container_status_restarts_total").items()
                            if dict(k)["pod"] == POD}
                assert restarts == {"app": 5.0}
                # Deletes remove every series of the object.
                kube.delete("pods", "shop", POD)
                await eventually(lambda: POD not in _pods(c))
                for f in c.collect():
                    assert all(dict(lbls).get("pod") != POD for lbls, _ in f.samples), f.name
                dep = copy.deepcopy(DEPLOYMENT)
                dep["spec"]["replicas"] = 5
                kube.update("deployments", dep)
                await eventually(lambda: list(samples(c, "kube_deployment_spec_replicas").values()) == [5.0])
                kube.delete("deployments", "shop", "web")
                await eventually(lambda: not samples(c, "kube_deployment_spec_replicas"))
                assert _self(c, "kubesight_kube_state_objects", resource="deployments") == 0
                assert _self(c, "kubesight_kube_state_objects", resource="pods") == 1
    asyncio.run(main())


def test_410_gone_relists_cleanly() -> None:
    """History compacted while we watch: the collector relists, and objects deleted
    meanwhile (whose DELETED event it never saw) disappear."""
    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("pods", RUNNING_POD)
            kube.add("pods", CRASHLOOP_POD)
            kube.add("nodes", NODE_A)
            async with running(kube) as c:
                lists_before = sum(1 for r in kube.requests
                                   if r.path == "/api/v1/pods" and "watch" not in r.query)
                kube.gone_on_watch = True   # every new watch is refused with 410
                kube.expire()               # open watches get an ERROR 410 event and end
                # Changes the collector can only learn from a fresh list:
                kube.delete("pods", "shop", "report-28591200-7xk2q")
                pod = copy.deepcopy(RUNNING_POD)
                pod["status"]["phase"] = "Failed"
                kube.update("pods", pod)
                await eventually(lambda: sum(1 for r in kube.requests if r.path == "/api/v1/pods"
                                             and "watch" not in r.query) > lists_before)
                kube.gone_on_watch = False
                await eventually(lambda: _phase(c, POD) == "Failed")
                assert _pods(c) == {POD}
                assert len(samples(c, "kube_node_info")) == 1
                # Still following the watch after the relist.
                kube.add("pods", CRASHLOOP_POD)
                await eventually(lambda: "report-28591200-7xk2q" in _pods(c))
    asyncio.run(main())


def test_watch_dropped_mid_stream_resumes() -> None:
    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("pods", RUNNING_POD)
            async with running(kube) as c:
                await eventually(lambda: kube.watch_count() >= 15)
                kube.drop_watches()         # the connection dies inside the chunked body
                kube.add("pods", CRASHLOOP_POD)
                await eventually(lambda: "report-28591200-7xk2q" in _pods(c))
                await eventually(lambda: _self(c, "kubesight_kube_state_list_watch_errors_total",
                                               resource="pods", verb="watch") >= 1)
                # It resumed from its resourceVersion rather than relisting everything.
                watches = [r for r in kube.requests if r.path == "/api/v1/pods" and r.query.get("watch")]
                assert len(watches) >= 2 and all(r.query.get("resourceVersion") for r in watches)
                assert all(r.query.get("allowWatchBookmarks") == "true" for r in watches)
                assert _self(c, "kubesight_kube_state_synced", resource="pods") == 1
    asyncio.run(main())


def test_bookmarks_move_the_resource_version() -> None:
    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("pods", RUNNING_POD)
            async with running(kube) as c:
                await eventually(lambda: kube.watch_count() >= 15)
                kube.add("nodes", NODE_A)   # moves the server's version past the pods list
                kube.bookmark()
                inf = c.informers["pods"][0]
                await eventually(lambda: inf.resource_version == str(kube.resource_version))
                assert _pods(c) == {POD}
    asyncio.run(main())


def test_unreachable_api_server_keeps_collecting() -> None:
    """No API server at all: collect() answers at once with empty families and says why."""
    async def main() -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]   # bound but not listening: connections are refused
            c = KubeStateCollector(KubeAccess(f"http://127.0.0.1:{port}", HTTPClientConfig()),
                                   KubeStateOptions(resources=("pods", "nodes")),
                                   backoff_start=0.01, backoff_max=0.05)
            async with c:
                assert not await c.wait_synced(0.3)
                await eventually(lambda: _self(c, "kubesight_kube_state_list_watch_errors_total",
                                               resource="pods", verb="list") >= 2)
                fams = c.collect()
                assert all(not f.samples for f in fams if f.name.startswith("kube_"))
                assert _self(c, "kubesight_kube_state_synced") == 0
    asyncio.run(main())


def test_namespaces_option_watches_only_those() -> None:
    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("pods", RUNNING_POD)
            pending = copy.deepcopy(RUNNING_POD)
            pending["metadata"].update(name="other", namespace="default")
            kube.add("pods", pending)
            kube.add("nodes", NODE_A)
            async with running(kube, options(namespaces=("shop",))) as c:
                assert _pods(c) == {POD}
                assert len(samples(c, "kube_node_info")) == 1   # cluster-scoped: unaffected
                assert any(r.path == "/api/v1/namespaces/shop/pods" for r in kube.requests)
    asyncio.run(main())


def test_unknown_resource_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown resource.*widgets"):
        KubeStateCollector(KubeAccess("http://127.0.0.1:1", HTTPClientConfig()),
                           KubeStateOptions(resources=("pods", "widgets")))


def test_metric_allow_and_deny_lists() -> None:
    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("pods", RUNNING_POD)
            kube.add("nodes", NODE_A)
            deny = options(metric_denylist=("^kube_pod_container_status_last_terminated", "_annotations$"))
            async with running(kube, deny) as c:
                names = {f.name for f in c.collect()}
                assert "kube_pod_container_status_last_terminated_reason" not in names
                assert "kube_pod_annotations" not in names and "kube_node_annotations" not in names
                assert {"kube_pod_info", "kube_pod_labels", "kube_node_info"} <= names
                # Left-out families are not even kept in the cache.
                held = c.informers["pods"][0].store["shop/" + POD]["rows"]
                assert all(dict(lbls)["__name__"] != "kube_pod_annotations" for lbls, _ in held)
            async with running(kube, options(metric_allowlist=("kube_pod_info", "^kube_node_status_cap"))) as c:
                served = {f.name for f in c.collect() if f.name.startswith("kube_")}
                assert served == {"kube_pod_info", "kube_node_status_capacity"}
                assert len(samples(c, "kube_pod_info")) == 1
    asyncio.run(main())


@pytest.mark.parametrize(("kw", "message"), [
    ({"metric_allowlist": ("a",), "metric_denylist": ("b",)}, "mutually exclusive"),
    ({"metric_denylist": ("kube_pod_(",)}, r"metric-denylist: 'kube_pod_\(' is not a regular expression"),
])
def test_bad_metric_lists_are_refused(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KubeStateCollector(KubeAccess("http://127.0.0.1:1", HTTPClientConfig()), KubeStateOptions(**kw))


def _series(c: KubeStateCollector) -> set[tuple[tuple[tuple[str, str], ...], float]]:
    return {(lbls, v) for f in c.collect() if f.name.startswith("kube_") for lbls, v in f.samples}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_churn_ends_where_a_fresh_list_starts(seed: int) -> None:
    """Adds, updates and deletes mixed with dropped watches, 410s and bookmarks: the
    cache ends holding exactly what a collector listing the final state from scratch holds."""
    import random

    from .objects import CLUSTER

    rng = random.Random(seed)

    async def main() -> None:
        async with FakeKube() as kube, running(kube) as c:
            live: dict[tuple[str, str, str], dict[str, Any]] = {}
            for step in range(120):
                resource = rng.choice(["pods", "pods", "nodes", "deployments", "services"])
                obj = copy.deepcopy(rng.choice(CLUSTER[resource]))
                meta = obj["metadata"]
                meta["name"] = f"{meta['name']}-{rng.randrange(6)}"
                key = (resource, meta.get("namespace", ""), meta["name"])
                roll = rng.random()
                if key in live and roll < 0.3:
                    kube.delete(resource, key[1], key[2])
                    del live[key]
                else:
                    if resource == "pods":
                        obj["status"]["phase"] = rng.choice(["Running", "Pending", "Failed"])
                    kube.add(resource, obj)
                    live[key] = obj
                if roll > 0.97:
                    kube.drop_watches()
                elif roll > 0.95:
                    kube.expire()
                elif roll > 0.9:
                    kube.bookmark()
                if step % 10 == 0:
                    await asyncio.sleep(0.01)
            async with running(kube) as fresh:
                want = _series(fresh)
                await eventually(lambda: _series(c) == want, timeout=20)
                assert _self(c, "kubesight_kube_state_objects", resource="pods") == \
                        sum(1 for k in live if k[0] == "pods")
    asyncio.run(main())


def test_a_forbidden_resource_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    """No RBAC rights to one resource: it stays unsynced and counted, the others are served."""
    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("pods", RUNNING_POD)
            kube.add("horizontalpodautoscalers", {"metadata": {"name": "h", "namespace": "shop"}, "spec": {}})
            kube.forbidden.add("horizontalpodautoscalers")
            c = KubeStateCollector(KubeAccess(kube.url, HTTPClientConfig()),
                                   KubeStateOptions(resources=("pods", "horizontalpodautoscalers")),
                                   backoff_start=0.01, backoff_max=0.05)
            async with c:
                assert not await c.wait_synced(0.5)
                assert _pods(c) == {POD}
                await eventually(lambda: _self(c, "kubesight_kube_state_list_watch_errors_total",
                                               resource="horizontalpodautoscalers", verb="list") >= 2)
                assert _self(c, "kubesight_kube_state_synced", resource="horizontalpodautoscalers") == 0
                assert _self(c, "kubesight_kube_state_synced", resource="pods") == 1
                assert "is forbidden" in caplog.text and "horizontalpodautoscalers" in caplog.text
                # Rights granted: it catches up without a restart.
                kube.forbidden.clear()
                assert await c.wait_synced(10)
                assert len(samples(c, "kube_horizontalpodautoscaler_info")) == 1
    asyncio.run(main())


def test_unreadable_ca_file_is_a_clear_error(tmp_path: Any) -> None:
    from pathlib import Path

    access = KubeAccess("https://127.0.0.1:6443", HTTPClientConfig(ca_file=Path(tmp_path) / "missing-ca.crt"))

    async def main() -> None:
        c = KubeStateCollector(access, KubeStateOptions(resources=("pods",)))
        with pytest.raises(RuntimeError, match=r"kube-state: cannot set up the client for https://127.0.0.1:6443: .*"
                                               r"missing-ca.crt"):
            await c.start()
        await c.stop()
    asyncio.run(main())
