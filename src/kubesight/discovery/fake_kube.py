"""A fake Kubernetes API server for tests: list and watch over real HTTP on 127.0.0.1.

Serves the collections discovery and the kube-state collectors read (nodes,
namespaces, pods, services, endpoints, endpointslices, ingresses, the Prometheus
Operator's ServiceMonitor, PodMonitor and PrometheusRule, and the workloads,
storage, autoscalers and quotas of ``KINDS``), cluster-wide and
per namespace, with label and field selectors, ``resourceVersion``, watch
bookmarks and 410 Gone. Tests drive it through a small API::

    async with FakeKube() as kube:
        kube.add("pods", {"metadata": {"name": "a", "namespace": "default"}, ...})
        kube.update("pods", obj); kube.delete("pods", "default", "a")
        kube.drop_watches()   # cut every open watch mid-stream
        kube.expire()         # compact history: old resourceVersions answer 410 Gone
        kube.bookmark()       # send a BOOKMARK with the current version to open watches
        kube.forbidden.add("pods")  # answer 403, as an API server does without RBAC rights

Mutations must be called on the server's event loop (plain calls from the
test's coroutine). It is written from the API conventions, not from any
server's code, and knows nothing about discovery.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

Obj = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    resource: str
    group_version: str  # "v1" or "discovery.k8s.io/v1"
    kind: str
    namespaced: bool = True

    @property
    def prefix(self) -> str:
        return "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"


KINDS = {k.resource: k for k in (
    Kind("nodes", "v1", "Node", namespaced=False),
    Kind("namespaces", "v1", "Namespace", namespaced=False),
    Kind("pods", "v1", "Pod"),
    Kind("services", "v1", "Service"),
    Kind("endpoints", "v1", "Endpoints"),
    Kind("endpointslices", "discovery.k8s.io/v1", "EndpointSlice"),
    Kind("ingresses", "networking.k8s.io/v1", "Ingress"),
    Kind("servicemonitors", "monitoring.coreos.com/v1", "ServiceMonitor"),
    Kind("podmonitors", "monitoring.coreos.com/v1", "PodMonitor"),
    Kind("prometheusrules", "monitoring.coreos.com/v1", "PrometheusRule"),
    # What the object-state collector (kube-state-metrics' resources) watches.
    Kind("persistentvolumes", "v1", "PersistentVolume", namespaced=False),
    Kind("persistentvolumeclaims", "v1", "PersistentVolumeClaim"),
    Kind("resourcequotas", "v1", "ResourceQuota"),
    Kind("deployments", "apps/v1", "Deployment"),
    Kind("replicasets", "apps/v1", "ReplicaSet"),
    Kind("statefulsets", "apps/v1", "StatefulSet"),
    Kind("daemonsets", "apps/v1", "DaemonSet"),
    Kind("jobs", "batch/v1", "Job"),
    Kind("cronjobs", "batch/v1", "CronJob"),
    Kind("horizontalpodautoscalers", "autoscaling/v2", "HorizontalPodAutoscaler"),
    Kind("poddisruptionbudgets", "policy/v1", "PodDisruptionBudget"),
)}

_PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<resource>[^/]+)(?:/(?P<name>[^/]+))?$")


@dataclass
class Event:
    rv: int
    type: str
    resource: str
    obj: Obj


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class _Watch:
    def __init__(self, kind: Kind, ns: str, label: str, field: str) -> None:
        self.kind, self.ns, self.label, self.field = kind, ns, label, field
        self.queue: asyncio.Queue[Obj | str | None] = asyncio.Queue()


class FakeKube:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> None:
        """``token``: when set, requests without ``Authorization: Bearer <token>`` get 401."""
        self.host, self.port = host, port
        self.token = token
        self.objects: dict[str, dict[str, Obj]] = {r: {} for r in KINDS}
        self.resource_version = 1000
        self.history: list[Event] = []
        self.oldest_rv = 0  # watches from before this answer 410 Gone
        self.requests: list[Request] = []
        self.gone_on_watch = False
        self.forbidden: set[str] = set()  # resources answered 403, as without RBAC rights to them
        self._watches: list[_Watch] = []
        self._list_memo: dict[tuple[str, str, str, str], tuple[int, list[Obj]]] = {}
        self._mutations = 0  # bumped by every add/update/delete: invalidates _list_memo
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    # ---- lifecycle ----------------------------------------------------------

    async def start(self) -> FakeKube:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self.drop_watches()
            for t in list(self._conns):
                t.cancel()
            await asyncio.gather(*self._conns, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FakeKube:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ---- the API tests use ----------------------------------------------------

    def add(self, resource: str, obj: Obj) -> Obj:
        return self._put(resource, obj, "ADDED")

    def update(self, resource: str, obj: Obj) -> Obj:
        return self._put(resource, obj, "MODIFIED")

    def delete(self, resource: str, namespace: str, name: str) -> None:
        key = f"{namespace}/{name}" if KINDS[resource].namespaced else name
        obj = self.objects[resource].pop(key)
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self._next_rv())
        self._emit(resource, "DELETED", obj)

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        key = f"{namespace}/{name}" if KINDS[resource].namespaced else name
        return self.objects[resource].get(key)

    def set_resource_version(self, rv: int) -> None:
        self.resource_version = rv

    def expire(self) -> None:
        """Compact all history: every open watch gets a 410 ERROR event and ends, and a
        watch from any version seen so far is answered with 410 Gone."""
        self.oldest_rv = self._next_rv()
        self.history.clear()
        status = {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                  "message": "too old resource version", "reason": "Expired", "code": 410}
        for w in self._watches:
            w.queue.put_nowait({"type": "ERROR", "object": status})
            w.queue.put_nowait(None)

    def drop_watches(self) -> None:
        """Cut every open watch connection without ending the chunked stream."""
        for w in self._watches:
            w.queue.put_nowait("drop")

    def bookmark(self) -> None:
        for w in self._watches:
            w.queue.put_nowait({"type": "BOOKMARK", "object": {
                "kind": w.kind.kind, "apiVersion": w.kind.group_version,
                "metadata": {"resourceVersion": str(self.resource_version)}}})

    def watch_count(self) -> int:
        return len(self._watches)

    # ---- state ----------------------------------------------------------------

    def _next_rv(self) -> int:
        self.resource_version += 1
        return self.resource_version

    def _put(self, resource: str, obj: Obj, kind: str) -> Obj:
        k = KINDS[resource]
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if k.namespaced:
            meta.setdefault("namespace", "default")
        meta.setdefault("uid", str(uuid.uuid4()))
        meta["resourceVersion"] = str(self._next_rv())
        obj.setdefault("kind", k.kind)
        obj.setdefault("apiVersion", k.group_version)
        key = f"{meta['namespace']}/{meta['name']}" if k.namespaced else meta["name"]
        if kind == "ADDED" and key in self.objects[resource]:
            kind = "MODIFIED"
        self.objects[resource][key] = obj
        self._emit(resource, kind, obj)
        return obj

    def _emit(self, resource: str, kind: str, obj: Obj) -> None:
        self._mutations += 1
        rv = int(obj["metadata"]["resourceVersion"])
        self.history.append(Event(rv, kind, resource, obj))
        for w in self._watches:
            if w.kind.resource == resource and _selected(obj, w.ns, w.label, w.field):
                w.queue.put_nowait({"type": kind, "object": obj})

    # ---- HTTP -----------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = h.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                if length:
                    await reader.readexactly(length)
                keep = await self._handle(method, target, headers, writer)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        except asyncio.CancelledError:
            # stop() ends idle keep-alive connections; ending quietly spares asyncio's
            # stream callback from logging the cancellation as an error.
            return
        finally:
            self._conns.discard(task)
            writer.close()

    async def _handle(self, method: str, target: str, headers: dict[str, str],
                      writer: asyncio.StreamWriter) -> bool:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.requests.append(Request(method, parts.path, query, headers))
        if self.token is not None and headers.get("authorization") != f"Bearer {self.token}":
            return await _respond(writer, 401, _status(401, "Unauthorized", "Unauthorized"))
        if parts.path == "/version":
            return await _respond(writer, 200, {"major": "1", "minor": "26",
                                                "gitVersion": "v1.26.0", "platform": "linux/amd64"})
        m = _PATH.match(parts.path)
        kind = KINDS.get(unquote(m.group("resource"))) if m else None
        if m is None or kind is None or method != "GET" or (
                kind.group_version != (f"{m.group('group')}/{m.group('version')}"
                                       if m.group("group") else "v1")):
            return await _respond(writer, 404, _status(404, "NotFound", f"the server could not find the requested resource {parts.path}"))
        ns = m.group("ns") or ""
        if kind.resource in self.forbidden:
            return await _respond(writer, 403, _status(403, "Forbidden", (
                f'{kind.resource} is forbidden: User "system:serviceaccount:monitoring:kubesight" cannot '
                f'list resource "{kind.resource}" in API group "{m.group("group") or ""}" at the cluster scope')))
        label, field = query.get("labelSelector", ""), query.get("fieldSelector", "")
        if m.group("name"):
            obj = self.get(kind.resource, ns, m.group("name"))
            if obj is None:
                return await _respond(writer, 404, _status(404, "NotFound", f"{kind.resource} {m.group('name')!r} not found"))
            return await _respond(writer, 200, obj)
        if query.get("watch") in ("1", "true"):
            await self._watch(writer, kind, ns, label, field, query)
            return False
        # A paged list asks again for every page: while nothing changed through this
        # API, later pages reuse the first page's sorted selection (10,000 pods in
        # pages of 100 would otherwise sort 100 times). A first page always looks
        # afresh, so tests that edit self.objects directly see their edit.
        memo_key = (kind.resource, ns, label, field)
        memo = self._list_memo.get(memo_key)
        if memo is not None and memo[0] == self._mutations and query.get("continue"):
            items = memo[1]
        else:
            items = [o for o in self.objects[kind.resource].values() if _selected(o, ns, label, field)]
            items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
            self._list_memo[memo_key] = (self._mutations, items)
        meta: Obj = {"resourceVersion": str(self.resource_version)}
        # Paging: the continue token is "<resourceVersion>/<offset>"; a token from
        # before expire() is answered 410 Gone, as an expired etcd snapshot is.
        start = 0
        if query.get("continue"):
            rv, _, offset = query["continue"].partition("/")
            if int(rv) < self.oldest_rv:
                return await _respond(writer, 410, _status(410, "Expired", "the provided continue parameter is too old"))
            start = int(offset)
        limit = int(query.get("limit") or 0)
        if limit and start + limit < len(items):
            meta["continue"] = f"{self.resource_version}/{start + limit}"
            meta["remainingItemCount"] = len(items) - start - limit
            items = items[start:start + limit]
        else:
            items = items[start:]
        return await _respond(writer, 200, {
            "kind": kind.kind + "List", "apiVersion": kind.group_version,
            "metadata": meta, "items": items})

    async def _watch(self, writer: asyncio.StreamWriter, kind: Kind, ns: str, label: str,
                     field: str, query: dict[str, str]) -> None:
        since = int(query.get("resourceVersion") or 0)
        if self.gone_on_watch or (since and since < self.oldest_rv):
            await _respond(writer, 410, _status(410, "Expired", f"too old resource version: {since} ({self.oldest_rv})"))
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        w = _Watch(kind, ns, label, field)
        for ev in self.history:
            if ev.rv > since and ev.resource == kind.resource and _selected(ev.obj, ns, label, field):
                w.queue.put_nowait({"type": ev.type, "object": ev.obj})
        self._watches.append(w)
        timeout = float(query.get("timeoutSeconds") or 1800)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                try:
                    item = await asyncio.wait_for(w.queue.get(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    break
                if item == "drop":
                    # Abort mid-stream: the client sees a truncated chunked body.
                    writer.transport.abort()
                    return
                if item is None:
                    break
                data = json.dumps(item).encode() + b"\n"
                writer.write(b"%x\r\n%s\r\n" % (len(data), data))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        finally:
            self._watches.remove(w)


def _status(code: int, reason: str, message: str) -> Obj:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 410: "Gone"}


async def _respond(writer: asyncio.StreamWriter, code: int, body: Obj) -> bool:
    data = json.dumps(body).encode()
    writer.write(f"HTTP/1.1 {code} {_REASONS.get(code, 'Error')}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    await writer.drain()
    return True


# ---- selectors ------------------------------------------------------------------

_SET_EXPR = re.compile(r"^\s*([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_terms(selector: str) -> list[str]:
    terms, depth, cur = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        terms.append(cur)
    return [t.strip() for t in terms if t.strip()]


def _match_terms(selector: str, get: Any) -> bool:
    for term in _split_terms(selector):
        m = _SET_EXPR.match(term)
        if m:
            values = {v.strip() for v in m.group(3).split(",")}
            value = get(m.group(1))
            if (m.group(2) == "in") != (value is not None and value in values):
                return False
        elif "!=" in term:
            k, v = term.split("!=", 1)
            if get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = re.split(r"==?", term, maxsplit=1)
            if get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if get(term[1:].strip()) is not None:
                return False
        elif get(term) is None:
            return False
    return True


def _field(obj: Obj, path: str) -> str | None:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return None if cur is None else str(cur)


def _selected(obj: Obj, ns: str, label: str, field: str) -> bool:
    meta = obj.get("metadata") or {}
    if ns and meta.get("namespace") != ns:
        return False
    labels = meta.get("labels") or {}
    if label and not _match_terms(label, labels.get):
        return False
    # Field selectors compare a missing field as "" as the API server does.
    return not field or _match_terms(field, lambda p: _field(obj, p) or "")
