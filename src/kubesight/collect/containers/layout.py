"""What a cgroup path says about what runs in it: a pod, a container, a systemd unit.

The kubelet names pod cgroups after the pod UID and the runtimes name
container cgroups after the container ID, in two layouts:

- systemd driver: ``/kubepods.slice/kubepods-burstable.slice/
  kubepods-burstable-pod<uid, '-' as '_'>.slice/cri-containerd-<id>.scope``
  (``crio-<id>.scope``, ``docker-<id>.scope``; Guaranteed pods sit directly
  under ``kubepods.slice`` as ``kubepods-pod<uid>.slice``);
- cgroupfs driver: ``/kubepods/burstable/pod<uid>/<id>`` (``/kubepods/pod<uid>/<id>``).

Outside Kubernetes, docker puts containers in ``/docker/<id>`` or
``/system.slice/docker-<id>.scope``, containerd in ``/<namespace>/<id>``, and
systemd services and scopes are ``*.service`` / ``*.scope`` directories.
Static pods have a 32-hex UID instead of a UUID; both are accepted.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Any slice prefix: kind and other nested setups put the kubelet's root
# under another name ("kubelet-kubepods-besteffort-pod<uid>.slice").
_POD = re.compile(r"^(?:[a-z][a-z0-9-]*-)?pod([0-9a-f][0-9a-f_-]{30,35})(?:\.slice)?$")
# cAdvisor's containerd factory takes any 64-hex base name as a container ID.
_CONTAINER = re.compile(r"^(?:([a-z][a-z-]*?)-)?([0-9a-f]{64})(?:\.scope)?$")
_UNIT_SUFFIXES = (".service", ".scope")


class CgroupRef(NamedTuple):
    """A cgroup path (``/`` for the root) and what its name tells."""

    path: str
    kind: str  # root | pod | container | unit | other
    pod_uid: str = ""
    container_id: str = ""
    runtime: str = ""  # cri-containerd, crio, docker, ... ("" for a bare 64-hex name)
    unit: str = ""  # the systemd unit (kind unit), or the leaf name


def classify(path: str) -> CgroupRef:
    """Classify a cgroup ``path`` relative to the hierarchy root (``/a/b``, or ``/``)."""
    if path == "/":
        return CgroupRef("/", "root")
    parts = path.strip("/").split("/")
    leaf = parts[-1]
    pod_uid = ""
    pod_at = -1
    for i, comp in enumerate(parts):
        m = _POD.match(comp)
        if m:
            pod_uid, pod_at = m.group(1).replace("_", "-"), i
    m = _CONTAINER.match(leaf)
    if m and m.group(1) != "crio-conmon" and not leaf.endswith(".mount"):
        runtime = m.group(1) or ""
        # Only the pod's direct children are its containers (a nested cgroup
        # inside a container is the container's own business).
        uid = pod_uid if pod_at == len(parts) - 2 else ""
        return CgroupRef(path, "container", uid, m.group(2), runtime, leaf)
    if pod_at == len(parts) - 1:
        return CgroupRef(path, "pod", pod_uid, unit=leaf)
    if leaf.endswith(_UNIT_SUFFIXES):
        return CgroupRef(path, "unit", unit=leaf)
    return CgroupRef(path, "other", unit=leaf)
