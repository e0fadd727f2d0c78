"""Vanishing cgroups, unreadable files and garbage: skipped, counted, never raised."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kubesight.collect.containers import ContainerCollector, PodIndex, _read
from kubesight.collect.containers import collector as collector_mod
from kubesight.collect.family import Family
from tests.collect.containers import cgtree as t
from tests.collect.containers.helpers import ids, matching, value

APP = f"{t.V2_POD}/cri-containerd-{t.APP}.scope"
SIDECAR = f"{t.V2_POD}/cri-containerd-{t.SIDECAR}.scope"
SANDBOX = f"{t.V2_POD}/cri-containerd-{t.SANDBOX}.scope"


def _collector(tmp_path: Path) -> tuple[ContainerCollector, Path]:
    cg = t.v2_host(tmp_path)
    c = ContainerCollector(PodIndex(t.PODS), cgroup_root=str(cg), proc=str(t.proc_tree(tmp_path)),
                           sys_root=str(t.sys_tree(tmp_path)), clock=lambda: 1_800_000_000.0)
    return c, cg


def _errors(fams: list[Family]) -> dict[tuple[str, str], float]:
    return {(dict(lb)["reason"], dict(lb)["file"]): v
            for lb, v in matching(fams, "kubesight_container_collector_errors_total").items()}


def _all_ids(fams: list[Family]) -> set[str]:
    return {dict(lb).get("id", "") for f in fams for lb, _ in f.samples} - {""}


def test_a_cgroup_removed_mid_read_is_dropped_whole(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    c, _ = _collector(tmp_path)
    real_raw = _read._Cg.raw

    def raw(self: _read._Cg, name: str) -> bytes | None:
        # The container ends after its cpu.stat was read, before its memory files.
        if self.where.endswith(APP) and name == "memory.stat" and os.path.isdir(self.where):
            shutil.rmtree(self.where)
        return real_raw(self, name)

    monkeypatch.setattr(_read._Cg, "raw", raw)
    fams = c.collect()
    assert APP not in _all_ids(fams)  # not even its cpu series
    assert SIDECAR in ids(fams, "container_memory_usage_bytes")
    assert _errors(fams) == {("vanished", "(cgroup)"): 1}
    assert value(fams, "container_scrape_error") == 0  # churn, not a failure


def test_a_cgroup_removed_between_walk_and_read(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    c, cg = _collector(tmp_path)
    real_walk = collector_mod.walk

    def walk(tree: str, out: set[str], on_error: Callable[[str, OSError], None] | None = None) -> None:
        real_walk(tree, out, on_error)
        shutil.rmtree(cg / SIDECAR.lstrip("/"), ignore_errors=True)

    monkeypatch.setattr(collector_mod, "walk", walk)
    fams = c.collect()
    assert SIDECAR not in _all_ids(fams)
    assert APP in ids(fams, "container_memory_usage_bytes")
    assert _errors(fams) == {("vanished", "(cgroup)"): 1}


def test_the_whole_tree_gone_yields_only_the_collector_series(tmp_path: Path) -> None:
    c, cg = _collector(tmp_path)
    shutil.rmtree(cg)
    fams = c.collect()
    assert _all_ids(fams) == set()
    assert value(fams, "kubesight_container_collector_cgroups") == 0


def test_unreadable_files_skip_their_values_only(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    c, cg = _collector(tmp_path)
    # A directory where memory.stat should be: EISDIR on read.
    stat = cg / APP.lstrip("/") / "memory.stat"
    stat.unlink()
    stat.mkdir()
    real_open = os.open

    def deny(path: str, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if path == "cpu.stat" and dir_fd is not None and \
                os.readlink(f"/proc/self/fd/{dir_fd}").endswith(SIDECAR):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(_read.os, "open", deny)
    fams = c.collect()
    assert not matching(fams, "container_memory_rss", id=APP)
    assert not matching(fams, "container_memory_working_set_bytes", id=APP)
    assert value(fams, "container_memory_usage_bytes", id=APP) > 0
    assert value(fams, "container_cpu_user_seconds_total", id=APP) == 1.1
    assert not matching(fams, "container_cpu_user_seconds_total", id=SIDECAR)
    assert value(fams, "container_memory_usage_bytes", id=SIDECAR) == 2 << 20
    assert _errors(fams) == {("unreadable", "memory.stat"): 1, ("unreadable", "cpu.stat"): 1}
    assert value(fams, "container_scrape_error") == 1
    # The count is cumulative; the gauge is about the last collection.
    monkeypatch.setattr(_read.os, "open", real_open)
    fams = c.collect()
    assert _errors(fams)[("unreadable", "memory.stat")] == 2
    assert _errors(fams)[("unreadable", "cpu.stat")] == 1


GARBAGE = [
    # (file, content, family no longer reported for APP, family still reported)
    ("cpu.stat", "usage_usec lots\nuser_usec 1100000\nsystem_usec 400000\n",
     "container_cpu_usage_seconds_total", "container_memory_rss"),
    ("cpu.stat", "usage_usec 1\nuser_usec 1\nsystem_usec 1\nnr_periods x\n",
     "container_cpu_cfs_periods_total", "container_memory_rss"),
    ("cpu.stat", "usage_usec\n", "container_cpu_user_seconds_total", "container_memory_rss"),
    ("memory.stat", "anon 5\nfile\n", "container_memory_rss", "container_memory_usage_bytes"),
    ("memory.current", "-4\n", "container_memory_usage_bytes", "container_memory_rss"),
    ("memory.current", "\x00\xff\n", "container_memory_working_set_bytes", "container_memory_cache"),
    ("io.stat", "sda rbytes=1\n", "container_fs_reads_bytes_total", "container_memory_rss"),
    ("io.stat", "8:0 rbytes=x\n", "container_fs_writes_total", "container_cpu_user_seconds_total"),
    ("cpu.pressure", "some avg10=0.00\n", "container_pressure_cpu_waiting_seconds_total",
     "container_pressure_io_waiting_seconds_total"),
    ("cpu.max", "fifty\n", "container_spec_cpu_quota", "container_spec_cpu_shares"),
    ("memory.events", "oom_kill many\n", "container_oom_events_total", "container_memory_rss"),
]


@pytest.mark.parametrize(("file", "content", "gone", "kept"), GARBAGE)
def test_garbage_is_counted_as_malformed(tmp_path: Path, file: str, content: str, gone: str,
                                         kept: str) -> None:
    c, cg = _collector(tmp_path)
    (cg / APP.lstrip("/") / file).write_bytes(content.encode("latin-1"))
    fams = c.collect()
    assert not matching(fams, gone, id=APP)
    assert matching(fams, kept, id=APP)
    assert _errors(fams) == {("malformed", file): 1}
    assert value(fams, "container_scrape_error") == 1


def test_garbage_in_net_dev_drops_only_that_pods_network(tmp_path: Path) -> None:
    c, _ = _collector(tmp_path)
    (tmp_path / "proc" / "100" / "net" / "dev").write_text("Inter-|\n face |\n  eth0: 1 2 3\n")
    fams = c.collect()
    assert ids(fams, "container_network_receive_bytes_total") == {
        "/", t.V2_POD2, f"/system.slice/docker-{t.DOCKER}.scope"}
    assert _errors(fams) == {("malformed", "net/dev"): 1}


def test_an_unlistable_directory_skips_its_subtree(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesight.collect.containers import hierarchy

    c, _ = _collector(tmp_path)
    real = hierarchy.os.scandir

    def scandir(path: str) -> object:
        if str(path).endswith("kubepods-burstable.slice"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(hierarchy.os, "scandir", scandir)
    fams = c.collect()
    assert APP not in _all_ids(fams)
    assert t.V2_POD2 in _all_ids(fams)
    assert _errors(fams) == {("unreadable", "(directory)"): 1}


def test_a_failing_resolver_costs_its_cgroups_only(tmp_path: Path) -> None:
    c, _ = _collector(tmp_path)

    class Broken:
        def resolve(self, ref: object) -> object:
            raise RuntimeError("bug")

    c.resolver = Broken()  # type: ignore[assignment]
    fams = c.collect()
    assert _all_ids(fams) == set()
    assert _errors(fams) == {("error", "RuntimeError"): 12}
    assert value(fams, "container_scrape_error") == 1


def test_v1_a_cgroup_removed_from_a_controller_tree_mid_read_is_dropped_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cg = t.v1_host(tmp_path)
    c = ContainerCollector(PodIndex(t.PODS), cgroup_root=str(cg), proc=str(t.proc_tree(tmp_path)),
                           sys_root=str(t.sys_tree(tmp_path)))
    app = f"{t.V1_POD}/{t.APP}"
    real_raw = _read._Cg.raw

    def raw(self: _read._Cg, name: str) -> bytes | None:
        # cpu,cpuacct was read; the runtime removes the memory cgroup next.
        if self.where.endswith("memory" + app) and name == "memory.stat" and os.path.isdir(self.where):
            shutil.rmtree(self.where)
        return real_raw(self, name)

    monkeypatch.setattr(_read._Cg, "raw", raw)
    fams = c.collect()
    assert app not in _all_ids(fams)
    assert f"{t.V1_POD}/{t.SANDBOX}" in _all_ids(fams)
    assert _errors(fams) == {("vanished", "(cgroup)"): 1}


def test_no_cgroups_at_start_is_not_fatal_and_is_looked_for_again(tmp_path: Path) -> None:
    root = tmp_path / "cg"
    c = ContainerCollector(cgroup_root=str(root), proc=str(t.proc_tree(tmp_path)),
                           sys_root=str(t.sys_tree(tmp_path)))
    fams = c.collect()
    assert value(fams, "container_scrape_error") == 1
    assert _errors(fams) == {("unreadable", "(hierarchy)"): 1}
    assert _all_ids(fams) == set()
    t.v2_host(tmp_path)  # mounted later (here: written where the collector looks)
    (tmp_path / "cgroup").rename(root)
    fams = c.collect()
    assert value(fams, "container_scrape_error") == 0
    assert "/" in ids(fams, "container_last_seen") and c.hierarchy.version == 2
