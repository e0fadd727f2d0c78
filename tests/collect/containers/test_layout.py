"""Cgroup paths to pods, containers and units: the layouts of the kubelet and the runtimes."""

from __future__ import annotations

import pytest

from kubesight.collect.containers import CgroupRef, classify

UID = "5f0e3c4a-1b2d-4e6f-8a9b-0c1d2e3f4a5b"
UID_ = UID.replace("-", "_")
STATIC = "9b4cd7fe3b2c1c1d3f6e3c3f0a1e2b3c"  # static pods: a hash, not a UUID
ID = "0123456789abcdef" * 4

CASES = [
    ("/", CgroupRef("/", "root")),
    # kubelet, systemd driver
    (f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice",
     ("pod", UID, "", "")),
    (f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice/cri-containerd-{ID}.scope",
     ("container", UID, ID, "cri-containerd")),
    (f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/crio-{ID}.scope",
     ("container", UID, ID, "crio")),
    (f"/kubepods.slice/kubepods-pod{UID_}.slice/docker-{ID}.scope", ("container", UID, ID, "docker")),
    (f"/kubepods.slice/kubepods-pod{STATIC}.slice/cri-containerd-{ID}.scope",
     ("container", STATIC, ID, "cri-containerd")),
    # CRI-O's conmon is not a container (but a systemd scope)
    (f"/kubepods.slice/kubepods-pod{UID_}.slice/crio-conmon-{ID}.scope", ("unit", "", "", "")),
    # kubelet, cgroupfs driver
    (f"/kubepods/burstable/pod{UID}", ("pod", UID, "", "")),
    (f"/kubepods/burstable/pod{UID}/{ID}", ("container", UID, ID, "")),
    (f"/kubepods/pod{UID}/{ID}", ("container", UID, ID, "")),
    # kind/nested: the kubelet's cgroup root under another slice
    (f"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
     f"kubelet-kubepods-besteffort-pod{UID_}.slice/cri-containerd-{ID}.scope",
     ("container", UID, ID, "cri-containerd")),
    # a cgroup nested inside a container is not one of the pod's containers
    (f"/kubepods/pod{UID}/{ID}/{ID}", ("container", "", ID, "")),
    # QoS cgroups and slices
    ("/kubepods.slice", ("other", "", "", "")),
    ("/kubepods.slice/kubepods-burstable.slice", ("other", "", "", "")),
    ("/kubepods/besteffort", ("other", "", "", "")),
    # outside Kubernetes
    (f"/docker/{ID}", ("container", "", ID, "")),
    (f"/system.slice/docker-{ID}.scope", ("container", "", ID, "docker")),
    (f"/k8s.io/{ID}", ("container", "", ID, "")),
    (f"/system.slice/var-lib-docker-containers-{ID}.mount", ("other", "", "", "")),
    ("/system.slice/containerd.service", ("unit", "", "", "")),
    ("/user.slice/user-1000.slice/session-3.scope", ("unit", "", "", "")),
    ("/system.slice", ("other", "", "", "")),
]


@pytest.mark.parametrize(("path", "want"), CASES)
def test_classify(path: str, want: object) -> None:
    ref = classify(path)
    if isinstance(want, CgroupRef):
        assert ref == want
    else:
        assert (ref.kind, ref.pod_uid, ref.container_id, ref.runtime) == want
    assert ref.path == path


def test_unit_names() -> None:
    assert classify("/system.slice/containerd.service").unit == "containerd.service"
    assert classify("/user.slice/user-1000.slice/session-3.scope").unit == "session-3.scope"
