"""Resolvers: pod objects (a list or a watch) and the no-Kubernetes fallback."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable

import httpx

from kubesight.collect.containers import Identity, NameResolver, PodIndex, classify
from kubesight.collect.containers.resolve import pod_informer, summarize
from kubesight.discovery.fake_kube import FakeKube
from tests.collect.containers import cgtree as t

APP = classify(f"{t.V2_POD}/cri-containerd-{t.APP}.scope")
SANDBOX = classify(f"{t.V2_POD}/cri-containerd-{t.SANDBOX}.scope")
POD = classify(t.V2_POD)
UNIT = classify("/system.slice/containerd.service")


def test_pod_index_labels_pods_containers_and_the_sandbox() -> None:
    idx = PodIndex(t.PODS)
    assert idx.resolve(APP) == Identity(t.APP, "docker.io/library/nginx:1.25", "shop", "web-7d9c", "nginx")
    assert idx.resolve(POD) == Identity(namespace="shop", pod="web-7d9c")
    assert idx.resolve(SANDBOX) == Identity(name=t.SANDBOX, namespace="shop", pod="web-7d9c")
    assert idx.resolve(UNIT) == Identity(name="containerd.service")  # the fallback
    assert len(idx) == 2


def test_an_unknown_pod_falls_back_to_the_path() -> None:
    idx = PodIndex([])
    assert idx.resolve(APP) == Identity(name=t.APP)
    assert idx.resolve(POD) == Identity()


def test_name_resolver() -> None:
    r = NameResolver()
    assert r.resolve(APP) == Identity(name=t.APP)
    assert r.resolve(UNIT) == Identity(name="containerd.service")
    assert r.resolve(classify("/kubepods.slice")) == Identity()


def test_image_from_the_spec_when_the_status_has_none_and_restarted_containers() -> None:
    pod = copy.deepcopy(t.PODS[0])
    st = pod["status"]["containerStatuses"][0]
    del st["image"]
    st["lastState"] = {"terminated": {"containerID": "containerd://" + "f" * 64}}
    s = summarize(pod)
    assert s is not None
    assert ("b" * 64, "nginx", "nginx:1.25") in s.containers
    assert ("f" * 64, "nginx", "nginx:1.25") in s.containers
    assert summarize({"metadata": {"name": "no-uid"}}) is None


def test_on_change_adds_updates_and_deletes() -> None:
    idx = PodIndex()
    idx.on_change("shop/web-7d9c", None, PodIndex.transform(t.PODS[0]))
    assert idx.resolve(APP).container == "nginx"
    renamed = copy.deepcopy(t.PODS[0])
    renamed["status"]["containerStatuses"][0]["name"] = "nginx2"
    idx.on_change("shop/web-7d9c", t.PODS[0], renamed)
    assert idx.resolve(APP).container == "nginx2"
    idx.on_change("shop/web-7d9c", renamed, None)
    assert idx.resolve(APP) == Identity(name=t.APP)


def test_transform_keeps_what_the_index_needs() -> None:
    big = copy.deepcopy(t.PODS[0])
    big["metadata"]["annotations"] = {"a": "x" * 10000}
    small = PodIndex.transform(big)
    assert len(repr(small)) < 1500
    assert summarize(small) == summarize(t.PODS[0])


async def _until(cond: Callable[[], bool]) -> None:
    for _ in range(500):
        if cond():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


def test_a_watch_of_the_nodes_pods_keeps_the_index_current() -> None:
    async def main() -> None:
        async with FakeKube() as kube:
            mine = copy.deepcopy(t.PODS[0])
            mine["spec"]["nodeName"] = "node-a"
            other = copy.deepcopy(t.PODS[1])
            other["spec"]["nodeName"] = "node-b"
            kube.add("pods", mine)
            kube.add("pods", other)
            idx = PodIndex()
            async with httpx.AsyncClient() as client:
                task = asyncio.create_task(pod_informer(client, kube.url, idx, node="node-a").run())
                try:
                    await _until(lambda: idx.resolve(APP).container == "nginx")
                    assert len(idx) == 1  # only node-a's pods
                    kube.delete("pods", "shop", "web-7d9c")
                    await _until(lambda: len(idx) == 0)
                    assert idx.resolve(APP) == Identity(name=t.APP)
                finally:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
