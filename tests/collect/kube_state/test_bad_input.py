"""Objects with missing or mistyped fields never raise; what cannot be read is counted, not fatal."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubesight.collect.kube_state import KINDS
from kubesight.collect.kube_state import collector as collector_mod
from kubesight.collect.kube_state._rows import Kind, Options
from kubesight.collect.kube_state._values import Allowlist
from kubesight.discovery.fake_kube import FakeKube

from .harness import eventually, options, running, samples
from .objects import CLUSTER, RUNNING_POD

pytestmark = pytest.mark.timeout(120)

ALL = Options(Allowlist({"*": ["*"]}, KINDS), Allowlist({"*": ["*"]}, KINDS))

WEIRD: list[Any] = [
    {}, {"metadata": None}, {"metadata": "x"}, {"spec": [], "status": 3},
    {"metadata": {"name": 5, "namespace": None, "labels": {"a": None, "b": 3, "c.d/e": "f"},
                  "annotations": [], "creationTimestamp": "yesterday", "ownerReferences": "me"}},
    {"spec": {"containers": ["app", None, {"name": None, "resources": {"requests": {"cpu": "lots"}}}],
              "initContainers": {"a": 1}, "taints": [1, {"key": None}], "replicas": "3",
              "strategy": {"rollingUpdate": {"maxUnavailable": "x%", "maxSurge": True}},
              "metrics": [{"type": "Resource", "resource": None}, {"type": "Pods", "pods": {"target": []}}],
              "capacity": {"storage": []}, "accessModes": "RWO", "externalIPs": [None, 7],
              "scaleTargetRef": "deploy/web", "timeZone": 3, "claimRef": {"name": None}}},
    {"status": {"phase": 7, "conditions": [{"type": "Ready"}, "x", {"status": "True"}],
                "containerStatuses": [{"name": "a", "state": {"waiting": None, "running": "yes",
                                                              "terminated": {"finishedAt": 12}}},
                                      {"state": [], "lastState": {"terminated": {"exitCode": "1"}}}],
                "capacity": {"cpu": "1.5.5", "memory": None, "nvidia.com/gpu": "1e999999"},
                "allocatable": [], "addresses": [{"type": "InternalIP"}], "hard": {"cpu": {}},
                "used": "all", "active": 3, "currentMetrics": [{"type": "External", "external": {}}],
                "loadBalancer": {"ingress": [{}]}}},
    {"subsets": [{"ports": [{"port": "http"}], "addresses": [{}], "notReadyAddresses": None}, "x"]},
]


@pytest.mark.parametrize("resource", list(KINDS))
@pytest.mark.parametrize("obj", WEIRD, ids=range(len(WEIRD)))
def test_weird_objects_never_raise(resource: str, obj: Any) -> None:
    rows = KINDS[resource].build(obj, ALL)
    for fam in rows:
        assert fam in {s.name for s in KINDS[resource].families}
        for lbls, v in rows[fam]:
            assert isinstance(v, float)
            assert all(isinstance(k, str) and isinstance(x, str) and x for k, x in lbls), lbls


@pytest.mark.parametrize("resource", list(KINDS))
def test_every_field_removed_one_at_a_time(resource: str) -> None:
    """Each realistic object, with any single field (at any depth) deleted or nulled, still builds."""
    def paths(o: Any, pre: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        out = []
        if isinstance(o, dict):
            for k, v in o.items():
                out.append((*pre, k))
                out.extend(paths(v, (*pre, k)))
        elif isinstance(o, list):
            for i, v in enumerate(o):
                out.extend(paths(v, (*pre, i)))
        return out

    for obj in CLUSTER[resource]:
        for p in paths(obj):
            for mode in ("delete", "null", "string"):
                o = copy.deepcopy(obj)
                cur = o
                for k in p[:-1]:
                    cur = cur[k]
                if mode == "delete":
                    del cur[p[-1]]
                else:
                    cur[p[-1]] = None if mode == "null" else "?"
                KINDS[resource].build(o, ALL)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)
keys = st.sampled_from(["metadata", "spec", "status", "subsets", "containers", "containerStatuses",
                        "conditions", "state", "resources", "requests", "limits", "capacity", "name",
                        "labels", "ownerReferences", "phase", "type", "status", "metrics", "target"])
shaped = st.recursive(json_values, lambda inner: st.dictionaries(keys, inner, max_size=5), max_leaves=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obj=shaped, resource=st.sampled_from(list(KINDS)))
def test_fuzzed_objects_never_raise(obj: Any, resource: str) -> None:
    KINDS[resource].build(obj, ALL)


def test_an_unreadable_object_is_counted_and_the_rest_served(monkeypatch: pytest.MonkeyPatch) -> None:
    real = KINDS["pods"]

    def build(obj: Any, opts: Options) -> Any:
        if obj["metadata"]["name"] == "boom":
            raise RuntimeError("cannot happen, but if it does")
        return real.build(obj, opts)

    monkeypatch.setitem(collector_mod.KINDS, "pods", Kind("pods", real.families, build))

    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("pods", RUNNING_POD)
            bad = copy.deepcopy(RUNNING_POD)
            bad["metadata"]["name"] = "boom"
            kube.add("pods", bad)
            async with running(kube, options(resources=("pods",))) as c:
                pods = {dict(k)["pod"] for k in samples(c, "kube_pod_info")}
                assert pods == {"web-7d9f8b6c5-x2k4p"}
                errs = samples(c, "kubesight_kube_state_object_errors_total")
                assert errs == {(("resource", "pods"),): 1.0}
                # The object becomes readable again: its series come back.
                bad["metadata"]["name"] = "boom"
                fixed = copy.deepcopy(RUNNING_POD)
                fixed["metadata"]["name"] = "fine"
                kube.add("pods", fixed)
                await eventually(lambda: len(samples(c, "kube_pod_info")) == 2)
    asyncio.run(main())


def test_missing_times_read_as_go_zero_time() -> None:
    """Where Go's field is a plain time.Time, kube-state-metrics reports its zero value."""
    pod = {"metadata": {"name": "p", "namespace": "n", "uid": "u"},
           "status": {"conditions": [{"type": "Ready", "status": "True"}],
                      "containerStatuses": [{"name": "c", "state": {"running": {}}}]}}
    rows = KINDS["pods"].build(pod, ALL)
    assert [v for _, v in rows["kube_pod_status_ready_time"]] == [-62135596800.0]
    assert [v for _, v in rows["kube_pod_container_state_started"]] == [-62135596800.0]
    assert "kube_pod_created" not in rows and "kube_pod_start_time" not in rows  # pointers / IsZero checks


def test_informer_survives_objects_of_the_wrong_shape() -> None:
    """A list and a watch carrying items that are not objects, or have no usable metadata."""
    import json

    import httpx

    from kubesight.collect.kube_state import KubeStateCollector, KubeStateOptions
    from kubesight.discovery._kubeclient import RESOURCES, Informer

    good = copy.deepcopy(RUNNING_POD)
    lines = [{"type": "ADDED", "object": "nonsense"}, {"type": "MODIFIED", "object": {"metadata": 7}},
             {"type": "ADDED", "object": {**good, "metadata": {**good["metadata"], "name": "late",
                                                                 "resourceVersion": "12"}}}]

    watches = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("watch"):
            watches.append(request)
            if len(watches) > 1:
                await asyncio.sleep(0.2)  # later watches: nothing new
                return httpx.Response(200, text="")
            body = "".join(json.dumps(x) + "\n" for x in lines)
            return httpx.Response(200, text=body)
        return httpx.Response(200, json={"metadata": {"resourceVersion": "10"},
                                         "items": [None, "x", {"metadata": "x"}, good]})

    async def main() -> None:
        collector = KubeStateCollector.__new__(KubeStateCollector)
        KubeStateCollector.__init__(collector, access=None, options=KubeStateOptions(resources=("pods",)))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://kube") as client:
            inf = Informer(client, "http://kube", RESOURCES["pods"], transform=collector._transform(KINDS["pods"]),
                           backoff_start=0.01, backoff_max=0.02)
            collector.informers["pods"] = [inf]
            task = asyncio.create_task(inf.run())
            await eventually(lambda: "shop/late" in inf.store)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            pods = {dict(k).get("pod") for k in samples(collector, "kube_pod_info")}
            assert {"web-7d9f8b6c5-x2k4p", "late"} <= pods
            assert inf.resource_version == "12"
    asyncio.run(main())
