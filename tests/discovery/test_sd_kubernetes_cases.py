"""Cases transcribed from Prometheus 2.42's discovery/kubernetes/*_test.go.

Each case gives the objects (as the API serves them in JSON) and the groups
Prometheus' own tests expect for them, and runs them through the fake API
server and a real discoverer. Targets are compared as sets where Prometheus
builds them from a Go map (the extra targets for uncovered pod ports).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sd_helpers import Running, wait_for  # type: ignore[import-not-found]

from kubesight.discovery.config import build_discoverers
from kubesight.discovery.fake_kube import FakeKube
from kubesight.discovery.kubernetes import KubernetesDiscoverer

pytestmark = pytest.mark.timeout(30)
M = "__meta_kubernetes_"

MAKE_ENDPOINTS = {
    "metadata": {"name": "testendpoints", "namespace": "default"},
    "subsets": [
        {"addresses": [{"ip": "1.2.3.4", "hostname": "testendpoint1", "nodeName": "foobar"}],
         "ports": [{"name": "testport", "port": 9000, "protocol": "TCP"}]},
        {"addresses": [{"ip": "2.3.4.5"}], "notReadyAddresses": [{"ip": "2.3.4.5"}],
         "ports": [{"name": "testport", "port": 9001, "protocol": "TCP"}]}]}
ENDPOINTS_TARGETS = [
    {"__address__": "1.2.3.4:9000", M + "endpoint_hostname": "testendpoint1",
     M + "endpoint_node_name": "foobar", M + "endpoint_port_name": "testport",
     M + "endpoint_port_protocol": "TCP", M + "endpoint_ready": "true"},
    {"__address__": "2.3.4.5:9001", M + "endpoint_port_name": "testport",
     M + "endpoint_port_protocol": "TCP", M + "endpoint_ready": "true"},
    {"__address__": "2.3.4.5:9001", M + "endpoint_port_name": "testport",
     M + "endpoint_port_protocol": "TCP", M + "endpoint_ready": "false"}]
C1C2_POD = {
    "metadata": {"name": "testpod", "namespace": "default", "uid": "deadbeef"},
    "spec": {"nodeName": "testnode", "containers": [
        {"name": "c1", "image": "c1:latest",
         "ports": [{"name": "mainport", "containerPort": 9000, "protocol": "TCP"}]},
        {"name": "c2", "image": "c2:latest",
         "ports": [{"name": "sideport", "containerPort": 9001, "protocol": "TCP"}]}]},
    "status": {"hostIP": "2.3.4.5", "podIP": "1.2.3.4"}}
C1C2_POD_LABELS = {M + "pod_name": "testpod", M + "pod_ip": "1.2.3.4", M + "pod_ready": "unknown",
                   M + "pod_phase": "", M + "pod_node_name": "testnode",
                   M + "pod_host_ip": "2.3.4.5", M + "pod_uid": "deadbeef"}
SIDEPORT_TARGET = {"__address__": "1.2.3.4:9001", **C1C2_POD_LABELS,
                   M + "pod_container_name": "c2", M + "pod_container_image": "c2:latest",
                   M + "pod_container_port_name": "sideport",
                   M + "pod_container_port_number": "9001", M + "pod_container_port_protocol": "TCP"}
MAINPORT = {M + "pod_container_name": "c1", M + "pod_container_image": "c1:latest",
            M + "pod_container_port_name": "mainport", M + "pod_container_port_number": "9000",
            M + "pod_container_port_protocol": "TCP"}
SLICE_V1 = {
    "metadata": {"name": "testendpoints", "namespace": "default",
                 "labels": {"kubernetes.io/service-name": "testendpoints"}},
    "addressType": "IPv4",
    "ports": [{"name": "testport", "port": 9000, "protocol": "TCP", "appProtocol": "http"}],
    "endpoints": [
        {"addresses": ["1.2.3.4"], "conditions": {"ready": True, "serving": True, "terminating": False},
         "hostname": "testendpoint1", "targetRef": {}, "nodeName": "foobar",
         "deprecatedTopology": {"topology": "value"}},
        {"addresses": ["2.3.4.5"], "conditions": {"ready": True, "serving": True, "terminating": False}},
        {"addresses": ["3.4.5.6"], "conditions": {"ready": False, "serving": True, "terminating": True}}]}
ES = M + "endpointslice_"
ES_PORT = {ES + "port": "9000", ES + "port_app_protocol": "http", ES + "port_name": "testport",
           ES + "port_protocol": "TCP"}
POD_INIT = {
    "metadata": {"name": "testpod", "namespace": "default", "uid": "abc123"},
    "spec": {"nodeName": "testnode",
             "containers": [{"name": "testcontainer", "image": "testcontainer:latest",
                             "ports": [{"name": "testport", "protocol": "TCP", "containerPort": 9000}]}],
             "initContainers": [{"name": "initcontainer", "image": "initcontainer:latest"}]},
    "status": {"podIP": "1.2.3.4", "hostIP": "2.3.4.5", "phase": "Pending",
               "conditions": [{"type": "Ready", "status": "False"}],
               "containerStatuses": [{"name": "testcontainer", "containerID": "docker://a1b2c3d4e5f6"}],
               "initContainerStatuses": [{"name": "initcontainer", "containerID": "containerd://6f5e4d3c2b1a"}]}}



def _ingress(tls_hosts: list[str] | None) -> dict[str, Any]:
    return {"metadata": {"name": "testingress", "namespace": "default",
                         "labels": {"test/label": "testvalue"},
                         "annotations": {"test/annotation": "testannotationvalue"}},
            "spec": {"ingressClassName": "testclass",
                     "tls": None if tls_hosts is None else [{"hosts": tls_hosts}],
                     "rules": [
                         {"host": "example.com", "http": {"paths": [{"path": "/"}, {"path": "/foo"}]}},
                         {"host": "nobackend.example.com", "http": {"paths": None}},
                         {"host": "test.example.com", "http": {"paths": [{}]}}]}}


def _ingress_expected(scheme1: str, scheme2: str) -> dict[str, Any]:
    def t(host: str, scheme: str, path: str) -> dict[str, str]:
        return {M + "ingress_scheme": scheme, M + "ingress_host": host,
                M + "ingress_path": path, "__address__": host}
    return {"ingress/default/testingress": (
        {M + "ingress_name": "testingress", M + "namespace": "default",
         M + "ingress_label_test_label": "testvalue", M + "ingress_labelpresent_test_label": "true",
         M + "ingress_annotation_test_annotation": "testannotationvalue",
         M + "ingress_annotationpresent_test_annotation": "true", M + "ingress_class_name": "testclass"},
        [t("example.com", scheme1, "/"), t("example.com", scheme1, "/foo"),
         t("test.example.com", scheme2, "/")])}


# (name, role, config extras, {resource: [objects]}, {source: (group labels, targets)})
CASES: list[tuple[str, str, dict[str, Any], dict[str, list[Any]], dict[str, tuple[dict[str, str], list[dict[str, str]]]]]] = [
    ("TestEndpointsDiscoveryBeforeRun", "endpoints", {}, {"endpoints": [MAKE_ENDPOINTS]},
     {"endpoints/default/testendpoints": (
         {M + "namespace": "default", M + "endpoints_name": "testendpoints"}, ENDPOINTS_TARGETS)}),
    ("TestEndpointsDiscoveryAdd", "endpoints", {}, {"pods": [C1C2_POD], "endpoints": [{
        "metadata": {"name": "testendpoints", "namespace": "default"},
        "subsets": [{"addresses": [{"ip": "4.3.2.1", "targetRef": {"kind": "Pod", "name": "testpod", "namespace": "default"}}],
                     "ports": [{"name": "testport", "port": 9000, "protocol": "TCP"}]}]}]},
     {"endpoints/default/testendpoints": (
         {M + "endpoints_name": "testendpoints", M + "namespace": "default"},
         [{"__address__": "4.3.2.1:9000", M + "endpoint_port_name": "testport",
           M + "endpoint_port_protocol": "TCP", M + "endpoint_ready": "true",
           M + "endpoint_address_target_kind": "Pod", M + "endpoint_address_target_name": "testpod",
           **C1C2_POD_LABELS, **MAINPORT}, SIDEPORT_TARGET])}),
    ("TestEndpointsDiscoveryWithNodeMetadata", "endpoints", {"attach_metadata": {"node": True}},
     {"endpoints": [MAKE_ENDPOINTS],
      "services": [{"metadata": {"name": "testendpoints", "namespace": "default", "labels": {"app/name": "test"}}}],
      "nodes": [{"metadata": {"name": "foobar", "labels": {"az": "us-east1"}},
                 "status": {"addresses": [{"type": "InternalIP", "address": ""}],
                            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}}]},
     {"endpoints/default/testendpoints": (
         {M + "namespace": "default", M + "endpoints_name": "testendpoints",
          M + "service_label_app_name": "test", M + "service_labelpresent_app_name": "true",
          M + "service_name": "testendpoints"},
         [{**ENDPOINTS_TARGETS[0], M + "node_label_az": "us-east1",
           M + "node_labelpresent_az": "true", M + "node_name": "foobar"}, *ENDPOINTS_TARGETS[1:]])}),
    ("TestEndpointSliceDiscoveryBeforeRun", "endpointslice", {"namespaces": {"names": ["default"]}},
     {"endpointslices": [SLICE_V1]},
     {"endpointslice/default/testendpoints": (
         {ES + "address_type": "IPv4", M + "namespace": "default", ES + "name": "testendpoints"},
         [{"__address__": "1.2.3.4:9000", ES + "address_target_kind": "", ES + "address_target_name": "",
           ES + "endpoint_conditions_ready": "true", ES + "endpoint_conditions_serving": "true",
           ES + "endpoint_conditions_terminating": "false", ES + "endpoint_hostname": "testendpoint1",
           ES + "endpoint_topology_present_topology": "true", ES + "endpoint_topology_topology": "value",
           **ES_PORT},
          {"__address__": "2.3.4.5:9000", ES + "endpoint_conditions_ready": "true",
           ES + "endpoint_conditions_serving": "true", ES + "endpoint_conditions_terminating": "false",
           **ES_PORT},
          {"__address__": "3.4.5.6:9000", ES + "endpoint_conditions_ready": "false",
           ES + "endpoint_conditions_serving": "true", ES + "endpoint_conditions_terminating": "true",
           **ES_PORT}])}),
    ("TestEndpointSliceDiscoveryAdd", "endpointslice", {"namespaces": {"names": ["default"]}},
     {"pods": [C1C2_POD], "endpointslices": [{
         "metadata": {"name": "testendpoints", "namespace": "default"}, "addressType": "IPv4",
         "ports": [{"name": "testport", "port": 9000, "protocol": "TCP"}],
         "endpoints": [{"addresses": ["4.3.2.1"], "conditions": {"ready": False},
                        "targetRef": {"kind": "Pod", "name": "testpod", "namespace": "default"}}]}]},
     {"endpointslice/default/testendpoints": (
         {ES + "address_type": "IPv4", ES + "name": "testendpoints", M + "namespace": "default"},
         [{"__address__": "4.3.2.1:9000", ES + "address_target_kind": "Pod",
           ES + "address_target_name": "testpod", ES + "endpoint_conditions_ready": "false",
           ES + "port": "9000", ES + "port_name": "testport", ES + "port_protocol": "TCP",
           **C1C2_POD_LABELS, **MAINPORT}, SIDEPORT_TARGET])}),
    ("TestPodDiscoveryInitContainer", "pod", {}, {"pods": [POD_INIT]},
     {"pod/default/testpod": (
         {M + "pod_name": "testpod", M + "namespace": "default", M + "pod_node_name": "testnode",
          M + "pod_ip": "1.2.3.4", M + "pod_host_ip": "2.3.4.5", M + "pod_ready": "false",
          M + "pod_phase": "Pending", M + "pod_uid": "abc123"},
         [{"__address__": "1.2.3.4:9000", M + "pod_container_name": "testcontainer",
           M + "pod_container_image": "testcontainer:latest", M + "pod_container_port_name": "testport",
           M + "pod_container_port_number": "9000", M + "pod_container_port_protocol": "TCP",
           M + "pod_container_init": "false", M + "pod_container_id": "docker://a1b2c3d4e5f6"},
          {"__address__": "1.2.3.4", M + "pod_container_name": "initcontainer",
           M + "pod_container_image": "initcontainer:latest", M + "pod_container_init": "true",
           M + "pod_container_id": "containerd://6f5e4d3c2b1a"}])}),
    ("TestIngressDiscoveryAdd/TLSNo", "ingress", {}, {"ingresses": [_ingress(None)]},
     _ingress_expected("http", "http")),
    ("TestIngressDiscoveryAdd/TLSYes", "ingress", {},
     {"ingresses": [_ingress(["example.com", "test.example.com"])]}, _ingress_expected("https", "https")),
    ("TestIngressDiscoveryAdd/TLSMixed", "ingress", {}, {"ingresses": [_ingress(["example.com"])]},
     _ingress_expected("https", "http")),
    ("TestIngressDiscoveryAdd/TLSWildcard", "ingress", {}, {"ingresses": [_ingress(["*.example.com"])]},
     _ingress_expected("http", "https")),
]


@pytest.mark.parametrize(("name", "role", "extra", "objects", "expected"), CASES, ids=[c[0] for c in CASES])
def test_prometheus_case(name: str, role: str, extra: dict[str, Any],
                         objects: dict[str, list[Any]], expected: dict[str, Any]) -> None:
    async def main() -> None:
        async with FakeKube() as kube:
            for resource, objs in objects.items():
                for o in objs:
                    kube.add(resource, o)
            [(_, d)] = build_discoverers("k", {"kubernetes_sd_configs": [
                {"role": role, "api_server": kube.url, **extra}]}, Path("/"))
            assert isinstance(d, KubernetesDiscoverer)
            async with Running(d) as out:
                await wait_for(lambda: set(out.groups) == set(expected))
                await asyncio.sleep(0.05)
            for source, (labels, targets) in expected.items():
                g = out.groups[source]
                assert g.labels == labels
                assert sorted(map(_j, g.targets)) == sorted(map(_j, targets))
    asyncio.run(main())


def _j(d: dict[str, str]) -> str:
    return json.dumps(d, sort_keys=True)
