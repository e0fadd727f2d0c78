"""This machine's own /sys/fs/cgroup: the collector runs and agrees with /proc."""

from __future__ import annotations

import os

import pytest

from kubesight.collect.containers import ContainerCollector, detect
from kubesight.collect.family import encode
from kubesight.wire.exposition import Format, parse
from tests.collect.containers.helpers import value

pytestmark = pytest.mark.skipif(not os.path.isdir("/sys/fs/cgroup"), reason="no cgroups here")


def _proc_stat_busy_seconds() -> float:
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = f[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _meminfo() -> dict[str, int]:
    out = {}
    with open("/proc/meminfo") as fh:
        for line in fh:
            k, _, rest = line.partition(":")
            out[k] = int(rest.split()[0]) * 1024
    return out


def test_root_cpu_and_memory_agree_with_proc() -> None:
    c = ContainerCollector()
    fams = c.collect()
    busy = _proc_stat_busy_seconds()
    cpu = value(fams, "container_cpu_usage_seconds_total", id="/")
    # The root cgroup's CPU time is all tasks' CPU time: /proc/stat's non-idle
    # time, give or take interrupts accounted to no task.
    assert busy / 4 < cpu < busy * 4, (cpu, busy)
    user = value(fams, "container_cpu_user_seconds_total", id="/")
    system = value(fams, "container_cpu_system_seconds_total", id="/")
    assert 0.5 < (user + system) / cpu < 2, (user, system, cpu)

    mem = _meminfo()
    used = mem["MemTotal"] - mem["MemFree"]
    usage = value(fams, "container_memory_usage_bytes", id="/")
    assert used / 10 < usage <= mem["MemTotal"] + mem.get("SwapTotal", 0), (usage, used)
    ws = value(fams, "container_memory_working_set_bytes", id="/")
    assert 0 <= ws <= usage
    assert value(fams, "container_memory_rss", id="/") <= usage + mem["MemTotal"] // 100
    assert value(fams, "container_scrape_error") == 0


def test_every_cgroup_of_this_machine_is_reported_and_encodes() -> None:
    c = ContainerCollector()

    def cgroups() -> set[str]:
        out = set()
        for tree in c.hierarchy.trees():
            for d, _, _ in os.walk(tree):
                out.add(d[len(tree):] or "/")
        return out

    # Other processes make and remove cgroups meanwhile: what lived through the
    # collection must be there, and nothing that existed at neither end.
    before = cgroups()
    fams = c.collect()
    after = cgroups()
    seen = {dict(lb)["id"] for lb, _ in next(f for f in fams if f.name == "container_last_seen").samples}
    assert before & after <= seen, (before & after) - seen
    assert seen <= before | after, seen - (before | after)
    text = encode(fams)
    assert len(parse(text, Format.TEXT_004, default_timestamp_ms=0).batch) > len(seen)


def test_detection_matches_the_mounts() -> None:
    h = detect()
    with open("/proc/self/mounts") as fh:
        fstypes = {line.split()[1]: line.split()[2] for line in fh}
    if fstypes.get("/sys/fs/cgroup") == "cgroup2":
        assert h.version == 2
    else:
        assert h.version == 1
        assert all(fstypes.get(p) == "cgroup" for p in h.v1.values()), h.v1
        if fstypes.get("/sys/fs/cgroup/unified") == "cgroup2":
            assert h.unified == "/sys/fs/cgroup/unified"
            if os.path.exists("/sys/fs/cgroup/unified/cpu.pressure"):
                fams = ContainerCollector().collect()
                assert value(fams, "container_pressure_cpu_waiting_seconds_total", id="/") >= 0


def _writable_tree() -> str | None:
    try:
        h = detect()
    except Exception:
        return None
    tree = h.unified if h.version == 2 else h.v1.get("memory", "")
    return tree if tree and os.access(tree, os.W_OK) else None


@pytest.mark.skipif(_writable_tree() is None, reason="cannot create cgroups here")
def test_a_real_cgroup_removed_mid_read_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the kernel's cgroupfs (not a fixture): an empty cgroup made for the test, removed
    after its directory was opened: ENOENT on its files, the cgroup dropped whole."""
    from kubesight.collect.containers import _read

    tree = _writable_tree()
    assert tree is not None
    name = f"/kubesight-test-{os.getpid()}"
    os.mkdir(tree + name)
    try:
        fams = ContainerCollector().collect()
        assert name in {dict(lb)["id"] for f in fams if f.name == "container_last_seen"
                        for lb, _ in f.samples}
        real_raw = _read._Cg.raw

        def raw(self: _read._Cg, file: str) -> bytes | None:
            if self.where == tree + name and os.path.isdir(self.where):
                os.rmdir(self.where)
            return real_raw(self, file)

        monkeypatch.setattr(_read._Cg, "raw", raw)
        fams = ContainerCollector().collect()
        assert name not in {dict(lb).get("id") for f in fams for lb, _ in f.samples}
        errors = {(dict(lb)["reason"], dict(lb)["file"]): v for f in fams
                  if f.name == "kubesight_container_collector_errors_total" for lb, v in f.samples}
        assert errors.get(("vanished", "(cgroup)")) == 1
        assert value(fams, "container_scrape_error") == 0
    finally:
        if os.path.isdir(tree + name):
            os.rmdir(tree + name)


@pytest.mark.skipif(_writable_tree() is None, reason="cannot create cgroups here")
def test_a_real_container_cgroup_with_a_process() -> None:
    """A cgroup named like a container, with a child process moved in that then
    touches 64 MiB: the kernel charges them to the cgroup, the collector reports them,
    and the container's network is its process' (here the host's) interfaces."""
    import subprocess
    import sys

    tree = _writable_tree()
    assert tree is not None
    cid = f"{os.getpid():064x}"
    path = tree + "/" + cid
    os.mkdir(path)
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; sys.stdin.readline(); b = bytearray(64 << 20); "
         "b[::4096] = b'x' * len(b[::4096]); print('ok', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdin is not None and child.stdout is not None
        if not os.path.exists(path + "/memory.current") and not os.path.exists(
                path + "/memory.usage_in_bytes"):
            pytest.skip("no memory controller in the new cgroup")
        with open(path + "/cgroup.procs", "w") as fh:
            fh.write(str(child.pid))
        child.stdin.write(b"go\n")
        child.stdin.flush()
        assert child.stdout.readline() == b"ok\n"
        fams = ContainerCollector().collect()
        cg = "/" + cid
        assert value(fams, "container_memory_usage_bytes", id=cg) >= 64 << 20
        assert value(fams, "container_memory_rss", id=cg) >= 60 << 20
        assert value(fams, "container_memory_working_set_bytes", id=cg) >= 60 << 20
        labels = next(dict(lb) for f in fams if f.name == "container_memory_usage_bytes"
                      for lb, _ in f.samples if dict(lb)["id"] == cg)
        assert labels == {"__name__": "container_memory_usage_bytes", "id": cg, "name": cid}
        with open(f"/proc/{child.pid}/net/dev") as fh:
            ifaces = {line.split(":")[0].strip() for line in fh.readlines()[2:]}
        want = {i for i in ifaces if not i.lower().startswith(("lo", "veth", "docker", "nerdctl"))}
        got = {dict(lb)["interface"] for f in fams if f.name == "container_network_receive_bytes_total"
               for lb, _ in f.samples if dict(lb)["id"] == cg}
        assert got == want
    finally:
        child.kill()
        child.wait()
        os.rmdir(path)


@pytest.mark.skipif(_writable_tree() is None or detect().version != 1,
                    reason="cannot create v1 cgroups here")
def test_a_real_cpu_quota_and_the_cpu_it_bounds() -> None:
    """v1: the same cgroup in the cpu, cpuacct and memory trees (the union is one cgroup),
    a 50% CFS quota, a child that spins for 0.3 s of CPU: usage, periods and limits."""
    import subprocess
    import sys

    h = detect()
    cid = f"{os.getpid() + 1:064x}"
    # cpu and cpuacct are one co-mounted tree on most hosts, two on some (this VM)
    dirs = sorted({h.v1[c] + "/" + cid for c in ("cpu", "cpuacct", "memory")})
    cpu_dir = h.v1["cpu"] + "/" + cid
    for d in dirs:
        os.mkdir(d)
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; sys.stdin.readline(); t = time.process_time()\n"
         "while time.process_time() - t < 0.3: pass\n"
         "print('ok', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdin is not None and child.stdout is not None
        with open(cpu_dir + "/cpu.cfs_quota_us", "w") as fh:
            fh.write("50000")
        for d in dirs:
            with open(d + "/cgroup.procs", "w") as fh:
                fh.write(str(child.pid))
        child.stdin.write(b"go\n")
        child.stdin.flush()
        assert child.stdout.readline() == b"ok\n"
        fams = ContainerCollector().collect()
        cg = "/" + cid
        assert value(fams, "container_cpu_usage_seconds_total", id=cg, cpu="total") >= 0.3
        # user/system come from tick sampling (cpuacct.stat); the loop's clock reads are
        # system calls, so only their sum is pinned.
        assert value(fams, "container_cpu_user_seconds_total", id=cg) + value(
            fams, "container_cpu_system_seconds_total", id=cg) > 0.15
        assert value(fams, "container_spec_cpu_quota", id=cg) == 50000
        assert value(fams, "container_spec_cpu_period", id=cg) == 100000
        # 0.3 s of CPU at 50% of one CPU takes at least 6 periods of 100 ms
        assert value(fams, "container_cpu_cfs_periods_total", id=cg) >= 6
        assert value(fams, "container_cpu_cfs_throttled_periods_total", id=cg) >= 0
        assert value(fams, "container_memory_usage_bytes", id=cg) > 0
    finally:
        child.kill()
        child.wait()
        for d in dirs:
            os.rmdir(d)
