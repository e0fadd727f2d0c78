"""The filesystem collector on a generated mount table whose mount points are real directories."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from kubesight.collect.host import HostCollector, HostOptions
from kubesight.collect.host._files import HostReadError
from kubesight.collect.host.storage import Mount, StuckMounts, parse_mounts
from tests.collect.host._util import samples, success, value


def _tree(tmp: Path, mounts: str, *, file: str = "1/mounts") -> HostOptions:
    root = tmp / "root"
    for d in ("data dir", "tab\there", "ro", "var/lib/docker/overlay2/x", "run", "sysx", "pref"):
        (root / d).mkdir(parents=True, exist_ok=True)
    proc = tmp / "proc"
    (proc / file).parent.mkdir(parents=True, exist_ok=True)
    (proc / file).write_text(mounts.replace("ROOT", str(root)))
    return HostOptions(rootfs=str(root), procfs=str(proc), disable_defaults=True, enable=frozenset({"filesystem"}))


_MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
/dev/vdb /data\\040dir xfs rw,noatime 0 0
/dev/vdb2 /tab\\011here xfs rw 0 0
/dev/vdc /ro ext4 ro,relatime 0 0
tmpfs /run tmpfs rw,nosuid 0 0
overlay /var/lib/docker/overlay2/x overlay rw 0 0
/dev/vdz /var/lib/docker/overlay2/x ext4 rw 0 0
sysfs /sysx sysfs rw 0 0
/dev/vde ROOT/pref ext4 rw 0 0
/dev/vdd /gone ext4 rw 0 0
/dev/vda / ext4 rw,relatime 0 0
"""


def test_mount_table_excludes_escapes_rootfs_and_statfs(tmp_path: Path) -> None:
    opts = _tree(tmp_path, _MOUNTS)
    fams = HostCollector(opts).collect()
    assert success(fams) == {"filesystem": 1.0}
    size = {dict(k[1])["mountpoint"]: v for k, v in samples(fams).items() if k[0] == "node_filesystem_size_bytes"}
    # /run, docker's layers, sysfs are excluded; the duplicate / appears once; ROOT/pref is stripped of rootfs
    assert set(size) == {"/", "/data dir", "/tab\there", "/ro", "/pref"}
    st = os.statvfs(tmp_path)
    assert set(size.values()) == {float(st.f_blocks * st.f_bsize)}
    labels = {"device": "/dev/vdb", "fstype": "xfs", "mountpoint": "/data dir"}
    assert value(fams, "node_filesystem_files", **labels) == st.f_files
    assert value(fams, "node_filesystem_readonly", **labels) == 0
    assert value(fams, "node_filesystem_readonly", device="/dev/vdc", fstype="ext4", mountpoint="/ro") == 1
    assert value(fams, "node_filesystem_device_error", **labels) == 0
    # statfs fails: device_error 1 and nothing else for that mount, as node_exporter
    gone = frozenset({("device", "/dev/vdd"), ("fstype", "ext4"), ("mountpoint", "/gone")})
    assert {k[0] for k in samples(fams) if k[1] == gone} == {"node_filesystem_device_error"}
    assert value(fams, "node_filesystem_device_error", **dict(gone)) == 1


def test_falls_back_to_proc_mounts_without_pid_1(tmp_path: Path) -> None:
    opts = _tree(tmp_path, "/dev/vda / ext4 rw 0 0\n", file="mounts")
    fams = HostCollector(opts).collect()
    assert value(fams, "node_filesystem_device_error", device="/dev/vda", fstype="ext4", mountpoint="/") == 0


def test_a_malformed_mount_line_fails_the_collector(tmp_path: Path) -> None:
    opts = _tree(tmp_path, "/dev/vda / ext4 rw 0 0\n/dev/vdb /x\n")
    c = HostCollector(opts)
    assert success(c.collect()) == {"filesystem": 0.0}
    assert c.errors["filesystem"] == (f"{tmp_path}/proc/1/mounts: line 2: malformed mount point information: "
                                      "'/dev/vdb /x'")


def test_custom_excludes(tmp_path: Path) -> None:
    opts = _tree(tmp_path, _MOUNTS)
    opts = HostOptions(rootfs=opts.rootfs, procfs=opts.procfs, disable_defaults=True,
                       enable=frozenset({"filesystem"}), filesystem_mount_points_exclude="^/(ro|gone)$",
                       filesystem_fs_types_exclude="^xfs$")
    fams = HostCollector(opts).collect()
    got = {dict(k[1])["mountpoint"] for k in samples(fams) if k[0] == "node_filesystem_device_error"}
    assert got == {"/", "/run", "/var/lib/docker/overlay2/x", "/sysx", "/pref"}


def test_parse_mounts_escapes() -> None:
    data = b"/dev/a /with\\040space\\134back ext4 rw 0 0\n\n"
    assert parse_mounts(data, "m") == [Mount("/dev/a", "/with space\\back", "ext4", "rw")]
    assert parse_mounts(b"/dev/b /host/data ext4 rw 0 0\n/dev/c /host ext4 rw 0 0\n", "m", "/host/") == [
        Mount("/dev/b", "/data", "ext4", "rw"), Mount("/dev/c", "/", "ext4", "rw")]
    with pytest.raises(HostReadError, match=r"^m: line 1: malformed"):
        parse_mounts(b"just three fields\n", "m")


def test_a_hanging_network_mount_is_abandoned_then_retried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    release = threading.Event()
    real = os.statvfs

    def hanging(path: str) -> os.statvfs_result:
        release.wait(10)
        return real(path)

    monkeypatch.setattr(os, "statvfs", hanging)
    stuck = StuckMounts(timeout_s=0.05)
    with pytest.raises(TimeoutError, match="did not answer"):
        stuck.statvfs(str(tmp_path), "nfs4")
    with pytest.raises(TimeoutError, match="still hanging"):  # no second thread piles up
        stuck.statvfs(str(tmp_path), "nfs4")
    release.set()
    for _ in range(100):
        if not stuck.stuck:
            break
        threading.Event().wait(0.05)
    assert stuck.statvfs(str(tmp_path), "nfs4").f_blocks == real(tmp_path).f_blocks
