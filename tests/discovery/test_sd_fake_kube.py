"""The fake API server's own contract (others reuse it), and in-cluster access."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from kubesight.discovery._kubeclient import in_cluster_access, own_namespace
from kubesight.discovery.fake_kube import FakeKube

pytestmark = pytest.mark.timeout(30)


def test_monitor_crds_list_get_watch_and_410() -> None:
    async def main() -> None:
        async with FakeKube() as kube, httpx.AsyncClient(base_url=kube.url, trust_env=False) as c:
            kube.add("servicemonitors", {"metadata": {"name": "sm", "namespace": "mon", "labels": {"team": "a"}},
                                         "spec": {"endpoints": [{"port": "web"}]}})
            kube.add("podmonitors", {"metadata": {"name": "pm", "namespace": "mon"}})
            kube.add("prometheusrules", {"metadata": {"name": "r", "namespace": "other"}})
            base = "/apis/monitoring.coreos.com/v1"
            r = (await c.get(f"{base}/servicemonitors", params={"labelSelector": "team in (a,b)"})).json()
            assert r["kind"] == "ServiceMonitorList" and [i["metadata"]["name"] for i in r["items"]] == ["sm"]
            assert (await c.get(f"{base}/namespaces/mon/prometheusrules")).json()["items"] == []
            assert (await c.get(f"{base}/namespaces/mon/podmonitors/pm")).json()["kind"] == "PodMonitor"
            assert (await c.get(f"{base}/namespaces/mon/podmonitors/nope")).status_code == 404
            rv = r["metadata"]["resourceVersion"]
            async with c.stream("GET", f"{base}/servicemonitors",
                                params={"watch": "1", "resourceVersion": rv}) as resp:
                lines = resp.aiter_lines()
                kube.add("servicemonitors", {"metadata": {"name": "sm2", "namespace": "mon"}})
                ev = json.loads(await asyncio.wait_for(anext(lines), 5))
                assert ev["type"] == "ADDED" and ev["object"]["metadata"]["name"] == "sm2"
                kube.expire()
                ev = json.loads(await asyncio.wait_for(anext(lines), 5))
                assert ev["type"] == "ERROR" and ev["object"]["code"] == 410
            r2 = await c.get(f"{base}/servicemonitors", params={"watch": "1", "resourceVersion": rv})
            assert r2.status_code == 410
    asyncio.run(main())


def test_in_cluster_access(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("tok\n")
    (tmp_path / "namespace").write_text("monitoring")
    a = in_cluster_access(tmp_path, {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"})
    assert a.base_url == "https://10.96.0.1:443"
    assert a.http.auth_type == "Bearer" and a.http.credentials_file == tmp_path / "token"
    assert own_namespace(tmp_path) == "monitoring"
    with pytest.raises(RuntimeError, match="KUBERNETES_SERVICE_HOST"):
        in_cluster_access(tmp_path, {})
