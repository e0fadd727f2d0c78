"""Family by family, the collector serves what kube-state-metrics documents for the same objects.

The objects (objects.py) go through a real list + watch against FakeKube; the
expected text (expected/<resource>.prom) was written by hand from
kube-state-metrics v2.20's docs/metrics/*.md. Both sides are read with the
exposition parser, so an empty label equals an absent one, as in Prometheus.
"""

from __future__ import annotations

import asyncio

import pytest

from kubesight.collect.kube_state import KINDS
from kubesight.discovery.fake_kube import FakeKube

from .harness import EXPECTED, Parsed, families_dict, load_cluster, options, read_families, running

pytestmark = pytest.mark.timeout(60)

# Documented families the collector does not produce yet (each is in expected/).
NOT_IMPLEMENTED: set[str] = set()


def _collect_all() -> tuple[Parsed, dict[str, str]]:
    async def main() -> tuple[Parsed, dict[str, str]]:
        async with FakeKube() as kube:
            load_cluster(kube)
            rv = {"$RV": str(kube.get("cronjobs", "shop", "report")["metadata"]["resourceVersion"])}  # type: ignore[index]
            async with running(kube) as c:
                return families_dict(c.collect()), rv
    return asyncio.run(main())


@pytest.fixture(scope="module")
def served() -> tuple[Parsed, dict[str, str]]:
    return _collect_all()


@pytest.mark.parametrize("resource", list(KINDS))
def test_resource_matches_kube_state_metrics(resource: str, served: tuple[Parsed, dict[str, str]]) -> None:
    got, subst = served
    text = (EXPECTED / f"{resource}.prom").read_text()
    for placeholder, value in subst.items():
        text = text.replace(placeholder, value)
    want = read_families(text.encode())
    ours = {s.name for s in KINDS[resource].families}
    for name, (typ, help_, want_samples) in want.items():
        if name in NOT_IMPLEMENTED:
            continue
        assert name in ours, f"{name} is documented but not declared by the collector"
        g_typ, g_help, g_samples = got[name]
        assert (g_typ, g_help) == (typ, help_), name
        missing = set(want_samples) - set(g_samples)
        extra = set(g_samples) - set(want_samples)
        assert not missing and not extra, f"{name}: missing {sorted(missing)}; unexpected {sorted(extra)}"
        for lbls, v in want_samples.items():
            assert g_samples[lbls] == pytest.approx(v, rel=1e-12), f"{name}{dict(lbls)}"
    # Every family of the resource that has samples is in the expected text.
    for name in ours:
        if got.get(name, ("", "", {}))[2]:
            assert name in want, f"{name} has samples the expected output does not list"


def test_every_family_has_type_and_help(served: tuple[Parsed, dict[str, str]]) -> None:
    got, _ = served
    for kind in KINDS.values():
        for spec in kind.families:
            assert got[spec.name][0] in ("gauge", "counter"), spec.name
            assert got[spec.name][1], spec.name


def test_labels_families_need_an_allowlist() -> None:
    """Without allowlists (kube-state-metrics v2.10+), no kube_*_labels / _annotations series."""
    async def main() -> Parsed:
        async with FakeKube() as kube:
            load_cluster(kube)
            async with running(kube, options(labels_allowlist={}, annotations_allowlist={})) as c:
                return families_dict(c.collect())
    got = asyncio.run(main())
    for name, (_, _, s) in got.items():
        if name.endswith(("_labels", "_annotations")):
            assert not s, name
    assert got["kube_pod_info"][2], "other families are unaffected"


def test_all_resources_wildcard_allowlist() -> None:
    async def main() -> Parsed:
        async with FakeKube() as kube:
            load_cluster(kube)
            async with running(kube, options(labels_allowlist={"*": ["*"]}, annotations_allowlist={})) as c:
                return families_dict(c.collect())
    got = asyncio.run(main())
    svc = got["kube_service_labels"][2]
    assert {dict(k)["service"]: dict(k).get("label_app") for k in svc} == {"web": "web", "web-public": None}
    ns = got["kube_namespace_labels"][2]
    assert (("label_kubernetes_io_metadata_name", "shop"), ("namespace", "shop")) in ns
    pod = next(k for k in got["kube_pod_labels"][2] if dict(k)["pod"] == "report-28591200-7xk2q")
    assert dict(pod)["label_batch_kubernetes_io_job_name"] == "report-28591200"
    assert dict(pod)["label_job_name"] == "report-28591200"


def test_to_batch_for_the_store() -> None:
    """What `kubesight server` appends: every sample, with job/instance, and the families' metadata."""
    from kubesight.collect.family import to_batch

    async def main() -> None:
        async with FakeKube() as kube:
            load_cluster(kube)
            async with running(kube) as c:
                fams = c.collect()
                batch = to_batch(fams, 1_700_000_000_000, extra=(("instance", "kubesight"),
                                                                ("job", "kube-state-metrics")))
                assert len(batch) == sum(len(f.samples) for f in fams)
                info = [dict(s) for s in batch.series if dict(s)["__name__"] == "kube_pod_info"]
                assert len(info) == 4 and all(d["job"] == "kube-state-metrics" for d in info)
                assert all(list(s) == sorted(s) for s in batch.series)
                meta = {m.metric_family: m for m in batch.metadata}
                assert meta["kube_pod_container_status_restarts_total"].type == "counter"
                assert meta["kube_pod_info"].help == "[STABLE] Information about pod."
    asyncio.run(main())
