"""kubernetes_sd_configs against the fake API server, role by role.

The objects and expected label sets mirror the cases of Prometheus 2.42's
discovery/kubernetes/*_test.go (written out here from what those tests expect).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from sd_helpers import Collector, Running, wait_for  # type: ignore[import-not-found]

from kubesight.discovery.config import build_discoverers
from kubesight.discovery.fake_kube import FakeKube
from kubesight.discovery.kubernetes import KubernetesDiscoverer

pytestmark = pytest.mark.timeout(60)
M = "__meta_kubernetes_"


def discoverer(kube: FakeKube, role: str, **extra: Any) -> KubernetesDiscoverer:
    [(_, d)] = build_discoverers("k", {"kubernetes_sd_configs": [
        {"role": role, "api_server": kube.url, **extra}]}, Path("/"))
    assert isinstance(d, KubernetesDiscoverer)
    d.backoff_start = 0.02
    return d


def flat(out: Collector) -> dict[str, tuple[dict[str, str], list[dict[str, str]]]]:
    return {s: (g.labels, list(g.targets)) for s, g in out.groups.items()}


NODE = {"metadata": {"name": "test", "labels": {"test-label": "testvalue"},
                     "annotations": {"test-annotation": "testannotationvalue"}},
        "spec": {"providerID": "aws:///de"},
        "status": {"addresses": [{"type": "InternalIP", "address": "1.2.3.4"}],
                   "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}}

POD = {"metadata": {"name": "testpod", "namespace": "default", "uid": "abc123",
                    "labels": {"test/label": "testvalue"},
                    "annotations": {"test/annotation": "testannotationvalue"},
                    "ownerReferences": [{"kind": "testcontrollerkind", "name": "testcontrollername",
                                         "controller": True}]},
       "spec": {"nodeName": "testnode",
                "containers": [
                    {"name": "testcontainer0", "image": "testcontainer0:latest",
                     "ports": [{"name": "testport0", "protocol": "TCP", "containerPort": 9000},
                               {"name": "testport1", "protocol": "UDP", "containerPort": 9001}]},
                    {"name": "testcontainer1", "image": "testcontainer1:latest"}]},
       "status": {"podIP": "1.2.3.4", "hostIP": "2.3.4.5", "phase": "Running",
                  "conditions": [{"type": "Ready", "status": "True"}],
                  "containerStatuses": [{"name": "testcontainer0", "containerID": "docker://a1b2c3d4e5f6"},
                                        {"name": "testcontainer1", "containerID": "containerd://6f5e4d3c2b1a"}]}}

POD_GROUP_LABELS = {
    M + "pod_name": "testpod", M + "namespace": "default",
    M + "pod_label_test_label": "testvalue", M + "pod_labelpresent_test_label": "true",
    M + "pod_annotation_test_annotation": "testannotationvalue",
    M + "pod_annotationpresent_test_annotation": "true",
    M + "pod_node_name": "testnode", M + "pod_ip": "1.2.3.4", M + "pod_host_ip": "2.3.4.5",
    M + "pod_ready": "true", M + "pod_phase": "Running", M + "pod_uid": "abc123",
    M + "pod_controller_kind": "testcontrollerkind", M + "pod_controller_name": "testcontrollername",
}
POD_TARGETS = [
    {"__address__": "1.2.3.4:9000", M + "pod_container_name": "testcontainer0",
     M + "pod_container_image": "testcontainer0:latest", M + "pod_container_port_name": "testport0",
     M + "pod_container_port_number": "9000", M + "pod_container_port_protocol": "TCP",
     M + "pod_container_init": "false", M + "pod_container_id": "docker://a1b2c3d4e5f6"},
    {"__address__": "1.2.3.4:9001", M + "pod_container_name": "testcontainer0",
     M + "pod_container_image": "testcontainer0:latest", M + "pod_container_port_name": "testport1",
     M + "pod_container_port_number": "9001", M + "pod_container_port_protocol": "UDP",
     M + "pod_container_init": "false", M + "pod_container_id": "docker://a1b2c3d4e5f6"},
    {"__address__": "1.2.3.4", M + "pod_container_name": "testcontainer1",
     M + "pod_container_image": "testcontainer1:latest", M + "pod_container_init": "false",
     M + "pod_container_id": "containerd://6f5e4d3c2b1a"},
]


def test_node_role() -> None:
    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("nodes", NODE)
            async with Running(discoverer(kube, "node")) as out:
                await wait_for(lambda: "node/test" in out.groups)
                assert flat(out) == {"node/test": (
                    {M + "node_name": "test", M + "node_provider_id": "aws:///de",
                     M + "node_label_test_label": "testvalue", M + "node_labelpresent_test_label": "true",
                     M + "node_annotation_test_annotation": "testannotationvalue",
                     M + "node_annotationpresent_test_annotation": "true"},
                    [{"__address__": "1.2.3.4:10250", "instance": "test",
                      M + "node_address_InternalIP": "1.2.3.4"}])}
                kube.delete("nodes", "", "test")
                await wait_for(lambda: not out.groups, what="node removal")
    asyncio.run(main())


def test_pod_role_ports_portless_container_and_attach_node() -> None:
    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("pods", POD)
            kube.add("nodes", {**NODE, "metadata": {**NODE["metadata"], "name": "testnode"}})  # type: ignore[dict-item]
            async with Running(discoverer(kube, "pod")) as out:
                await wait_for(lambda: bool(out.groups))
                assert flat(out) == {"pod/default/testpod": (POD_GROUP_LABELS, POD_TARGETS)}
            async with Running(discoverer(kube, "pod", attach_metadata={"node": True})) as out:
                await wait_for(lambda: bool(out.groups))
                labels, _ = flat(out)["pod/default/testpod"]
                assert labels == {**POD_GROUP_LABELS, M + "node_name": "testnode",
                                  M + "node_label_test_label": "testvalue",
                                  M + "node_labelpresent_test_label": "true"}
                # A node label change reaches the pod's group.
                node = kube.get("nodes", "", "testnode")
                assert node is not None
                node["metadata"]["labels"] = {"zone": "b"}
                kube.update("nodes", node)
                await wait_for(lambda: out.groups["pod/default/testpod"].labels.get(M + "node_label_zone") == "b")
    asyncio.run(main())


def test_pod_init_container_and_no_ip() -> None:
    pod: dict[str, Any] = {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
        "spec": {"nodeName": "n", "containers": [{"name": "c", "image": "i"}],
                 "initContainers": [{"name": "init", "image": "ii",
                                     "ports": [{"containerPort": 80, "protocol": "TCP"}]}]},
        "status": {"podIP": "10.0.0.1", "phase": "Pending",
                   "initContainerStatuses": [{"name": "init", "containerID": "cri://x"}]}}

    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("pods", pod)
            kube.add("pods", {"metadata": {"name": "noip", "namespace": "ns"},
                              "spec": {"containers": [{"name": "c"}]}, "status": {}})
            async with Running(discoverer(kube, "pod")) as out:
                await wait_for(lambda: bool(out.groups))
                labels, targets = flat(out)["pod/ns/p"]
                assert set(out.groups) == {"pod/ns/p"}  # the pod without an IP has no targets
                assert labels[M + "pod_ready"] == "unknown" and M + "pod_controller_kind" not in labels
                assert targets == [
                    {"__address__": "10.0.0.1", M + "pod_container_name": "c", M + "pod_container_id": "",
                     M + "pod_container_image": "i", M + "pod_container_init": "false"},
                    {"__address__": "10.0.0.1:80", M + "pod_container_name": "init",
                     M + "pod_container_id": "cri://x", M + "pod_container_image": "ii",
                     M + "pod_container_init": "true", M + "pod_container_port_name": "",
                     M + "pod_container_port_number": "80", M + "pod_container_port_protocol": "TCP"}]
    asyncio.run(main())


SERVICE = {"metadata": {"name": "testservice", "namespace": "default",
                        "labels": {"app/name": "test"}, "annotations": {"test-annotation": "test"}},
           "spec": {"type": "ClusterIP", "clusterIP": "10.0.0.1",
                    "ports": [{"name": "testport", "protocol": "TCP", "port": 30900}]}}
SERVICE_LABELS = {M + "service_name": "testservice", M + "namespace": "default",
                  M + "service_label_app_name": "test", M + "service_labelpresent_app_name": "true",
                  M + "service_annotation_test_annotation": "test",
                  M + "service_annotationpresent_test_annotation": "true"}


def test_service_role_types() -> None:
    ext = {"metadata": {"name": "ext", "namespace": "default"},
           "spec": {"type": "ExternalName", "externalName": "example.com",
                    "ports": [{"name": "http", "protocol": "TCP", "port": 80}]}}
    lb = {"metadata": {"name": "lb", "namespace": "default"},
          "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.2", "loadBalancerIP": "128.0.0.1",
                   "ports": [{"name": "https", "protocol": "TCP", "port": 443}]}}

    async def main() -> None:
        async with FakeKube() as kube:
            for s in (SERVICE, ext, lb):
                kube.add("services", s)
            async with Running(discoverer(kube, "service")) as out:
                await wait_for(lambda: len(out.groups) == 3)
                g = flat(out)
                assert g["svc/default/testservice"] == (SERVICE_LABELS, [{
                    "__address__": "testservice.default.svc:30900", M + "service_port_name": "testport",
                    M + "service_port_number": "30900", M + "service_port_protocol": "TCP",
                    M + "service_type": "ClusterIP", M + "service_cluster_ip": "10.0.0.1"}])
                assert g["svc/default/ext"][1] == [{
                    "__address__": "ext.default.svc:80", M + "service_port_name": "http",
                    M + "service_port_number": "80", M + "service_port_protocol": "TCP",
                    M + "service_type": "ExternalName", M + "service_external_name": "example.com"}]
                assert g["svc/default/lb"][1][0][M + "service_loadbalancer_ip"] == "128.0.0.1"
                assert g["svc/default/lb"][1][0][M + "service_cluster_ip"] == "10.0.0.2"
    asyncio.run(main())


ENDPOINTS = {
    "metadata": {"name": "testservice", "namespace": "default", "labels": {"app": "x"}},
    "subsets": [
        {"addresses": [{"ip": "1.2.3.4", "hostname": "testendpoint1", "nodeName": "foobar"}],
         "ports": [{"name": "testport", "port": 9000, "protocol": "TCP"}]},
        {"addresses": [{"ip": "2.3.4.5"}], "notReadyAddresses": [{"ip": "2.3.4.5"}],
         "ports": [{"name": "testport", "port": 9001, "protocol": "TCP"}]},
        {"addresses": [{"ip": "1.2.3.4", "targetRef": {"kind": "Pod", "name": "testpod",
                                                        "namespace": "default"}}],
         "ports": [{"name": "testport", "port": 9000, "protocol": "TCP"}]},
    ]}


def test_endpoints_role_with_service_and_pod() -> None:
    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("endpoints", ENDPOINTS)
            kube.add("services", SERVICE)
            kube.add("pods", POD)
            async with Running(discoverer(kube, "endpoints")) as out:
                await wait_for(lambda: bool(out.groups))
                labels, targets = flat(out)["endpoints/default/testservice"]
                assert labels == {**SERVICE_LABELS, M + "endpoints_name": "testservice",
                                  M + "endpoints_label_app": "x", M + "endpoints_labelpresent_app": "true"}
                ep = M + "endpoint_"
                pod_all = {k: v for k, v in POD_GROUP_LABELS.items() if k != M + "namespace"}
                assert targets == [
                    {"__address__": "1.2.3.4:9000", ep + "hostname": "testendpoint1",
                     ep + "node_name": "foobar", ep + "port_name": "testport",
                     ep + "port_protocol": "TCP", ep + "ready": "true"},
                    {"__address__": "2.3.4.5:9001", ep + "port_name": "testport",
                     ep + "port_protocol": "TCP", ep + "ready": "true"},
                    {"__address__": "2.3.4.5:9001", ep + "port_name": "testport",
                     ep + "port_protocol": "TCP", ep + "ready": "false"},
                    {"__address__": "1.2.3.4:9000", ep + "port_name": "testport",
                     ep + "port_protocol": "TCP", ep + "ready": "true",
                     ep + "address_target_kind": "Pod", ep + "address_target_name": "testpod",
                     **pod_all, M + "pod_container_name": "testcontainer0",
                     M + "pod_container_image": "testcontainer0:latest",
                     M + "pod_container_port_name": "testport0", M + "pod_container_port_number": "9000",
                     M + "pod_container_port_protocol": "TCP"},
                    # The pod port no endpoint covers gets its own target.
                    {"__address__": "1.2.3.4:9001", **pod_all, M + "pod_container_name": "testcontainer0",
                     M + "pod_container_image": "testcontainer0:latest",
                     M + "pod_container_port_name": "testport1", M + "pod_container_port_number": "9001",
                     M + "pod_container_port_protocol": "UDP"},
                ]
                # A service change re-labels the endpoints' group.
                svc = kube.get("services", "default", "testservice")
                assert svc is not None
                svc["metadata"]["labels"] = {"app/name": "changed"}
                kube.update("services", svc)
                await wait_for(lambda: out.groups["endpoints/default/testservice"].labels.get(
                    M + "service_label_app_name") == "changed")
    asyncio.run(main())


def test_endpointslice_role() -> None:
    slice_: dict[str, Any] = {
        "metadata": {"name": "testendpoints", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": "testservice"}},
        "addressType": "IPv4",
        "ports": [{"name": "testport", "port": 9000, "protocol": "TCP", "appProtocol": "http"}],
        "endpoints": [
            {"addresses": ["1.2.3.4"], "conditions": {"ready": True, "serving": True, "terminating": False},
             "hostname": "testendpoint1", "targetRef": {}, "nodeName": "foobar",
             "deprecatedTopology": {"topology": "value"}},
            {"addresses": ["2.3.4.5"], "conditions": {"ready": True, "serving": True, "terminating": False}},
            {"addresses": ["3.4.5.6"], "conditions": {"ready": False, "serving": False, "terminating": True}},
        ]}

    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("endpointslices", slice_)
            kube.add("services", SERVICE)
            async with Running(discoverer(kube, "endpointslice")) as out:
                await wait_for(lambda: bool(out.groups))
                labels, targets = flat(out)["endpointslice/default/testendpoints"]
                assert labels == {**SERVICE_LABELS, M + "endpointslice_name": "testendpoints",
                                  M + "endpointslice_address_type": "IPv4"}
                es = M + "endpointslice_"
                port = {es + "port": "9000", es + "port_name": "testport", es + "port_protocol": "TCP",
                        es + "port_app_protocol": "http"}
                assert targets == [
                    # An empty targetRef still sets its (empty) labels, as in Prometheus' test.
                    {"__address__": "1.2.3.4:9000", **port, es + "endpoint_hostname": "testendpoint1",
                     es + "address_target_kind": "", es + "address_target_name": "",
                     es + "endpoint_conditions_ready": "true", es + "endpoint_conditions_serving": "true",
                     es + "endpoint_conditions_terminating": "false",
                     es + "endpoint_topology_topology": "value",
                     es + "endpoint_topology_present_topology": "true"},
                    {"__address__": "2.3.4.5:9000", **port, es + "endpoint_conditions_ready": "true",
                     es + "endpoint_conditions_serving": "true", es + "endpoint_conditions_terminating": "false"},
                    {"__address__": "3.4.5.6:9000", **port, es + "endpoint_conditions_ready": "false",
                     es + "endpoint_conditions_serving": "false", es + "endpoint_conditions_terminating": "true"},
                ]
    asyncio.run(main())


def test_ingress_role_tls_and_paths() -> None:
    ing = {"metadata": {"name": "testingress", "namespace": "default",
                        "labels": {"test/label": "testvalue"}, "annotations": {"test/annotation": "x"}},
           "spec": {"ingressClassName": "testclass",
                    "tls": [{"hosts": ["example.com", "*.example.com"]}],
                    "rules": [
                        {"host": "example.com", "http": {"paths": [{"path": "/"}, {"path": "/foo"}]}},
                        {"host": "test.example.com", "http": {"paths": [{}]}},
                        {"host": "nottls.com"}]}}

    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("ingresses", ing)
            async with Running(discoverer(kube, "ingress")) as out:
                await wait_for(lambda: bool(out.groups))
                labels, targets = flat(out)["ingress/default/testingress"]
                assert labels == {M + "ingress_name": "testingress", M + "namespace": "default",
                                  M + "ingress_class_name": "testclass",
                                  M + "ingress_label_test_label": "testvalue",
                                  M + "ingress_labelpresent_test_label": "true",
                                  M + "ingress_annotation_test_annotation": "x",
                                  M + "ingress_annotationpresent_test_annotation": "true"}

                def t(host: str, scheme: str, path: str) -> dict[str, str]:
                    return {"__address__": host, M + "ingress_scheme": scheme,
                            M + "ingress_host": host, M + "ingress_path": path}
                assert targets == [t("example.com", "https", "/"), t("example.com", "https", "/foo"),
                                   t("test.example.com", "https", "/"), t("nottls.com", "http", "/")]
    asyncio.run(main())


def test_namespaces_and_selectors() -> None:
    def pod(name: str, ns: str, app: str) -> dict[str, Any]:
        return {"metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
                "spec": {"containers": [{"name": "c"}]}, "status": {"podIP": "10.0.0.9"}}

    async def main() -> None:
        async with FakeKube() as kube:
            for p in (pod("a", "one", "x"), pod("b", "two", "x"), pod("c", "one", "y"), pod("d", "three", "x")):
                kube.add("pods", p)
            d = discoverer(kube, "pod", namespaces={"names": ["one", "two"]},
                           selectors=[{"role": "pod", "label": "app=x"}])
            async with Running(d) as out:
                await wait_for(lambda: len(out.groups) == 2)
                await asyncio.sleep(0.1)
                assert set(out.groups) == {"pod/one/a", "pod/two/b"}
                kube.add("pods", pod("e", "two", "x"))
                kube.add("pods", pod("f", "two", "y"))
                await wait_for(lambda: "pod/two/e" in out.groups)
                assert "pod/two/f" not in out.groups
            watched = {r.path for r in kube.requests if r.query.get("watch")}
            assert watched == {"/api/v1/namespaces/one/pods", "/api/v1/namespaces/two/pods"}
            assert all(r.query.get("labelSelector") == "app=x" for r in kube.requests if "pods" in r.path)
    asyncio.run(main())


def test_watch_events_drop_resume_and_410_relist(caplog: pytest.LogCaptureFixture) -> None:
    def pod(name: str, ip: str) -> dict[str, Any]:
        return {"metadata": {"name": name, "namespace": "default"},
                "spec": {"containers": [{"name": "c"}]}, "status": {"podIP": ip}}

    def addr(out: Collector, name: str) -> str | None:
        g = out.groups.get(f"pod/default/{name}")
        return g.targets[0]["__address__"] if g else None

    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("pods", pod("a", "10.0.0.1"))
            async with Running(discoverer(kube, "pod")) as out:
                await wait_for(lambda: addr(out, "a") == "10.0.0.1")
                await wait_for(lambda: kube.watch_count() == 1, what="watch open")
                first_watch = next(r for r in kube.requests if r.query.get("watch"))
                assert first_watch.query["allowWatchBookmarks"] == "true"
                assert first_watch.query["resourceVersion"] == "1001"
                # add / modify / delete
                kube.add("pods", pod("b", "10.0.0.2"))
                await wait_for(lambda: addr(out, "b") == "10.0.0.2", what="add")
                kube.update("pods", pod("a", "10.0.0.3"))
                await wait_for(lambda: addr(out, "a") == "10.0.0.3", what="modify")
                kube.delete("pods", "default", "b")
                await wait_for(lambda: addr(out, "b") is None, what="delete")
                # A bookmark moves the resume point without an event.
                kube.resource_version += 10
                kube.bookmark()
                rv = kube.resource_version
                await asyncio.sleep(0.1)
                lists_before = sum(1 for r in kube.requests if not r.query.get("watch"))
                # Drop the watch: it resumes from the bookmark's version, no relist.
                with caplog.at_level(logging.WARNING, logger="kubesight.discovery.kubernetes"):
                    kube.drop_watches()
                    await wait_for(lambda: sum(1 for r in kube.requests if r.query.get("watch")) == 2,
                                   what="re-watch")
                resumed = [r for r in kube.requests if r.query.get("watch")][1]
                assert resumed.query["resourceVersion"] == str(rv)
                assert sum(1 for r in kube.requests if not r.query.get("watch")) == lists_before
                assert "watch failed" in caplog.text
                kube.add("pods", pod("c", "10.0.0.4"))
                await wait_for(lambda: addr(out, "c") == "10.0.0.4", what="event after resume")
                # 410 Gone: history is compacted; a change made meanwhile arrives via relist.
                await wait_for(lambda: kube.watch_count() == 1)
                kube.expire()
                n = sum(1 for r in kube.requests if not r.query.get("watch"))
                await wait_for(lambda: sum(1 for r in kube.requests if not r.query.get("watch")) > n,
                               what="relist after 410")
                # Objects deleted while not watching disappear after a relist.
                kube.gone_on_watch = True
                kube.drop_watches()
                kube.objects["pods"].pop("default/c")
                await wait_for(lambda: addr(out, "c") is None, what="deletion seen by relist")
                kube.gone_on_watch = False
                kube.add("pods", pod("d", "10.0.0.5"))
                await wait_for(lambda: addr(out, "d") == "10.0.0.5", what="watching again")
                assert addr(out, "a") == "10.0.0.3"
    asyncio.run(main())


def test_unreachable_api_server_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with FakeKube() as kube:
            url = kube.url
        [(_, d)] = build_discoverers("k", {"kubernetes_sd_configs": [{"role": "pod", "api_server": url}]}, Path("/"))
        assert isinstance(d, KubernetesDiscoverer)
        d.backoff_start = 0.01
        with caplog.at_level(logging.WARNING, logger="kubesight.discovery.kubernetes"):
            async with Running(d) as out:
                await wait_for(lambda: "list failed" in caplog.text)
                await asyncio.sleep(0.1)
                assert not out.sends
    asyncio.run(main())


def test_endpoints_attach_node_metadata_and_bad_object_isolated() -> None:
    eps = {"metadata": {"name": "s", "namespace": "default"},
           "subsets": [{"addresses": [{"ip": "1.1.1.1", "nodeName": "testnode"}],
                        "ports": [{"name": "p", "port": 80, "protocol": "TCP"}]}]}

    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("endpoints", eps)
            # An object of a shape the API would never serve must not stop the others.
            kube.add("endpoints", {"metadata": {"name": "bad", "namespace": "default"}, "subsets": "x"})
            kube.add("nodes", {**NODE, "metadata": {"name": "testnode", "labels": {"zone": "a"}}})
            async with Running(discoverer(kube, "endpoints", attach_metadata={"node": True})) as out:
                await wait_for(lambda: bool(out.groups))
                [t] = out.groups["endpoints/default/s"].targets
                assert t[M + "node_name"] == "testnode" and t[M + "node_label_zone"] == "a"
                assert t[M + "node_labelpresent_zone"] == "true" and M + "endpoint_node_name" in t
                assert set(out.groups) == {"endpoints/default/s"}
    asyncio.run(main())


def test_bearer_token_file_is_reread(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    token = tmp_path / "token"
    token.write_text("old\n")

    async def main() -> None:
        async with FakeKube(token="new") as kube:
            kube.add("nodes", NODE)
            d = discoverer(kube, "node", authorization={"credentials_file": str(token)})
            with caplog.at_level(logging.WARNING, logger="kubesight.discovery.kubernetes"):
                async with Running(d) as out:
                    await wait_for(lambda: "HTTP 401" in caplog.text, what="401 logged")
                    assert not out.groups
                    token.write_text("new\n")  # a rotated service-account token
                    await wait_for(lambda: "node/test" in out.groups, what="discovery after rotation")
            assert kube.requests[-1].headers["authorization"] == "Bearer new"
    asyncio.run(main())


def test_related_object_changes_rebuild_groups() -> None:
    slice_ = {"metadata": {"name": "testservice-x", "namespace": "default",
                           "labels": {"kubernetes.io/service-name": "testservice"}},
              "addressType": "IPv4", "ports": [{"name": "p", "port": 9000, "protocol": "TCP"}],
              "endpoints": [{"addresses": ["1.2.3.4"],
                             "targetRef": {"kind": "Pod", "name": "testpod", "namespace": "default"}}]}

    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("endpoints", ENDPOINTS)
            kube.add("endpointslices", slice_)
            kube.add("services", SERVICE)
            kube.add("pods", POD)
            async with Running(discoverer(kube, "endpoints")) as eps, \
                    Running(discoverer(kube, "endpointslice")) as sls:
                await wait_for(lambda: bool(eps.groups) and bool(sls.groups))
                pod = kube.get("pods", "default", "testpod")
                assert pod is not None
                pod["metadata"]["labels"] = {"version": "2"}
                kube.update("pods", pod)

                def pod_label(out: Collector) -> set[str | None]:
                    return {t.get(M + "pod_label_version") for g in out.groups.values()
                            for t in g.targets if M + "pod_name" in t}
                await wait_for(lambda: pod_label(eps) == {"2"}, what="endpoints rebuilt on pod change")
                await wait_for(lambda: pod_label(sls) == {"2"}, what="slice rebuilt on pod change")
                svc = kube.get("services", "default", "testservice")
                assert svc is not None
                svc["metadata"]["labels"] = {"tier": "web"}
                kube.update("services", svc)
                await wait_for(lambda: sls.groups["endpointslice/default/testservice-x"].labels.get(
                    M + "service_label_tier") == "web", what="slice rebuilt on service change")
                kube.delete("services", "default", "testservice")
                await wait_for(lambda: M + "service_name" not in
                               sls.groups["endpointslice/default/testservice-x"].labels)
    asyncio.run(main())


def test_list_is_paged() -> None:
    async def main() -> None:
        async with FakeKube() as kube:
            for i in range(7):
                kube.add("pods", {"metadata": {"name": f"p{i}", "namespace": "default"},
                                  "spec": {"containers": [{"name": "c"}]}, "status": {"podIP": f"10.0.0.{i}"}})
            d = discoverer(kube, "pod")
            d.page_size = 3
            async with Running(d) as out:
                await wait_for(lambda: len(out.groups) == 7)
            lists = [r for r in kube.requests if not r.query.get("watch")]
            assert [r.query.get("continue", "") != "" for r in lists] == [False, True, True]
            assert all(r.query["limit"] == "3" for r in lists)
    asyncio.run(main())
