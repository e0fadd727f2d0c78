"""Resolvers: pod objects (a list or a watch) and the no-Kubernetes fallback."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from pathlib import Path

import httpx

from kubesight.collect.containers import (
    DockerResolver,
    Identity,
    NameResolver,
    PodIndex,
    classify,
    default_resolver,
)
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


def _docker_root(tmp_path: Path) -> Path:
    root = tmp_path / "docker"
    t.write(root, {
        f"containers/{t.DOCKER}/config.v2.json": json.dumps({
            "ID": t.DOCKER, "Name": "/redis", "Image": "sha256:" + "9" * 64,
            "Config": {"Image": "redis:7", "Labels": {"maintainer": "x"}}}),
        # a dockershim pod's container: the kubelet's labels on it
        f"containers/{t.APP}/config.v2.json": json.dumps({
            "ID": t.APP, "Name": "/k8s_nginx_web-7d9c_shop_" + t.POD_UID + "_0",
            "Config": {"Image": "nginx:1.25", "Labels": {
                "io.kubernetes.pod.name": "web-7d9c", "io.kubernetes.pod.namespace": "shop",
                "io.kubernetes.container.name": "nginx"}}}),
        f"containers/{t.SIDECAR}/config.v2.json": "{not json",
    })
    return root


def test_docker_resolver_names_containers_from_dockers_state(tmp_path: Path) -> None:
    r = DockerResolver(str(_docker_root(tmp_path)))
    assert r.resolve(classify(f"/system.slice/docker-{t.DOCKER}.scope")) == Identity("redis", "redis:7")
    assert r.resolve(classify(f"/docker/{t.DOCKER}")) == Identity("redis", "redis:7")
    shim = r.resolve(classify(f"{t.V1_POD}/{t.APP}"))
    assert shim == Identity("k8s_nginx_web-7d9c_shop_" + t.POD_UID + "_0", "nginx:1.25", "shop",
                            "web-7d9c", "nginx")
    # broken or absent state, other runtimes and units: the fallback
    assert r.resolve(classify(f"{t.V1_POD}/{t.SIDECAR}")) == Identity(name=t.SIDECAR)
    assert r.resolve(classify(f"{t.V1_POD}/{t.SANDBOX}")) == Identity(name=t.SANDBOX)
    assert r.resolve(APP) == Identity(name=t.APP)  # cri-containerd: not docker's
    assert r.resolve(UNIT) == Identity(name="containerd.service")


def test_default_resolver_uses_docker_where_docker_keeps_state(tmp_path: Path) -> None:
    assert isinstance(default_resolver(str(_docker_root(tmp_path))), DockerResolver)
    assert isinstance(default_resolver(str(tmp_path / "nothing")), NameResolver)
