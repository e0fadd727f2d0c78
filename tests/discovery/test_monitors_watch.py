"""MonitorWatcher against the fake API server, and monitors all the way to scrape targets."""

from __future__ import annotations

import asyncio
import base64
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from sd_helpers import Running, wait_for  # type: ignore[import-not-found]

from kubesight.discovery.config import build_discoverers
from kubesight.discovery.fake_kube import FakeKube
from kubesight.discovery.kubernetes import KubernetesDiscoverer
from kubesight.discovery.monitors_watch import MonitorWatcher, _read_secret
from kubesight.scrape.config import GlobalConfig, parse_scrape_config
from kubesight.scrape.target import populate

pytestmark = pytest.mark.timeout(60)
Obj = dict[str, Any]


def sm(name: str, ns: str = "default", ports: tuple[str, ...] = ("web",), **spec: Any) -> Obj:
    return {"metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "endpoints": [{"port": p} for p in ports], **spec}}


def pm(name: str, ns: str = "default") -> Obj:
    return {"metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "podMetricsEndpoints": [{"port": "web"}]}}


class Sent:
    def __init__(self) -> None:
        self.sends: list[list[Obj]] = []

    def __call__(self, jobs: list[Obj]) -> None:
        self.sends.append(jobs)

    def names(self) -> list[str] | None:
        return [j["job_name"] for j in self.sends[-1]] if self.sends else None


class Watching:
    def __init__(self, w: MonitorWatcher) -> None:
        self.w, self.sent = w, Sent()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Sent:
        self.task = asyncio.create_task(self.w.run(self.sent))
        return self.sent

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        if self.task.done():
            raise AssertionError("run() returned or raised") from self.task.exception()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def watcher(kube: FakeKube, **kw: Any) -> MonitorWatcher:
    return MonitorWatcher(api_server=kube.url, **{"debounce": 0.05, "backoff_start": 0.02, **kw})


def test_sends_full_job_list_on_add_update_delete() -> None:
    async def main() -> None:
        async with FakeKube() as kube, Watching(watcher(kube, debounce=0.2)) as sent:
            await wait_for(lambda: sent.names() == [], what="first, empty send")
            kube.add("servicemonitors", sm("a"))
            await wait_for(lambda: sent.names() == ["serviceMonitor/default/a/0"])
            job = sent.sends[-1][0]
            assert job["kubernetes_sd_configs"][0]["api_server"] == kube.url
            kube.update("servicemonitors", sm("a", ports=("web", "admin")))
            await wait_for(lambda: sent.names() == ["serviceMonitor/default/a/0",
                                                    "serviceMonitor/default/a/1"])
            kube.add("podmonitors", pm("p", ns="other"))
            await wait_for(lambda: sent.names() == ["serviceMonitor/default/a/0",
                                                    "serviceMonitor/default/a/1", "podMonitor/other/p/0"])
            kube.delete("servicemonitors", "default", "a")
            await wait_for(lambda: sent.names() == ["podMonitor/other/p/0"])
            # A burst of changes is one send, and nothing is sent when nothing changed.
            before = len(sent.sends)
            for n in ("x", "y", "z"):
                kube.add("servicemonitors", sm(n))
            await wait_for(lambda: len(sent.sends) > before)
            await asyncio.sleep(0.3)
            assert len(sent.sends) == before + 1
            kube.update("servicemonitors", sm("x"))  # same spec: same jobs
            await asyncio.sleep(0.3)
            assert len(sent.sends) == before + 1
            # The watch survives a dropped connection and a 410 relist.
            kube.drop_watches()
            kube.delete("servicemonitors", "default", "y")
            await wait_for(lambda: "serviceMonitor/default/y/0" not in (sent.names() or []))
            kube.expire()
            kube.delete("servicemonitors", "default", "z")
            await wait_for(lambda: sent.names() == ["serviceMonitor/default/x/0", "podMonitor/other/p/0"])
    asyncio.run(main())


def test_namespaces_secrets_and_failing_receiver(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def flaky(jobs: list[Obj]) -> None:
        calls.append(len(jobs))
        if len(calls) == 1:
            raise RuntimeError("reload refused")

    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("servicemonitors", sm("elsewhere", ns="other"))
            kube.add("servicemonitors", sm("a", ns="mon"))
            # The fake server has no Secrets: the monitor is rejected, as the Operator would.
            kube.add("servicemonitors", sm("auth", ns="mon", endpoints=[
                {"port": "web", "basicAuth": {"username": {"name": "c", "key": "u"},
                                              "password": {"name": "c", "key": "p"}}}]))
            w = watcher(kube, namespaces=["mon"])
            task = asyncio.create_task(w.run(flaky))
            try:
                await wait_for(lambda: len(calls) >= 1)
                kube.add("podmonitors", pm("p", ns="mon"))
                await wait_for(lambda: len(calls) >= 2)
                assert calls == [1, 2] and not task.done()
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            assert all(r.path.startswith(("/apis/monitoring.coreos.com/v1/namespaces/mon/",
                                          "/api/v1/namespaces/mon/secrets/c")) for r in kube.requests)
    with caplog.at_level(logging.WARNING, "kubesight.discovery.monitors"):
        asyncio.run(main())
    assert "cannot read secret mon/c: HTTP 404" in caplog.text
    assert "serviceMonitor mon/auth rejected" in caplog.text
    assert "applying 1 generated jobs failed: reload refused" in caplog.text


def test_unreachable_api_server_never_raises() -> None:
    async def main() -> None:
        w = MonitorWatcher(api_server="http://127.0.0.1:9", backoff_start=0.02, sync_wait=0.2)
        sent = Sent()
        task = asyncio.create_task(w.run(sent))
        await wait_for(lambda: sent.names() == [], what="empty send after sync_wait")
        assert not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    asyncio.run(main())


def test_read_secret_decodes_and_survives_errors() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path == "/api/v1/namespaces/mon/secrets/ok":
            return httpx.Response(200, json={"data": {"user": base64.b64encode(b"admin").decode()}})
        if req.url.path == "/api/v1/namespaces/mon/secrets/garbled":
            return httpx.Response(200, json={"data": {"user": "%%%"}})
        return httpx.Response(403, json={"message": "forbidden"})

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
            assert await _read_secret(c, "http://k", "mon", "ok") == {"user": "admin"}
            assert await _read_secret(c, "http://k", "mon", "garbled") is None
            assert await _read_secret(c, "http://k", "mon", "denied") is None
    asyncio.run(main())


def test_both_settings_refused() -> None:
    with pytest.raises(ValueError, match="simultaneously"):
        MonitorWatcher(api_server="http://x", kubeconfig_file="/k")


SERVICE = {"metadata": {"name": "web-svc", "namespace": "default", "labels": {"app": "web"}},
           "spec": {"ports": [{"name": "web", "port": 80, "targetPort": 8080}]}}
OTHER_SERVICE = {"metadata": {"name": "db", "namespace": "default", "labels": {"app": "db"}},
                 "spec": {"ports": [{"name": "web", "port": 80}]}}
POD = {"metadata": {"name": "web-0", "namespace": "default", "labels": {"app": "web"}},
       "spec": {"nodeName": "n1", "containers": [
           {"name": "app", "ports": [{"name": "web", "containerPort": 8080, "protocol": "TCP"}]}]},
       "status": {"podIP": "127.0.0.1", "phase": "Running"}}


def endpoints(name: str, pod: str | None) -> Obj:
    addr: Obj = {"ip": "127.0.0.1"}
    if pod:
        addr["targetRef"] = {"kind": "Pod", "name": pod, "namespace": "default"}
    return {"metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
            "subsets": [{"addresses": [addr], "ports": [{"name": "web", "port": 8080, "protocol": "TCP"}]}]}


def test_end_to_end_monitors_to_targets_with_operator_labels() -> None:
    async def targets_of(job: Obj) -> list[dict[str, str]]:
        cfg = parse_scrape_config(job, GlobalConfig(), Path("/"))
        [(_, d)] = build_discoverers(cfg.job_name, job, Path("/"))
        assert isinstance(d, KubernetesDiscoverer)
        async with Running(d) as out:
            await wait_for(lambda: len(out.groups) >= 2, what=f"groups of {cfg.job_name}")
            found = []
            for g in out.groups.values():
                kept, _ = populate(cfg, g)
                found += [dict(t.labels) for t in kept]
            return found

    async def main() -> None:
        async with FakeKube() as kube:
            kube.add("services", SERVICE)
            kube.add("services", OTHER_SERVICE)
            kube.add("endpoints", endpoints("web-svc", "web-0"))
            kube.add("endpoints", endpoints("db", None))
            kube.add("pods", POD)
            kube.add("pods", {**POD, "metadata": {"name": "db-0", "namespace": "default",
                                                  "labels": {"app": "db"}}})
            kube.add("servicemonitors", sm("web", interval="30s"))
            kube.add("podmonitors", pm("web-pods"))
            async with Watching(watcher(kube)) as sent:
                await wait_for(lambda: sent.names() == ["serviceMonitor/default/web/0",
                                                        "podMonitor/default/web-pods/0"])
                sm_job, pm_job = sent.sends[-1]
                assert await targets_of(sm_job) == [
                    {"container": "app", "endpoint": "web", "instance": "127.0.0.1:8080", "job": "web-svc",
                     "namespace": "default", "pod": "web-0", "service": "web-svc"}]
                assert await targets_of(pm_job) == [
                    {"container": "app", "endpoint": "web", "instance": "127.0.0.1:8080",
                     "job": "default/web-pods", "namespace": "default", "pod": "web-0"}]
    asyncio.run(main())
