"""The collector on a cgroup v1 node (cgroupfs driver), plain and hybrid."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubesight.collect.containers import ContainerCollector, NoCgroupsError, PodIndex, detect
from kubesight.collect.family import Family
from tests.collect.containers import cgtree as t
from tests.collect.containers.helpers import ids, label_sets, matching, value

APP = f"{t.V1_POD}/{t.APP}"
SANDBOX = f"{t.V1_POD}/{t.SANDBOX}"


def _collect(tmp_path: Path, hybrid: bool = True) -> list[Family]:
    cg = t.v1_host(tmp_path, hybrid=hybrid)
    return ContainerCollector(PodIndex(t.PODS), cgroup_root=str(cg),
                              proc=str(t.proc_tree(tmp_path)), sys_root=str(t.sys_tree(tmp_path)),
                              clock=lambda: 1_800_000_000.0).collect()


@pytest.fixture
def fams(tmp_path: Path) -> list[Family]:
    return _collect(tmp_path)


def test_detects_v1_and_hybrid(tmp_path: Path) -> None:
    h = detect(str(t.v1_host(tmp_path)))
    assert h.version == 1
    assert h.v1["cpu"] == h.v1["cpuacct"] and h.v1["cpu"].endswith("cpu,cpuacct")
    assert set(h.v1) == {"cpu", "cpuacct", "memory", "blkio", "pids"}
    assert h.unified.endswith("unified")
    assert len(h.trees()) == 4  # cpu,cpuacct walked once


def test_detects_plain_v1_and_nothing(tmp_path: Path) -> None:
    assert detect(str(t.v1_host(tmp_path / "a", hybrid=False))).unified == ""
    with pytest.raises(NoCgroupsError, match="no cgroup hierarchy at"):
        detect(str(tmp_path / "empty"))


def test_cgroups_and_labels(fams: list[Family]) -> None:
    assert ids(fams, "container_last_seen") == {
        "/", "/kubepods", "/kubepods/burstable", t.V1_POD, SANDBOX, APP}
    assert label_sets(fams, "container_memory_usage_bytes", APP) == [
        {"__name__": "container_memory_usage_bytes", "container": "nginx", "id": APP,
         "image": "docker.io/library/nginx:1.25", "name": t.APP, "namespace": "shop",
         "pod": "web-7d9c"}]
    assert label_sets(fams, "container_memory_usage_bytes", t.V1_POD)[0]["pod"] == "web-7d9c"


def test_cpu(fams: list[Family]) -> None:
    assert value(fams, "container_cpu_usage_seconds_total", id=APP, cpu="total") == 1.5
    assert value(fams, "container_cpu_user_seconds_total", id=APP) == 1.1  # 110 ticks
    assert value(fams, "container_cpu_system_seconds_total", id=APP) == 0.4
    assert value(fams, "container_cpu_cfs_periods_total", id=APP) == 400
    assert value(fams, "container_cpu_cfs_throttled_periods_total", id=APP) == 10
    assert value(fams, "container_cpu_cfs_throttled_seconds_total", id=APP) == 1.0
    assert not matching(fams, "container_cpu_cfs_periods_total", id=SANDBOX)  # quota -1
    assert value(fams, "container_cpu_usage_seconds_total", id="/", cpu="total") == 9.0


def test_memory(fams: list[Family]) -> None:
    assert value(fams, "container_memory_usage_bytes", id=APP) == 50 << 20
    assert value(fams, "container_memory_working_set_bytes", id=APP) == 45 << 20
    assert value(fams, "container_memory_cache", id=APP) == 20 << 20
    assert value(fams, "container_memory_rss", id=APP) == 30 << 20
    assert value(fams, "container_memory_mapped_file", id=APP) == 4 << 20
    assert value(fams, "container_memory_swap", id=APP) == 4096
    assert value(fams, "container_memory_failcnt", id=APP) == 3
    assert value(fams, "container_oom_events_total", id=APP) == 2


def test_io_prefers_the_first_source_with_data(fams: list[Family]) -> None:
    # BFQ files hold only "Total 0": the throttle files are used.
    assert value(fams, "container_fs_reads_bytes_total", id=APP, device="/dev/sda") == 1482752
    assert value(fams, "container_fs_writes_bytes_total", id=APP, device="/dev/sda") == 4096
    assert value(fams, "container_fs_reads_total", id=APP, device="/dev/sda") == 90
    assert value(fams, "container_fs_writes_total", id=APP, device="/dev/sda") == 1
    assert not matching(fams, "container_fs_reads_total", id=SANDBOX)


def test_spec(fams: list[Family]) -> None:
    assert value(fams, "container_spec_cpu_shares", id=APP) == 8
    assert value(fams, "container_spec_cpu_period", id=APP) == 100000
    assert value(fams, "container_spec_cpu_quota", id=APP) == 100000
    assert not matching(fams, "container_spec_cpu_quota", id="/")
    assert value(fams, "container_spec_memory_limit_bytes", id=APP) == 268435456
    assert value(fams, "container_spec_memory_reservation_limit_bytes", id=APP) == 67108864
    # v1's "unlimited" (a page multiple below 2^63) is reported as 0.
    assert value(fams, "container_spec_memory_limit_bytes", id="/") == 0
    assert value(fams, "container_spec_memory_swap_limit_bytes", id=APP) == 0


def test_network_on_the_sandbox_and_root(fams: list[Family]) -> None:
    rx = "container_network_receive_bytes_total"
    assert ids(fams, rx) == {"/", SANDBOX}
    assert value(fams, rx, id=SANDBOX, interface="eth0") == 1000


def test_pressure_from_the_unified_tree_on_hybrid_hosts(tmp_path: Path) -> None:
    fams = _collect(tmp_path)
    assert ids(fams, "container_pressure_cpu_waiting_seconds_total") == {"/"}
    assert value(fams, "container_pressure_cpu_waiting_seconds_total", id="/") == 5.0
    plain = _collect(tmp_path / "plain", hybrid=False)
    assert not matching(plain, "container_pressure_cpu_waiting_seconds_total")


def test_hybrid_pressure_for_cgroups_mirrored_in_the_unified_tree(tmp_path: Path) -> None:
    # systemd mirrors its cgroups into the unified tree of a hybrid host.
    cg = t.v1_host(tmp_path)
    t.write(cg / "unified", {f"{APP}/cpu.pressure": t.psi(9_000_000, 1_000_000),
                             f"{APP}/memory.pressure": t.psi(0, 0)})
    fams = ContainerCollector(PodIndex(t.PODS), cgroup_root=str(cg),
                              proc=str(t.proc_tree(tmp_path)),
                              sys_root=str(t.sys_tree(tmp_path))).collect()
    assert value(fams, "container_pressure_cpu_waiting_seconds_total", id=APP) == 9.0
    assert value(fams, "container_pressure_cpu_stalled_seconds_total", id=APP) == 1.0
    assert not matching(fams, "container_pressure_io_waiting_seconds_total", id=APP)
    # a cgroup only in the unified tree is not a cgroup of the v1 hierarchy
    assert f"{t.V1_POD}" in ids(fams, "container_last_seen")
    assert ids(fams, "container_last_seen") == {
        "/", "/kubepods", "/kubepods/burstable", t.V1_POD, SANDBOX, APP}


def test_blkio_sources_empty_at_the_root_are_not_read_below_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesight.collect.containers import _read

    cg = t.v1_host(tmp_path)
    t.write(cg / "blkio", {
        "blkio.throttle.io_service_bytes_recursive": "8:0 Read 2000000\n8:0 Write 8192\nTotal 2008192\n",
        "blkio.throttle.io_serviced_recursive": "8:0 Read 100\n8:0 Write 2\nTotal 102\n"})
    c = ContainerCollector(PodIndex(t.PODS), cgroup_root=str(cg), proc=str(t.proc_tree(tmp_path)),
                           sys_root=str(t.sys_tree(tmp_path)))
    read: list[tuple[str, str]] = []
    real_raw = _read._Cg.raw

    def raw(self: _read._Cg, name: str) -> bytes | None:
        read.append((self.where, name))
        return real_raw(self, name)

    monkeypatch.setattr(_read._Cg, "raw", raw)
    fams = c.collect()
    assert value(fams, "container_fs_reads_bytes_total", id="/", device="/dev/sda") == 2000000
    assert value(fams, "container_fs_reads_bytes_total", id=APP, device="/dev/sda") == 1482752
    app_files = {n for w, n in read if w.endswith("blkio" + APP)}
    assert "blkio.throttle.io_service_bytes_recursive" in app_files
    assert "blkio.bfq.io_service_bytes_recursive" not in app_files  # empty at the root
    root_files = {n for w, n in read if w.endswith("/blkio")}
    assert "blkio.bfq.io_service_bytes_recursive" in root_files
