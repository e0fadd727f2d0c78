"""Missing, unreadable, truncated and vanishing files: the collector skips, says so, and goes on."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import pytest

from kubesight.collect.host import COLLECTORS, HostCollector, system
from tests.collect.host._util import copy_fixtures, fixture_options, names, success, value

_SKIP = frozenset({"filesystem", "time", "timex", "uname", "textfile"})
_ALL_OK = {c: 1.0 for c in COLLECTORS if c not in _SKIP}


def _collector(root: Path) -> HostCollector:
    return HostCollector(fixture_options(root, disable=_SKIP))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_fixtures(tmp_path)


def test_a_missing_file_fails_only_its_collector(root: Path) -> None:
    (root / "proc/meminfo").unlink()
    c = _collector(root)
    fams = c.collect()
    assert success(fams) == {**_ALL_OK, "meminfo": 0.0}
    assert not {n for n in names(fams) if n.startswith("node_memory_")}
    assert value(fams, "node_load1") == 1.72  # the others carried on
    assert c.errors["meminfo"] == f"{root}/proc/meminfo: cannot open: No such file or directory"


def test_an_unreadable_file_fails_its_collector(root: Path) -> None:
    # A directory where a file should be cannot be read, even by root.
    (root / "proc/vmstat").unlink()
    (root / "proc/vmstat").mkdir()
    c = _collector(root)
    assert success(c.collect())["vmstat"] == 0.0
    assert c.errors["vmstat"] == f"{root}/proc/vmstat: cannot read: Is a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_without_read_permission(root: Path) -> None:
    (root / "proc/loadavg").chmod(0)
    c = _collector(root)
    assert success(c.collect())["loadavg"] == 0.0
    assert "Permission denied" in c.errors["loadavg"]


@pytest.mark.parametrize(("file", "cut", "collector", "message"), [
    ("proc/stat", "cpu0 447461 9", "cpu", "line 2: too few fields for a CPU"),
    ("proc/meminfo", "MemAvailable:", "meminfo", "line 3: not 'Key: value [kB]'"),
    ("proc/net/dev", "  eth0: 971020700   29589", "netdev", "line 6: expected 'device: 16 counters'"),
    ("proc/diskstats", " 254       0 vda 457222", "diskstats", "line 9: 4 columns, expected at least 14"),
    ("proc/net/snmp", "Tcp: 1 200 120000", "netstat", "names and values lines do not pair up"),
    ("proc/loadavg", "1.72 1.2", "loadavg", "expected 3 load averages, got 2"),
    ("proc/pressure/io", "some avg10=0.38 avg60=0.36 avg300=0.37 tot", "pressure", "line 1: no total=<µs>"),
    ("proc/net/stat/nf_conntrack", "0000000a  00000000 00000010", "conntrack", "line 2: 3 values for 17 names"),
])
def test_a_truncated_file_fails_its_collector_with_file_and_line(
        root: Path, file: str, cut: str, collector: str, message: str) -> None:
    path = root / file
    text = path.read_text()
    assert cut in text
    path.write_text(text[:text.index(cut) + len(cut)])
    c = _collector(root)
    ok = success(c.collect())
    assert ok == {**_ALL_OK, collector: 0.0} or (collector == "cpu" and ok == {**_ALL_OK, "cpu": 0.0, "stat": 0.0})
    assert c.errors[collector].startswith(str(path))
    assert message in c.errors[collector]


def test_garbage_numbers_are_reported_not_raised(root: Path) -> None:
    (root / "proc/sys/fs/file-nr").write_text("609\t0\tlots\n")
    (root / "proc/vmstat").write_text("pgfault many\n")
    c = _collector(root)
    ok = success(c.collect())
    assert ok["filefd"] == 0.0 and ok["vmstat"] == 0.0
    assert "not numbers" in c.errors["filefd"] and "pgfault: not a number" in c.errors["vmstat"]


def test_what_was_read_before_a_failure_is_kept(root: Path) -> None:
    (root / "proc/net/stat/nf_conntrack").unlink()
    fams = _collector(root).collect()
    assert success(fams)["conntrack"] == 0.0
    assert value(fams, "node_nf_conntrack_entries_limit") == 262144  # as node_exporter sends it too


def test_no_pressure_support_is_success_0_like_node_exporter(root: Path) -> None:
    for f in (root / "proc/pressure").iterdir():
        f.unlink()
    assert success(_collector(root).collect())["pressure"] == 0.0


def test_a_file_vanishing_mid_read(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """/proc/<pid>/... of a process that exits during the read fails with ESRCH/ENODEV after a first chunk."""
    real_read, real_open = os.read, os.open
    target = str(root / "proc/diskstats")
    armed: dict[int, int] = {}  # fd of the target -> reads done

    def fake_open(path: str, flags: int, *a: int) -> int:
        fd = real_open(path, flags, *a)
        if path == target:
            armed[fd] = 0
        return fd

    def fake_read(fd: int, n: int) -> bytes:
        if fd not in armed:
            return real_read(fd, n)
        if armed[fd] == 0:
            armed[fd] = 1
            return real_read(fd, 40)  # a first chunk, then the file is gone
        del armed[fd]
        raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "read", fake_read)
    c = _collector(root)
    fams = c.collect()
    assert success(fams)["diskstats"] == 0.0
    assert c.errors["diskstats"] == f"{target}: cannot read: {os.strerror(errno.ENODEV)}"
    assert value(fams, "node_load5") == 1.23


def test_a_bug_in_one_collector_does_not_stop_the_others(
        root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(system, "collect_loadavg", boom)
    c = _collector(root)
    with caplog.at_level(logging.ERROR, "kubesight.collect.host"):
        fams = c.collect()
    assert success(fams) == {**_ALL_OK, "loadavg": 0.0}
    assert c.errors["loadavg"] == "unexpected RuntimeError: boom"


def test_errors_are_logged_once_and_recovery_is_noticed(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    meminfo = root / "proc/meminfo"
    saved = meminfo.read_bytes()
    meminfo.unlink()
    c = _collector(root)
    with caplog.at_level(logging.INFO, "kubesight.collect.host"):
        c.collect()
        c.collect()
        assert [r.getMessage() for r in caplog.records] == [
            f"host collector meminfo: {meminfo}: cannot open: No such file or directory"]
        meminfo.write_bytes(saved)
        fams = c.collect()
    assert success(fams)["meminfo"] == 1.0
    assert "meminfo" not in c.errors
    assert caplog.records[-1].getMessage() == "host collector meminfo: recovered"


def test_a_missing_procfs_root_fails_every_collector_without_raising(tmp_path: Path) -> None:
    c = _collector(tmp_path / "nowhere")
    assert success(c.collect()) == {k: 0.0 for k in _ALL_OK}


def test_meminfo_and_vmstat_layout_changes_between_collections(root: Path) -> None:
    c = _collector(root)
    c.collect()
    meminfo = root / "proc/meminfo"
    meminfo.write_text(meminfo.read_text() + "NewField:     5 kB\n")
    vmstat = root / "proc/vmstat"
    vmstat.write_text("pgfault 1\npgmajfault 2\n")
    fams = c.collect()
    assert value(fams, "node_memory_NewField_bytes") == 5 * 1024
    assert value(fams, "node_vmstat_pgmajfault") == 2
    assert "node_vmstat_oom_kill" not in names(fams)
    meminfo.write_text(meminfo.read_text().replace("NewField:     5 kB", "NewField:     x kB"))
    fams = c.collect()
    assert success(fams)["meminfo"] == 0.0
    assert c.errors["meminfo"] == f"{meminfo}: NewField_bytes: not a number: b'x'"
