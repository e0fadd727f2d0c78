"""kubernetes_sd_configs: targets from the Kubernetes API, kept current by watches.

One :class:`KubernetesDiscoverer` per config entry runs an informer per
collection and namespace its role needs (pods and services too for
endpoints/endpointslice, nodes for ``attach_metadata.node``), waits until every
one has listed once, sends the groups, then rebuilds only the groups whose
objects (or related objects) changed. Group building is in :mod:`kube_roles`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from kubesight.discovery import kube_roles as roles
from kubesight.discovery._kubeclient import (
    PAGE_SIZE,
    RESOURCES,
    Informer,
    KubeAccess,
    Obj,
    in_cluster_access,
)
from kubesight.discovery._kubeclient import (
    own_namespace as read_own_namespace,
)
from kubesight.discovery.targetgroup import SendGroups, TargetGroup

log = logging.getLogger("kubesight.discovery.kubernetes")

ROLES = ("pod", "service", "endpoints", "endpointslice", "node", "ingress")
# Which selector roles each role accepts (Prometheus' allowedSelectors).
ALLOWED_SELECTORS = {
    "pod": ("pod",), "service": ("service",), "node": ("node",), "ingress": ("ingress",),
    "endpoints": ("pod", "service", "endpoints"),
    "endpointslice": ("pod", "service", "endpointslice"),
}
_RESOURCE_OF = {"pod": "pods", "service": "services", "endpoints": "endpoints",
                "endpointslice": "endpointslices", "node": "nodes", "ingress": "ingresses"}
# How long to wait before trying again when the API server cannot even be located.
_ACCESS_RETRY_SECONDS = 60.0


@dataclass(frozen=True)
class Selector:
    label: str = ""
    field: str = ""


@dataclass
class KubernetesDiscoverer:
    role: str
    access: KubeAccess | None  # None: in-cluster, resolved when run() starts
    namespaces: list[str] = field(default_factory=list)
    own_namespace: bool = False
    selectors: dict[str, Selector] = field(default_factory=dict)
    attach_node: bool = False
    # Seams for tests: where in-cluster credentials live and how fast to retry.
    access_factory: Callable[[], KubeAccess] = in_cluster_access
    own_namespace_factory: Callable[[], str] = read_own_namespace
    backoff_start: float = 0.5
    page_size: int = PAGE_SIZE

    def _namespaces(self) -> list[str]:
        names = list(self.namespaces)
        if self.own_namespace:
            ns = self.own_namespace_factory()
            if ns:
                names.append(ns)
        elif not names:
            return [""]  # all namespaces
        return list(dict.fromkeys(names))  # one informer per namespace, even if named twice

    async def run(self, send: SendGroups) -> None:
        access = self.access
        while access is None:
            try:
                access = self.access_factory()
            except (OSError, RuntimeError, ValueError) as exc:
                log.error("kubernetes_sd: cannot reach the API server: %s", exc)
                await asyncio.sleep(_ACCESS_RETRY_SECONDS)
        async with access.client() as client:
            await _Session(self, access, client).run(send)


class _Session:
    def __init__(self, d: KubernetesDiscoverer, access: KubeAccess, client: httpx.AsyncClient) -> None:
        self.d = d
        self.informers: dict[str, list[Informer]] = {}
        self.dirty: set[str] = set()
        self.wake = asyncio.Event()
        self.last: dict[str, TargetGroup] = {}
        # "<resource>:<key>" of a related object -> keys of main objects referring to it.
        self.referrers: dict[str, set[str]] = {}
        self.refs_of: dict[str, set[str]] = {}
        main = _RESOURCE_OF[d.role]
        needed = [main]
        if d.role in ("endpoints", "endpointslice"):
            needed += ["services", "pods"]
        attach = d.attach_node and d.role in ("pod", "endpoints", "endpointslice")
        if attach:
            needed.append("nodes")
        self.attach = attach
        by_resource = {_RESOURCE_OF[r]: s for r, s in d.selectors.items()}
        for res in needed:
            resource = RESOURCES[res]
            sel = by_resource.get(res, Selector())
            spaces = d._namespaces() if resource.namespaced else [""]
            self.informers[res] = [
                Informer(client, access.base_url, resource, ns, sel.label, sel.field,
                         on_change=self._handler(res), backoff_start=d.backoff_start,
                         page_size=d.page_size)
                for ns in spaces]
        self.main = main

    def lookup(self, res: str) -> Callable[[str], Obj | None]:
        def get(key: str) -> Obj | None:
            for inf in self.informers.get(res, []):
                obj = inf.store.get(key)
                if obj is not None:
                    return obj
            return None
        return get

    def _handler(self, res: str) -> Callable[[str, Obj | None, Obj | None], None]:
        def on_change(key: str, old: Obj | None, new: Obj | None) -> None:
            self._changed(res, key, old, new)
            self.wake.set()
        return on_change

    def _changed(self, res: str, key: str, old: Obj | None, new: Obj | None) -> None:
        if res == self.main:
            self.dirty.add(key)
            # Keep the reverse index current: which related objects this one refers to.
            for ref in self.refs_of.pop(key, set()):
                self.referrers.get(ref, set()).discard(key)
            if new is not None:
                refs = _references(self.d.role, new)
                self.refs_of[key] = refs
                for ref in refs:
                    self.referrers.setdefault(ref, set()).add(key)
            return
        # A related object changed (a node, service or pod): rebuild what refers to it.
        # Prometheus 2.42 does this for nodes and services; for pods it waits for the
        # next change of the endpoints, rebuilding now keeps pod labels current.
        self.dirty.update(self.referrers.get(f"{res}:{key}", ()))

    def build(self, key: str) -> TargetGroup | None:
        obj = self.lookup(self.main)(key)
        role = self.d.role
        nodes = self.lookup("nodes") if self.attach else None
        if obj is None:
            prefix = {"pod": "pod", "service": "svc", "endpoints": "endpoints",
                      "endpointslice": "endpointslice", "node": "node", "ingress": "ingress"}[role]
            return TargetGroup(source=f"{prefix}/{key}")
        if role == "node":
            return roles.build_node(obj)
        if role == "pod":
            return roles.build_pod(obj, nodes)
        if role == "service":
            return roles.build_service(obj)
        if role == "ingress":
            return roles.build_ingress(obj)
        services, pods = self.lookup("services"), self.lookup("pods")
        if role == "endpoints":
            return roles.build_endpoints(obj, services, pods, nodes)
        return roles.build_endpointslice(obj, services, pods, nodes)

    def flush(self, send: SendGroups) -> None:
        keys, self.dirty = self.dirty, set()
        out = []
        for key in sorted(keys):
            try:
                g = self.build(key)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                # An object of an unexpected shape costs its own group, not the whole role.
                log.error("kubernetes_sd: cannot build targets of %s %s: %r", self.main, key, exc)
                continue
            if g is None:
                continue
            prev = self.last.get(g.source)
            if not g.targets and prev is None:
                continue  # never sent, nothing to remove
            if prev == g:
                continue
            out.append(g)
            if g.targets:
                self.last[g.source] = g
            else:
                self.last.pop(g.source, None)
        if out:
            send(out)

    async def run(self, send: SendGroups) -> None:
        all_informers = [inf for infs in self.informers.values() for inf in infs]
        tasks = [asyncio.create_task(inf.run()) for inf in all_informers]
        try:
            # As Prometheus: nothing is sent before every collection has listed once,
            # so endpoints never go out without their service and pod labels.
            await asyncio.gather(*(inf.synced.wait() for inf in all_informers))
            while True:
                self.wake.clear()
                self.flush(send)
                await self.wake.wait()
                # Let a burst of watch events (a relist) land before building groups.
                await asyncio.sleep(0)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _references(role: str, obj: Obj) -> set[str]:
    """The related objects a role's group is built from, as ``<resource>:<key>``."""
    try:
        return _references_unchecked(role, obj)
    except (AttributeError, TypeError):
        # An object of an unexpected shape refers to nothing rather than breaking its informer.
        return set()


def _references_unchecked(role: str, obj: Obj) -> set[str]:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    out: set[str] = set()
    if role == "pod":
        node = (obj.get("spec") or {}).get("nodeName")
        if node:
            out.add(f"nodes:{node}")
        return out
    if role == "endpoints":
        out.add(f"services:{ns}/{meta.get('name')}")
        addrs = [a for s in obj.get("subsets") or []
                 for kind in ("addresses", "notReadyAddresses") for a in s.get(kind) or []]
    elif role == "endpointslice":
        svc = (meta.get("labels") or {}).get(roles.SERVICE_NAME_LABEL)
        if svc is not None:
            out.add(f"services:{ns}/{svc}")
        addrs = list(obj.get("endpoints") or [])
    else:
        return out
    for a in addrs:
        if a.get("nodeName"):
            out.add(f"nodes:{a['nodeName']}")
        ref = a.get("targetRef") or {}
        if ref.get("kind") == "Pod":
            out.add(f"pods:{ref.get('namespace')}/{ref.get('name')}")
    return out
