"""The collector on a cgroup v2 node (systemd driver, containerd), every family checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubesight.collect.containers import ContainerCollector, PodIndex, detect
from kubesight.collect.family import Family, encode
from kubesight.wire.exposition import Format, parse
from tests.collect.containers import cgtree as t
from tests.collect.containers.helpers import ids, label_sets, matching, value

NOW = 1_800_000_000.5
APP_PATH = f"{t.V2_POD}/cri-containerd-{t.APP}.scope"
SANDBOX_PATH = f"{t.V2_POD}/cri-containerd-{t.SANDBOX}.scope"
SIDECAR_PATH = f"{t.V2_POD}/cri-containerd-{t.SIDECAR}.scope"
POD2_APP_PATH = f"{t.V2_POD2}/cri-containerd-{t.POD2_APP}.scope"
DOCKER_PATH = f"/system.slice/docker-{t.DOCKER}.scope"


def _collector(tmp_path: Path, pods: bool = True) -> ContainerCollector:
    cg = t.v2_host(tmp_path)
    return ContainerCollector(PodIndex(t.PODS) if pods else None, cgroup_root=str(cg),
                              proc=str(t.proc_tree(tmp_path)), sys_root=str(t.sys_tree(tmp_path)),
                              clock=lambda: NOW)


@pytest.fixture
def fams(tmp_path: Path) -> list[Family]:
    return _collector(tmp_path).collect()


def test_detects_v2(tmp_path: Path) -> None:
    h = detect(str(t.v2_host(tmp_path)))
    assert h.version == 2 and h.unified.endswith("cgroup")


def test_every_cgroup_is_reported_root_qos_pods_containers_units(fams: list[Family]) -> None:
    assert ids(fams, "container_last_seen") == {
        "/", "/kubepods.slice", "/kubepods.slice/kubepods-burstable.slice", t.V2_POD,
        SANDBOX_PATH, APP_PATH, SIDECAR_PATH, t.V2_POD2, POD2_APP_PATH, "/system.slice",
        "/system.slice/containerd.service", DOCKER_PATH}
    assert value(fams, "container_last_seen", id=APP_PATH) == 1_800_000_000
    assert value(fams, "kubesight_container_collector_cgroups") == 12
    assert value(fams, "container_scrape_error") == 0


def test_labels_as_the_kubelet_gives_them(fams: list[Family]) -> None:
    app = label_sets(fams, "container_memory_usage_bytes", APP_PATH)
    assert app == [{"__name__": "container_memory_usage_bytes", "container": "nginx",
                    "id": APP_PATH, "image": "docker.io/library/nginx:1.25", "name": t.APP,
                    "namespace": "shop", "pod": "web-7d9c"}]
    # The sandbox is not in the pod's status: the pod's labels, no container name.
    assert label_sets(fams, "container_memory_usage_bytes", SANDBOX_PATH) == [
        {"__name__": "container_memory_usage_bytes", "id": SANDBOX_PATH, "name": t.SANDBOX,
         "namespace": "shop", "pod": "web-7d9c"}]
    # The pod cgroup: namespace and pod only (the kubelet's GetPodByCgroupfs).
    assert label_sets(fams, "container_memory_usage_bytes", t.V2_POD) == [
        {"__name__": "container_memory_usage_bytes", "id": t.V2_POD, "namespace": "shop",
         "pod": "web-7d9c"}]
    assert label_sets(fams, "container_memory_usage_bytes", POD2_APP_PATH)[0]["container"] == "postgres"
    # Outside pods: units and containers by name, slices by path only.
    assert label_sets(fams, "container_memory_usage_bytes", "/system.slice/containerd.service")[0][
        "name"] == "containerd.service"
    assert label_sets(fams, "container_memory_usage_bytes", DOCKER_PATH)[0]["name"] == t.DOCKER
    assert "name" not in label_sets(fams, "container_memory_usage_bytes", "/kubepods.slice")[0]


def test_cpu(fams: list[Family]) -> None:
    assert value(fams, "container_cpu_usage_seconds_total", id=APP_PATH, cpu="total") == 1.5
    assert value(fams, "container_cpu_user_seconds_total", id=APP_PATH) == 1.1
    assert value(fams, "container_cpu_system_seconds_total", id=APP_PATH) == 0.4
    assert value(fams, "container_cpu_usage_seconds_total", id="/", cpu="total") == 9.0
    assert value(fams, "container_cpu_user_seconds_total", id="/") == 6.0
    # CFS throttling only where a quota is set (cAdvisor's condition).
    assert value(fams, "container_cpu_cfs_periods_total", id=APP_PATH) == 400
    assert value(fams, "container_cpu_cfs_throttled_periods_total", id=APP_PATH) == 10
    assert value(fams, "container_cpu_cfs_throttled_seconds_total", id=APP_PATH) == 1.0
    assert value(fams, "container_cpu_cfs_throttled_seconds_total", id=t.V2_POD) == 1.5
    assert not matching(fams, "container_cpu_cfs_periods_total", id=SANDBOX_PATH)
    assert not matching(fams, "container_cpu_cfs_periods_total", id="/")


def test_memory(fams: list[Family]) -> None:
    usage = (30 << 20) + (20 << 20) + 1069056
    assert value(fams, "container_memory_usage_bytes", id=APP_PATH) == usage
    assert value(fams, "container_memory_working_set_bytes", id=APP_PATH) == usage - (5 << 20)
    assert value(fams, "container_memory_rss", id=APP_PATH) == 30 << 20
    assert value(fams, "container_memory_cache", id=APP_PATH) == 20 << 20
    assert value(fams, "container_memory_mapped_file", id=APP_PATH) == 4 << 20
    assert value(fams, "container_memory_swap", id=APP_PATH) == 4096
    assert value(fams, "container_memory_failcnt", id=APP_PATH) == 0  # v2 has none
    assert value(fams, "container_oom_events_total", id=APP_PATH) == 2
    # Working set floored at 0 when inactive_file exceeds usage.
    assert value(fams, "container_memory_working_set_bytes", id=SIDECAR_PATH) == 0


def test_root_memory_is_emulated_as_runc_does(fams: list[Family]) -> None:
    # No memory.current at the root: anon + file; swap from /proc/meminfo.
    assert value(fams, "container_memory_usage_bytes", id="/") == 1000 << 20
    assert value(fams, "container_memory_working_set_bytes", id="/") == 900 << 20
    assert value(fams, "container_memory_swap", id="/") == 400 * 1024


def test_io_per_device(fams: list[Family]) -> None:
    assert value(fams, "container_fs_reads_bytes_total", id=APP_PATH, device="/dev/sda") == 1482752
    assert value(fams, "container_fs_writes_bytes_total", id=APP_PATH, device="/dev/sda") == 4096
    assert value(fams, "container_fs_reads_total", id=APP_PATH, device="/dev/sda") == 90
    assert value(fams, "container_fs_writes_total", id=APP_PATH, device="/dev/sda") == 1
    assert value(fams, "container_fs_reads_bytes_total", id=APP_PATH, device="/dev/dm-0") == 512
    # An empty io.stat: no series.
    assert not matching(fams, "container_fs_reads_bytes_total", id=SANDBOX_PATH)


def test_pressure(fams: list[Family]) -> None:
    assert value(fams, "container_pressure_cpu_waiting_seconds_total", id=APP_PATH) == 7.0
    assert value(fams, "container_pressure_cpu_stalled_seconds_total", id=APP_PATH) == 3.5
    assert value(fams, "container_pressure_memory_waiting_seconds_total", id=APP_PATH) == 0.002
    assert value(fams, "container_pressure_memory_stalled_seconds_total", id=APP_PATH) == 0.001
    assert value(fams, "container_pressure_io_waiting_seconds_total", id="/") == 0.0003
    assert value(fams, "container_pressure_io_stalled_seconds_total", id="/") == 0.0002


def test_network_once_per_pod_on_its_sandbox_and_on_the_root(fams: list[Family]) -> None:
    rx = "container_network_receive_bytes_total"
    assert set(ids(fams, rx)) == {"/", SANDBOX_PATH, t.V2_POD2, DOCKER_PATH}
    sb = {"id": SANDBOX_PATH, "interface": "eth0"}
    assert value(fams, rx, **sb) == 1000
    assert value(fams, "container_network_receive_packets_total", **sb) == 10
    assert value(fams, "container_network_receive_packets_dropped_total", **sb) == 1
    assert value(fams, "container_network_transmit_bytes_total", **sb) == 2000
    assert value(fams, "container_network_transmit_packets_total", **sb) == 20
    assert value(fams, "container_network_transmit_packets_dropped_total", **sb) == 2
    assert dict(next(iter(matching(fams, rx, **sb))))["pod"] == "web-7d9c"
    # lo and the host end of veth pairs are left out, as cAdvisor does.
    assert {dict(lb)["interface"] for lb in matching(fams, rx, id="/")} == {"eth0"}
    host = {"id": "/", "interface": "eth0"}
    assert value(fams, "container_network_receive_errors_total", **host) == 1
    assert value(fams, "container_network_transmit_errors_total", **host) == 3
    # A pod without a pause process: on the pod cgroup, through its container's process.
    assert value(fams, rx, id=t.V2_POD2, interface="eth0") == 400


def test_spec(fams: list[Family]) -> None:
    assert value(fams, "container_spec_cpu_period", id=APP_PATH) == 100000
    assert value(fams, "container_spec_cpu_quota", id=APP_PATH) == 100000
    assert value(fams, "container_spec_cpu_shares", id=APP_PATH) == 185  # weight 8
    assert value(fams, "container_spec_cpu_shares", id=SANDBOX_PATH) == 2  # weight 1
    assert value(fams, "container_spec_cpu_shares", id="/kubepods.slice") == 2597  # weight 100
    assert not matching(fams, "container_spec_cpu_quota", id=SANDBOX_PATH)  # max: no quota
    assert value(fams, "container_spec_memory_limit_bytes", id=APP_PATH) == 268435456
    assert value(fams, "container_spec_memory_reservation_limit_bytes", id=APP_PATH) == 67108864
    assert value(fams, "container_spec_memory_swap_limit_bytes", id=APP_PATH) == 0  # max
    assert value(fams, "container_spec_memory_limit_bytes", id=SANDBOX_PATH) == 0  # max
    # The root: the cpu directory exists (period and shares 0), no memory.max.
    assert value(fams, "container_spec_cpu_period", id="/") == 0
    assert not matching(fams, "container_spec_memory_limit_bytes", id="/")


def test_start_time_is_the_cgroup_creation_floored_at_boot(tmp_path: Path) -> None:
    import os
    c = _collector(tmp_path)
    app_dir = Path(c.hierarchy.unified + APP_PATH)
    os.utime(app_dir, (1_799_999_000.7, 1_799_999_000.7))
    os.utime(app_dir / "cgroup.events", (1_799_999_100, 1_799_999_100))
    os.utime(Path(c.hierarchy.unified + t.V2_POD), (1_000, 1_000))  # before boot
    fams = c.collect()
    assert value(fams, "container_start_time_seconds", id=APP_PATH) == 1_799_999_000
    assert value(fams, "container_creation_time_seconds", id=APP_PATH) == 1_799_999_000
    # boot = NOW - uptime 3600, truncated to the minute
    assert value(fams, "container_start_time_seconds", id=t.V2_POD) == (NOW - 3600) // 60 * 60


def test_without_kubernetes_containers_are_named_by_id(tmp_path: Path) -> None:
    fams = _collector(tmp_path, pods=False).collect()
    assert label_sets(fams, "container_memory_usage_bytes", APP_PATH) == [
        {"__name__": "container_memory_usage_bytes", "id": APP_PATH, "name": t.APP}]
    assert label_sets(fams, "container_memory_usage_bytes", t.V2_POD) == [
        {"__name__": "container_memory_usage_bytes", "id": t.V2_POD}]


def test_prefixes_limit_the_report(tmp_path: Path) -> None:
    c = _collector(tmp_path)
    c.prefixes = ("/kubepods.slice",)
    fams = c.collect()
    assert "/system.slice/containerd.service" not in ids(fams, "container_last_seen")
    assert {"/", APP_PATH} <= ids(fams, "container_last_seen")


def test_exposition_parses_back_with_help_and_type(fams: list[Family]) -> None:
    text = encode(fams)
    assert b"# HELP container_memory_working_set_bytes Current working set in bytes.\n" \
           b"# TYPE container_memory_working_set_bytes gauge\n" in text
    parsed = parse(text, Format.TEXT_004, default_timestamp_ms=0)
    assert len(parsed.batch) == sum(len(f.samples) for f in fams)
    for f in fams:  # every label set is sorted and carries its family's name
        for lb, _ in f.samples:
            assert list(lb) == sorted(lb) and dict(lb)["__name__"].startswith(f.name)


def test_limits_are_read_again_after_spec_ttl(tmp_path: Path) -> None:
    now = [NOW]
    cg = t.v2_host(tmp_path)
    c = ContainerCollector(PodIndex(t.PODS), cgroup_root=str(cg), proc=str(t.proc_tree(tmp_path)),
                           sys_root=str(t.sys_tree(tmp_path)), spec_ttl=60, clock=lambda: now[0])
    assert value(c.collect(), "container_spec_cpu_quota", id=APP_PATH) == 100000
    (cg / APP_PATH.lstrip("/") / "cpu.max").write_text("max 100000\n")
    (cg / APP_PATH.lstrip("/") / "memory.max").write_text("536870912\n")
    now[0] += 30  # within the TTL: the limits read first
    fams = c.collect()
    assert value(fams, "container_spec_cpu_quota", id=APP_PATH) == 100000
    assert value(fams, "container_cpu_cfs_periods_total", id=APP_PATH) == 400
    now[0] += 31  # past it: read again, and throttling goes with the quota
    fams = c.collect()
    assert not matching(fams, "container_spec_cpu_quota", id=APP_PATH)
    assert not matching(fams, "container_cpu_cfs_periods_total", id=APP_PATH)
    assert value(fams, "container_spec_memory_limit_bytes", id=APP_PATH) == 536870912
    # spec_ttl=0: every collection (once the limits read with the old TTL expire)
    c.spec_ttl = 0
    now[0] += 61
    c.collect()
    (cg / APP_PATH.lstrip("/") / "memory.max").write_text("1024\n")
    assert value(c.collect(), "container_spec_memory_limit_bytes", id=APP_PATH) == 1024


def test_without_swap_space_swap_is_zero_and_not_read(tmp_path: Path) -> None:
    c = _collector(tmp_path)
    (tmp_path / "proc" / "meminfo").write_text("MemTotal: 8000000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n")
    (Path(c.hierarchy.unified + APP_PATH) / "memory.swap.current").write_text("garbage\n")
    fams = c.collect()
    assert value(fams, "container_memory_swap", id=APP_PATH) == 0
    assert value(fams, "container_scrape_error") == 0


def test_collections_from_several_threads_run_one_at_a_time(tmp_path: Path) -> None:
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from kubesight.collect.containers import Identity, NameResolver

    c = _collector(tmp_path, pods=False)
    inside = [0, 0]  # now, most at once
    lock = threading.Lock()

    class Slow:
        def resolve(self, ref: object) -> Identity:
            with lock:
                inside[0] += 1
                inside[1] = max(inside)
            time.sleep(0.001)  # leave room for another collection to interleave
            with lock:
                inside[0] -= 1
            return NameResolver().resolve(ref)  # type: ignore[arg-type]

    c.resolver = Slow()  # type: ignore[assignment]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: c.collect(), range(4)))
    assert inside[1] == 1
    assert all(value(fams, "kubesight_container_collector_cgroups") == 12 for fams in results)


def test_from_options(tmp_path: Path) -> None:
    from kubesight.collect.containers import ContainerOptions

    cg = t.v2_host(tmp_path)
    o = ContainerOptions(cgroupfs=str(cg), procfs=str(t.proc_tree(tmp_path)),
                         sysfs=str(t.sys_tree(tmp_path)), prefixes=frozenset({"/kubepods.slice"}),
                         spec_ttl=0)
    c = ContainerCollector.from_options(o, PodIndex(t.PODS))
    fams = c.collect()
    assert ids(fams, "container_last_seen") == {"/"} | {
        p for p in ids(fams, "container_last_seen") if p.startswith("/kubepods.slice")}
    assert label_sets(fams, "container_memory_rss", APP_PATH)[0]["container"] == "nginx"
    assert c.spec_ttl == 0


@pytest.mark.parametrize(("kw", "msg"), [
    ({"spec_ttl": -1}, "spec_ttl must be a number of seconds >= 0"),
    ({"spec_ttl": "1m"}, "spec_ttl must be a number"),
    ({"prefixes": frozenset({"kubepods"})}, "prefixes must be cgroup paths starting with '/'"),
    ({"cgroupfs": ""}, "cgroupfs must be a non-empty path"),
])
def test_bad_options_say_what(kw: dict[str, object], msg: str) -> None:
    from kubesight.collect.containers import ContainerOptions
    from kubesight.errors import ConfigError

    with pytest.raises(ConfigError, match=msg):
        ContainerOptions(**kw)  # type: ignore[arg-type]


def test_devices_without_a_name_are_summed_into_one_series(tmp_path: Path) -> None:
    c = _collector(tmp_path)
    (Path(c.hierarchy.unified + APP_PATH) / "io.stat").write_text(
        "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n"
        "7:0 rbytes=100 wbytes=200 rios=10 wios=20 dbytes=0 dios=0\n"  # loop0: not named
        "7:1 rbytes=1000 wbytes=2000 rios=100 wios=200 dbytes=0 dios=0\n")
    fams = c.collect()
    reads = matching(fams, "container_fs_reads_bytes_total", id=APP_PATH)
    assert sorted((dict(lb).get("device", ""), v) for lb, v in reads.items()) == [
        ("", 1100), ("/dev/sda", 10)]
    assert value(fams, "container_fs_writes_total", id=APP_PATH, device="/dev/sda") == 2


@pytest.mark.parametrize("version", [1, 2])
def test_a_collection_has_no_duplicate_series(tmp_path: Path, version: int) -> None:
    from kubesight.collect.family import to_batch

    cg = t.v2_host(tmp_path) if version == 2 else t.v1_host(tmp_path)
    fams = ContainerCollector(PodIndex(t.PODS), cgroup_root=str(cg), proc=str(t.proc_tree(tmp_path)),
                              sys_root=str(t.sys_tree(tmp_path))).collect()
    batch = to_batch(fams, 1_000, (("instance", "node-a"), ("job", "cadvisor")))
    assert len(set(batch.series)) == len(batch.series) > 100
    assert all(v for lb in batch.series for _, v in lb)  # no empty label values


def test_a_disk_attached_later_is_named_once_the_names_are_read_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesight.collect.containers import _read

    c = _collector(tmp_path)
    (Path(c.hierarchy.unified + APP_PATH) / "io.stat").write_text(
        "8:16 rbytes=5 wbytes=6 rios=1 wios=2 dbytes=0 dios=0\n")
    t.write(tmp_path / "sys", {"block/sdb/dev": "8:16\n"})
    clock = [1000.0]
    monkeypatch.setattr(_read.time, "monotonic", lambda: clock[0])
    c.reader._devices_at = clock[0]
    assert not matching(c.collect(), "container_fs_reads_total", id=APP_PATH, device="/dev/sdb")
    clock[0] += 61
    assert value(c.collect(), "container_fs_reads_total", id=APP_PATH, device="/dev/sdb") == 1
