"""A small Kubernetes API client: how to reach the API server, and list + watch.

No client library: discovery needs four verbs of one protocol. An
:class:`Informer` lists a collection, then watches it from the list's
``resourceVersion`` with bookmarks, resumes a dropped watch from the last
version it saw, and relists from scratch when the server answers 410 Gone
(the version was compacted away). Every failure is logged and retried with
capped exponential backoff; nothing raises out of :meth:`Informer.run`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from kubesight.discovery._httpconfig import HTTPClientConfig

log = logging.getLogger("kubesight.discovery.kubernetes")

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")

Obj = dict[str, Any]
OnChange = Callable[[str, Obj | None, Obj | None], None]
# Shrinks an object before it is stored (client-go's SetTransform): a cache of
# 10,000 pods holds what its reader needs, not 10,000 full pod documents.
Transform = Callable[[Obj], Obj]
OnError = Callable[[str, Exception], None]


@dataclass(frozen=True)
class Resource:
    name: str
    prefix: str
    namespaced: bool = True

    def path(self, namespace: str = "") -> str:
        if self.namespaced and namespace:
            return f"{self.prefix}/namespaces/{namespace}/{self.name}"
        return f"{self.prefix}/{self.name}"


RESOURCES = {
    "nodes": Resource("nodes", "/api/v1", namespaced=False),
    "pods": Resource("pods", "/api/v1"),
    "services": Resource("services", "/api/v1"),
    "endpoints": Resource("endpoints", "/api/v1"),
    "endpointslices": Resource("endpointslices", "/apis/discovery.k8s.io/v1"),
    "ingresses": Resource("ingresses", "/apis/networking.k8s.io/v1"),
    "namespaces": Resource("namespaces", "/api/v1", namespaced=False),
    "persistentvolumes": Resource("persistentvolumes", "/api/v1", namespaced=False),
    "persistentvolumeclaims": Resource("persistentvolumeclaims", "/api/v1"),
    "resourcequotas": Resource("resourcequotas", "/api/v1"),
    "deployments": Resource("deployments", "/apis/apps/v1"),
    "replicasets": Resource("replicasets", "/apis/apps/v1"),
    "statefulsets": Resource("statefulsets", "/apis/apps/v1"),
    "daemonsets": Resource("daemonsets", "/apis/apps/v1"),
    "jobs": Resource("jobs", "/apis/batch/v1"),
    "cronjobs": Resource("cronjobs", "/apis/batch/v1"),
    "horizontalpodautoscalers": Resource("horizontalpodautoscalers", "/apis/autoscaling/v2"),
    "poddisruptionbudgets": Resource("poddisruptionbudgets", "/apis/policy/v1"),
}


@dataclass(frozen=True)
class KubeAccess:
    """Where the API server is and how to authenticate to it."""

    base_url: str
    http: HTTPClientConfig

    def client(self) -> httpx.AsyncClient:
        # 30s for connect/list; watches set their own longer read timeout.
        return self.http.client(timeout=30.0, headers={"User-Agent": "kubesight",
                                                       "Accept": "application/json"})


def in_cluster_access(sa_dir: Path = SERVICE_ACCOUNT_DIR,
                      env: dict[str, str] | None = None) -> KubeAccess:
    """The API server a pod reaches through its service account, as client-go's InClusterConfig."""
    env = dict(os.environ) if env is None else env
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        raise RuntimeError("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST "
                           "and KUBERNETES_SERVICE_PORT must be defined")
    token = sa_dir / "token"
    if not token.exists():
        raise RuntimeError(f"unable to load in-cluster configuration: {token} does not exist")
    if ":" in host:
        host = f"[{host}]"
    ca = sa_dir / "ca.crt"
    return KubeAccess(f"https://{host}:{port}", HTTPClientConfig(
        auth_type="Bearer", credentials_file=token, ca_file=ca if ca.exists() else None))


def own_namespace(sa_dir: Path = SERVICE_ACCOUNT_DIR) -> str:
    try:
        return (sa_dir / "namespace").read_text().strip()
    except OSError:
        return ""


def kubeconfig_access(path: Path) -> KubeAccess:
    """The current context of a kubeconfig file (cluster server, CA, token or client cert)."""
    doc = yaml.safe_load(path.read_text()) or {}
    base = path.parent

    def named(kind: str, name: str) -> dict[str, Any]:
        for entry in doc.get(kind + "s") or []:
            if entry.get("name") == name:
                return dict(entry.get(kind) or {})
        raise ValueError(f"kubeconfig {path}: {kind} {name!r} not found")

    current = doc.get("current-context")
    if not current:
        raise ValueError(f"kubeconfig {path}: no current-context")
    context = named("context", current)
    cluster = named("cluster", context.get("cluster", ""))
    user = named("user", context["user"]) if context.get("user") else {}
    server = cluster.get("server")
    if not server:
        raise ValueError(f"kubeconfig {path}: cluster has no server")

    def file_of(key: str, data_key: str, src: dict[str, Any]) -> Path | None:
        if src.get(data_key):
            # ssl wants client certificates in files; keep them private to this process.
            fd, name = tempfile.mkstemp(prefix="kubesight-kubeconfig-")
            with os.fdopen(fd, "wb") as f:
                f.write(base64.b64decode(src[data_key]))
            return Path(name)
        if src.get(key):
            p = Path(src[key])
            return p if p.is_absolute() else base / p
        return None

    kw: dict[str, Any] = {
        "ca_file": file_of("certificate-authority", "certificate-authority-data", cluster),
        "insecure_skip_verify": bool(cluster.get("insecure-skip-tls-verify", False)),
        "cert_file": file_of("client-certificate", "client-certificate-data", user),
        "key_file": file_of("client-key", "client-key-data", user),
    }
    if user.get("token"):
        kw.update(auth_type="Bearer", credentials=user["token"])
    elif user.get("tokenFile"):
        kw.update(auth_type="Bearer", credentials_file=Path(user["tokenFile"]))
    elif user.get("username"):
        kw.update(username=user["username"], password=user.get("password", ""))
    return KubeAccess(server.rstrip("/"), HTTPClientConfig(**kw))


class _GoneError(Exception):
    """The watched resourceVersion is too old: relist."""


def object_key(obj: Obj) -> str:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        meta = {}  # an object of an unexpected shape gets the key "", never an exception
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name', '')}" if ns else str(meta.get("name", ""))


# Backoff between failed lists/watches: client-go starts near 1s and caps at 30s.
BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
# client-go's reflector pages lists by 500 objects.
PAGE_SIZE = 500


class Informer:
    """A local copy of one collection, kept current by list + watch."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        resource: Resource,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
        on_change: OnChange | None = None,
        backoff_start: float = BACKOFF_START,
        backoff_max: float = BACKOFF_MAX,
        page_size: int = PAGE_SIZE,
        transform: Transform | None = None,
        on_error: OnError | None = None,
        log_name: str = "kubernetes_sd",
    ) -> None:
        """``transform`` maps each object to what :attr:`store` keeps (and ``on_change``
        receives); ``on_error(verb, exc)`` hears of every failed list or watch."""
        self.page_size = page_size
        self.transform = transform
        self.on_error = on_error
        self.log_name = log_name
        self.client = client
        self.url = base_url + resource.path(namespace)
        self.resource = resource
        self.selectors = {k: v for k, v in (("labelSelector", label_selector),
                                            ("fieldSelector", field_selector)) if v}
        self.on_change = on_change or (lambda key, old, new: None)
        self.store: dict[str, Obj] = {}
        self.synced = asyncio.Event()
        self.resource_version: str | None = None
        self.backoff_start = backoff_start
        self.backoff_max = backoff_max

    async def run(self) -> None:
        backoff = self.backoff_start
        while True:
            try:
                if self.resource_version is None:
                    await self._list()
                    self.synced.set()
                if await self._watch():
                    backoff = self.backoff_start
                continue
            except _GoneError:
                log.info("%s: %s: resourceVersion %s is gone (410), relisting",
                         self.log_name, self.url, self.resource_version)
                if self.resource_version is None:
                    # A list that keeps expiring mid-way must not spin.
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.backoff_max)
                self.resource_version = None
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure is retried, never raised out of run()
                if self.on_error is not None:
                    self.on_error("list" if self.resource_version is None else "watch", exc)
                log.warning("%s: %s: %s failed, retrying in %.1fs: %s",
                            self.log_name, self.url, "list" if self.resource_version is None else "watch",
                            backoff, exc or type(exc).__name__)
            await asyncio.sleep(backoff * (0.5 + random.random() / 2))
            backoff = min(backoff * 2, self.backoff_max)

    async def _list(self) -> None:
        new: dict[str, Obj] = {}
        token = ""
        while True:
            # Pages keep each response (and the API server's work per request)
            # bounded in large clusters, as client-go's reflector does.
            params = dict(self.selectors, limit=str(self.page_size))
            if token:
                params["continue"] = token
            resp = await self.client.get(self.url, params=params)
            if resp.status_code == 410:
                raise _GoneError()  # the continue token expired: start the list again
            if resp.status_code != 200:
                raise RuntimeError(f"list: HTTP {resp.status_code}: {_status_message(resp.content)}")
            body = json.loads(resp.content)
            tf = self.transform
            new.update((object_key(o), tf(o) if tf else o) for o in body.get("items") or []
                       if isinstance(o, dict))
            meta = body.get("metadata") or {}
            token = str(meta.get("continue") or "")
            if not token:
                break
        old = self.store
        self.store = new
        self.resource_version = str(meta.get("resourceVersion", ""))
        for key in old.keys() - new.keys():
            self.on_change(key, old[key], None)
        for key, obj in new.items():
            self.on_change(key, old.get(key), obj)

    async def _watch(self) -> bool:
        """Follow the watch until the server ends it; True if any event arrived."""
        # client-go picks a random 5-10 minute server-side timeout so that many
        # watches do not all restart at once.
        seconds = random.randint(300, 600)
        params = dict(self.selectors, watch="1", resourceVersion=self.resource_version or "",
                      allowWatchBookmarks="true", timeoutSeconds=str(seconds))
        got = False
        timeout = httpx.Timeout(30.0, read=seconds + 30.0)
        async with self.client.stream("GET", self.url, params=params, timeout=timeout) as resp:
            if resp.status_code == 410:
                raise _GoneError()
            if resp.status_code != 200:
                body = await resp.aread()
                raise RuntimeError(f"watch: HTTP {resp.status_code}: {_status_message(body)}")
            async for line in resp.aiter_lines():
                if not line.strip():
                    continue
                self._event(json.loads(line))
                got = True
        return got

    def _event(self, event: Obj) -> None:
        if not isinstance(event, dict):
            raise RuntimeError(f"watch: not an event: {str(event)[:200]}")
        kind = event.get("type")
        obj = event.get("object")
        if not isinstance(obj, dict):
            obj = {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _GoneError()
            raise RuntimeError(f"watch error: {obj.get('message') or obj}")
        meta = obj.get("metadata")
        rv = meta.get("resourceVersion") if isinstance(meta, dict) else None
        if kind == "BOOKMARK":
            if rv:
                self.resource_version = str(rv)
            return
        key = object_key(obj)
        old = self.store.get(key)
        if kind in ("ADDED", "MODIFIED"):
            new = self.transform(obj) if self.transform else obj
            self.store[key] = new
            self.on_change(key, old, new)
        elif kind == "DELETED":
            self.store.pop(key, None)
            if old is None:
                old = self.transform(obj) if self.transform else obj
            self.on_change(key, old, None)
        if rv:
            self.resource_version = str(rv)


def _status_message(body: bytes) -> str:
    try:
        msg = json.loads(body).get("message")
    except (ValueError, AttributeError):
        msg = None
    return str(msg) if msg else body[:200].decode("utf-8", "replace")
