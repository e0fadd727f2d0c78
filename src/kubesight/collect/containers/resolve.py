"""Who a cgroup belongs to: the ``name, image, namespace, pod, container`` labels.

A :class:`Resolver` answers for one classified cgroup path
(:class:`~kubesight.collect.containers.layout.CgroupRef`). Two come with the
collector:

- :class:`NameResolver`, the no-Kubernetes fallback: containers are named by
  their container ID (as cAdvisor names containerd containers) and systemd
  services/scopes by their unit name; nothing else is known.
- :class:`DockerResolver`: docker containers by their docker name and image
  (docker's state files), the rest through a fallback.
- :class:`PodIndex`, fed with pod objects (a list, or the events of a watch:
  :meth:`PodIndex.on_change` has the signature of the discovery informer's
  callback): a pod cgroup gets ``namespace`` and ``pod``, a container cgroup
  also ``container`` and ``image``, as the kubelet's ``/metrics/cadvisor``
  labels them. A container ID the index does not know inside a known pod is
  the pod sandbox (the pause container: not in the pod's status) or a
  container younger than the index; it keeps the pod's labels with an empty
  ``container``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, Protocol

import httpx

from kubesight.collect.containers.layout import CgroupRef
from kubesight.discovery._kubeclient import RESOURCES, Informer

log = logging.getLogger("kubesight.collect.containers")


class Identity(NamedTuple):
    name: str = ""
    image: str = ""
    namespace: str = ""
    pod: str = ""
    container: str = ""


NO_IDENTITY = Identity()


class Resolver(Protocol):
    def resolve(self, ref: CgroupRef) -> Identity: ...


class NameResolver:
    """Labels from the cgroup path alone: the container ID or the systemd unit as ``name``."""

    def resolve(self, ref: CgroupRef) -> Identity:
        if ref.kind == "container":
            return Identity(name=ref.container_id)
        if ref.kind == "unit":
            return Identity(name=ref.unit)
        return NO_IDENTITY


class DockerResolver:
    """Docker containers by their docker name and image, read from docker's own state
    (``<root>/containers/<id>/config.v2.json``, no API call), as cAdvisor's docker
    handler names them; containers of dockershim/cri-dockerd pods also get their
    ``namespace``, ``pod`` and ``container`` from the labels the kubelet put there.
    Everything else goes to ``fallback``.
    """

    def __init__(self, root: str = "/var/lib/docker", fallback: Resolver | None = None) -> None:
        self.root = root
        self.fallback: Resolver = fallback if fallback is not None else NameResolver()
        self._known: dict[str, Identity] = {}
        self._bad: set[str] = set()

    def resolve(self, ref: CgroupRef) -> Identity:
        if ref.kind == "container" and ref.runtime in ("docker", ""):
            ident = self._known.get(ref.container_id)
            if ident is None:
                ident = self._read(ref.container_id)
            if ident is not None:
                return ident
        return self.fallback.resolve(ref)

    def _read(self, cid: str) -> Identity | None:
        # Not remembered when absent: a container's file may appear after its
        # cgroup (and a non-docker container costs one failed open).
        path = os.path.join(self.root, "containers", cid, "config.v2.json")
        try:
            with open(path, "rb") as fh:
                doc = json.loads(fh.read())
            config = doc.get("Config") or {}
            labels = config.get("Labels") or {}
            ident = Identity(str(doc.get("Name") or "").lstrip("/") or cid,
                             str(config.get("Image") or ""),
                             str(labels.get("io.kubernetes.pod.namespace") or ""),
                             str(labels.get("io.kubernetes.pod.name") or ""),
                             str(labels.get("io.kubernetes.container.name") or ""))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, AttributeError) as exc:
            if cid not in self._bad:
                if len(self._bad) >= 4096:
                    self._bad.clear()
                self._bad.add(cid)
                log.warning("containers: %s: %s (labelled by its cgroup path instead)", path, exc)
            return None
        if len(self._known) >= 4096:  # bounded: removed containers are not announced
            self._known.clear()
        self._known[cid] = ident
        return ident


def default_resolver(docker_root: str = "/var/lib/docker") -> Resolver:
    """The no-Kubernetes resolver: docker's names where docker keeps state, else the paths."""
    if os.path.isdir(os.path.join(docker_root, "containers")):
        return DockerResolver(docker_root)
    return NameResolver()


class PodSummary(NamedTuple):
    """What the index keeps of a pod: a few strings instead of the whole object."""

    uid: str
    namespace: str
    name: str
    containers: tuple[tuple[str, str, str], ...]  # (container id, name, image)


def summarize(pod: Mapping[str, Any]) -> PodSummary | None:
    """The :class:`PodSummary` of a pod object (API JSON), or None without a UID."""
    meta = pod.get("metadata") or {}
    uid = str(meta.get("uid") or "")
    if not uid:
        return None
    spec = pod.get("spec") or {}
    spec_images: dict[str, str] = {}
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(key) or ():
            spec_images[str(c.get("name", ""))] = str(c.get("image") or "")
    status = pod.get("status") or {}
    conts: list[tuple[str, str, str]] = []
    for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or ():
            name = str(cs.get("name", ""))
            image = str(cs.get("image") or spec_images.get(name, ""))
            for cid in (cs.get("containerID"),
                        ((cs.get("lastState") or {}).get("terminated") or {}).get("containerID")):
                if cid:
                    # "containerd://<id>", "cri-o://<id>", "docker://<id>"
                    conts.append((str(cid).rpartition("://")[2], name, image))
    return PodSummary(uid, str(meta.get("namespace") or ""), str(meta.get("name") or ""),
                      tuple(conts))


class PodIndex:
    """Pod UID and container ID to labels, from pod objects; other cgroups go to ``fallback``.

    Thread-safe: a watch may update it while a collection reads it.
    """

    def __init__(self, pods: Iterable[Mapping[str, Any]] = (),
                 fallback: Resolver | None = None) -> None:
        self.fallback: Resolver = fallback if fallback is not None else NameResolver()
        self._lock = threading.Lock()
        self._pods: dict[str, tuple[str, str]] = {}
        self._containers: dict[str, Identity] = {}
        self._by_key: dict[str, PodSummary] = {}
        self.replace(pods)

    # -- feeding ---------------------------------------------------------
    def replace(self, pods: Iterable[Mapping[str, Any]]) -> None:
        """Forget everything and index ``pods``."""
        summaries = [s for s in map(summarize, pods) if s is not None]
        with self._lock:
            self._by_key = {s.uid: s for s in summaries}
            self._rebuild()

    def on_change(self, key: str, old: Mapping[str, Any] | None,
                  new: Mapping[str, Any] | None) -> None:
        """An informer callback (``OnChange``): ``old``/``new`` pod objects, None when absent."""
        with self._lock:
            gone = summarize(old) if old is not None else None
            if gone is not None:
                self._by_key.pop(gone.uid, None)
            s = summarize(new) if new is not None else None
            if s is not None:
                self._by_key[s.uid] = s
            self._rebuild()

    @staticmethod
    def transform(pod: dict[str, Any]) -> dict[str, Any]:
        """For the informer's ``transform``: only the fields the index reads, so that
        the informer's store holds a few strings per pod, not whole objects."""
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        status = pod.get("status") or {}

        def statuses(key: str) -> list[dict[str, Any]]:
            out = []
            for cs in status.get(key) or ():
                term = ((cs.get("lastState") or {}).get("terminated") or {}).get("containerID")
                out.append({"name": cs.get("name"), "image": cs.get("image"),
                            "containerID": cs.get("containerID"),
                            "lastState": {"terminated": {"containerID": term}} if term else {}})
            return out

        return {
            "metadata": {k: meta.get(k) for k in ("uid", "name", "namespace")},
            "spec": {k: [{"name": c.get("name"), "image": c.get("image")} for c in spec.get(k) or ()]
                     for k in ("initContainers", "containers", "ephemeralContainers")},
            "status": {k: statuses(k) for k in ("initContainerStatuses", "containerStatuses",
                                                 "ephemeralContainerStatuses")},
        }

    def _rebuild(self) -> None:
        # Rebuilt whole on each change: a node runs at most a few hundred pods,
        # and readers then look up two plain dicts without a lock.
        pods: dict[str, tuple[str, str]] = {}
        conts: dict[str, Identity] = {}
        for s in self._by_key.values():
            pods[s.uid] = (s.namespace, s.name)
            for cid, cname, image in s.containers:
                conts[cid] = Identity(cid, image, s.namespace, s.name, cname)
        self._pods, self._containers = pods, conts

    # -- answering -------------------------------------------------------
    def __len__(self) -> int:
        return len(self._pods)

    def resolve(self, ref: CgroupRef) -> Identity:
        if ref.pod_uid:
            pod = self._pods.get(ref.pod_uid)
            if pod is not None:
                if ref.kind == "pod":
                    return Identity(namespace=pod[0], pod=pod[1])
                known = self._containers.get(ref.container_id)
                if known is not None:
                    return known
                return Identity(name=ref.container_id, namespace=pod[0], pod=pod[1])
        return self.fallback.resolve(ref)


def pod_informer(client: httpx.AsyncClient, base_url: str, index: PodIndex,
                 node: str = "") -> Informer:
    """An informer that keeps ``index`` current with the pods of ``node`` (all pods if empty).

    Run it with ``await informer.run()`` (it retries and never raises); the
    index answers with what it has meanwhile (the fallback until the first list).
    """
    return Informer(client, base_url, RESOURCES["pods"],
                    field_selector=f"spec.nodeName={node}" if node else "",
                    on_change=index.on_change, transform=PodIndex.transform)
