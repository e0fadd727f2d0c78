"""Keep the jobs of every ServiceMonitor and PodMonitor current: list + watch, translate, send.

:class:`MonitorWatcher` lists and watches ``servicemonitors`` and
``podmonitors`` (``monitoring.coreos.com/v1``) cluster-wide or in the given
namespaces, reads the Secrets their endpoints refer to, and calls ``send``
with the *full* job list from :func:`monitors.jobs_from_monitors` whenever it
differs from the last one sent. The caller applies ``static_jobs + jobs``.
Like every discoverer, it never raises out of ``run()`` except on cancellation.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from kubesight.discovery._httpconfig import HTTPClientConfig
from kubesight.discovery._kubeclient import (
    Informer,
    KubeAccess,
    Resource,
    in_cluster_access,
    kubeconfig_access,
)
from kubesight.discovery.monitors import Job, Validate, jobs_from_monitors, secret_names

log = logging.getLogger("kubesight.discovery.monitors")

SERVICE_MONITORS = Resource("servicemonitors", "/apis/monitoring.coreos.com/v1")
POD_MONITORS = Resource("podmonitors", "/apis/monitoring.coreos.com/v1")
SendJobs = Callable[[list[Job]], None]

# 1s: a kubectl apply of many monitors arrives as a burst of watch events; one
# rebuild (and one reload of the scrape manager) for the burst, not one each.
DEBOUNCE_SECONDS = 1.0
# 5m: Secrets are read, not watched (watching every Secret in the cluster would
# need broad RBAC); a rotated password is picked up within this time.
RESYNC_SECONDS = 300.0
# 30s: a collection that cannot be listed (say the PodMonitor CRD is not
# installed) must not hold back the jobs of the other one forever.
SYNC_WAIT_SECONDS = 30.0
# How long to wait before trying again when the API server cannot even be located.
_ACCESS_RETRY_SECONDS = 60.0


class MonitorWatcher:
    """Jobs from ServiceMonitor/PodMonitor objects, sent whenever they change.

    Reach the API server as ``kubernetes_sd_configs`` does: ``api_server`` (a
    URL, no authentication), ``kubeconfig_file``, or neither for the pod's
    service account. The generated jobs' discovery uses the same setting.
    ``namespaces``: where to read monitors (empty: all namespaces); which
    namespaces each job's targets come from is the monitor's own
    ``namespaceSelector``. ``validate`` is called with each generated job
    (e.g. the scrape config parser); a monitor with a refused job is dropped
    whole and the reason logged.
    """

    def __init__(
        self,
        api_server: str | None = None,
        kubeconfig_file: str | Path | None = None,
        namespaces: Sequence[str] = (),
        *,
        validate: Validate | None = None,
        debounce: float = DEBOUNCE_SECONDS,
        resync: float = RESYNC_SECONDS,
        sync_wait: float = SYNC_WAIT_SECONDS,
        backoff_start: float = 0.5,
        access_factory: Callable[[], KubeAccess] = in_cluster_access,
    ) -> None:
        if api_server and kubeconfig_file:
            raise ValueError("cannot use 'kubeconfig_file' and 'api_server' simultaneously")
        self.api_server = api_server.rstrip("/") if api_server else None
        self.kubeconfig_file = Path(kubeconfig_file) if kubeconfig_file else None
        self.namespaces = list(dict.fromkeys(namespaces)) or [""]
        self.validate = validate
        self.debounce, self.resync, self.sync_wait = debounce, resync, sync_wait
        self.backoff_start = backoff_start
        self.access_factory = access_factory
        self._wake = asyncio.Event()

    @property
    def sd_api(self) -> dict[str, str]:
        """What each generated ``kubernetes_sd_config`` gets to reach the API server."""
        if self.api_server:
            return {"api_server": self.api_server}
        if self.kubeconfig_file:
            return {"kubeconfig_file": str(self.kubeconfig_file)}
        return {}

    def _access(self) -> KubeAccess:
        if self.api_server:
            return KubeAccess(self.api_server, HTTPClientConfig())
        if self.kubeconfig_file:
            return kubeconfig_access(self.kubeconfig_file)
        return self.access_factory()

    async def run(self, send: SendJobs) -> None:
        while True:
            try:
                access = self._access()
                break
            except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
                log.error("monitors: cannot reach the API server: %s", exc)
                await asyncio.sleep(_ACCESS_RETRY_SECONDS)
        async with access.client() as client:
            await self._run(client, access.base_url, send)

    def _informers(self, client: httpx.AsyncClient, base_url: str) -> dict[str, list[Informer]]:
        def changed(key: str, old: Any, new: Any) -> None:
            self._wake.set()
        return {res.name: [Informer(client, base_url, res, ns, on_change=changed,
                                    backoff_start=self.backoff_start) for ns in self.namespaces]
                for res in (SERVICE_MONITORS, POD_MONITORS)}

    async def _run(self, client: httpx.AsyncClient, base_url: str, send: SendJobs) -> None:
        informers = self._informers(client, base_url)
        everyone = [inf for infs in informers.values() for inf in infs]
        tasks = [asyncio.create_task(inf.run()) for inf in everyone]
        try:
            waits = asyncio.gather(*(inf.synced.wait() for inf in everyone))
            try:
                await asyncio.wait_for(waits, self.sync_wait)
            except TimeoutError:
                missing = sorted({inf.url for inf in everyone if not inf.synced.is_set()})
                log.warning("monitors: not listed yet, going on without them: %s", ", ".join(missing))
            last: list[Job] | None = None
            while True:
                self._wake.clear()
                jobs = await self._jobs(client, base_url, informers)
                if jobs != last:
                    try:
                        send(jobs)
                        last = jobs
                    except Exception as exc:  # the receiver's trouble must not end the watch
                        log.error("monitors: applying %d generated jobs failed: %s", len(jobs), exc)
                try:
                    await asyncio.wait_for(self._wake.wait(), self.resync)
                except TimeoutError:
                    continue
                await asyncio.sleep(self.debounce)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _jobs(self, client: httpx.AsyncClient, base_url: str,
                    informers: dict[str, list[Informer]]) -> list[Job]:
        def objects(res: str) -> list[dict[str, Any]]:
            return [o for inf in informers[res] for o in inf.store.values()]
        sms, pms = objects("servicemonitors"), objects("podmonitors")
        secrets: dict[str, dict[str, str]] = {}
        for ns, name in sorted(secret_names(sms + pms)):
            data = await _read_secret(client, base_url, ns, name)
            if data is not None:
                secrets[f"{ns}/{name}"] = data
        return jobs_from_monitors(sms, pms, api=self.sd_api, secrets=secrets, validate=self.validate)


async def _read_secret(client: httpx.AsyncClient, base_url: str, ns: str,
                       name: str) -> dict[str, str] | None:
    """A Secret's data, decoded; None (and a log line) if it cannot be read."""
    try:
        resp = await client.get(f"{base_url}/api/v1/namespaces/{ns}/secrets/{name}")
        if resp.status_code != 200:
            log.warning("monitors: cannot read secret %s/%s: HTTP %d", ns, name, resp.status_code)
            return None
        data = json.loads(resp.content).get("data") or {}
        return {str(k): base64.b64decode(v, validate=True).decode("utf-8", "replace") for k, v in data.items()}
    except (httpx.HTTPError, ValueError, binascii.Error, AttributeError, TypeError) as exc:
        log.warning("monitors: cannot read secret %s/%s: %s", ns, name, exc)
        return None
