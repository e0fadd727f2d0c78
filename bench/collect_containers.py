"""CPU cost of one collection of the container collector (cAdvisor's ``container_*`` series).

Run from the repository root::

    python -m bench.collect_containers [--pods 200] [--containers 3] [--repeat 20] [--no-peer]

Trees measured, each with ``--repeat`` collections after two warm-up ones
(the first fills the per-cgroup caches: classification, start times, which
container is a pod's sandbox):

- **this machine**: the real ``/sys/fs/cgroup`` (whatever hierarchy it has);
- **fixture v2** and **fixture v1**: a node with ``--pods`` pods of
  ``--containers`` containers plus a sandbox each, in the kubelet's systemd
  (v2) or cgroupfs (v1) layout with containerd names, 30 system services, and
  a /proc with one network namespace per pod, written under a temporary
  directory (a tmpfs or disk, not cgroupfs: the kernel generates cgroupfs
  files on read, so real reads cost somewhat more system time than these).
  The collector is labelled through a :class:`PodIndex` of the pods.

For each: the CPU time (user + system) of this process per collection
(median and best), the wall time, the number of cgroups and samples, and the
CPU of encoding the families as text (what serving them on ``/metrics`` adds). With
Debian's node_exporter installed (``prometheus-node-exporter``), the same run
scrapes it ``--repeat`` times and reports its own ``process_cpu_seconds_total``
increase per scrape: the issue's yardstick is one node_exporter scrape.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make "bench" and "tests" importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubesight.collect.containers import ContainerCollector, PodIndex
from kubesight.collect.family import encode
from tests.collect.containers import cgtree as t


def _uid(i: int) -> str:
    return f"{i:08x}-0000-4000-8000-{i:012x}"


def _cid(pod: int, c: int) -> str:
    return f"{pod:032x}{c:032x}"


def fixture(base: Path, pods: int, containers: int, version: int) -> tuple[Path, Path, list[Any]]:
    """A node's cgroup tree and /proc; returns (cgroup root, proc, pod objects)."""
    files: dict[str, str] = {}
    procs: dict[str, str] = {"uptime": "86400.00 1.00\n",
                             "meminfo": "SwapTotal: 0 kB\nSwapFree: 0 kB\n",
                             "1/comm": "systemd\n",
                             "1/net/dev": t.net_dev([("eth0", 1, 1, 0, 0, 1, 1, 0, 0)])}
    pod_objs: list[Any] = []
    cgroups: dict[str, dict[str, str]] = {}
    io = "8:0 rbytes=1482752 wbytes=4096 rios=90 wios=1 dbytes=0 dios=0\n"
    mem = (30 << 20, 20 << 20, 5 << 20, 4 << 20)

    def cg(path: str, pid: int = 0, **kw: Any) -> None:
        fs = t.v2_cgroup(1_000_000, 600_000, 400_000, memory=mem, io=io, **kw)
        if pid:
            fs["cgroup.procs"] = f"{pid}\n"
        cgroups[path] = fs

    qos = ("guaranteed", "burstable", "besteffort")
    if version == 2:
        cg("/kubepods.slice")
        cg("/kubepods.slice/kubepods-burstable.slice")
        cg("/kubepods.slice/kubepods-besteffort.slice")
    else:
        cg("/kubepods")
        cg("/kubepods/burstable")
        cg("/kubepods/besteffort")
    cg("/system.slice")
    for s in range(30):
        cg(f"/system.slice/service-{s}.service", pid=100 + s)
    pid = 1000
    for p in range(pods):
        uid, q = _uid(p), qos[p % 3]
        if version == 2:
            parent = "/kubepods.slice" if q == "guaranteed" else f"/kubepods.slice/kubepods-{q}.slice"
            prefix = "kubepods-" if q == "guaranteed" else f"kubepods-{q}-"
            pod_path = f"{parent}/{prefix}pod{uid.replace('-', '_')}.slice"
        else:
            parent = "/kubepods" if q == "guaranteed" else f"/kubepods/{q}"
            pod_path = f"{parent}/pod{uid}"
        cg(pod_path, quota="200000")
        statuses = []
        for c in range(containers + 1):  # container 0 is the sandbox
            cid = _cid(p, c)
            path = (f"{pod_path}/cri-containerd-{cid}.scope" if version == 2 else f"{pod_path}/{cid}")
            pid += 1
            cg(path, pid=pid, quota="100000" if c else "max")
            procs[f"{pid}/comm"] = "pause\n" if c == 0 else "app\n"
            if c == 0:
                procs[f"{pid}/net/dev"] = t.net_dev([("lo", 1, 1, 0, 0, 1, 1, 0, 0),
                                                     ("eth0", 1000, 10, 0, 1, 2000, 20, 0, 2)])
            else:
                statuses.append({"name": f"c{c}", "image": f"registry.example/app{c}:1.0",
                                 "containerID": f"containerd://{cid}"})
        pod_objs.append({"metadata": {"name": f"pod-{p}", "namespace": f"ns-{p % 10}", "uid": uid},
                         "spec": {}, "status": {"containerStatuses": statuses}})
    root = base / "cgroup"
    if version == 2:
        files["cgroup.controllers"] = "cpuset cpu io memory pids\n"
        files["cpu.stat"] = "usage_usec 9000000\nuser_usec 6000000\nsystem_usec 3000000\n"
        files["memory.stat"] = t.v2_memory_stat(*mem)
        for path, fs in cgroups.items():
            files.update({f"{path}/{k}": v for k, v in fs.items()})
    else:
        # The same figures in v1 files, per controller tree.
        for path in ["", *cgroups]:
            fs = cgroups.get(path, {})
            procs_line = fs.get("cgroup.procs", "")
            quota = fs.get("cpu.max", "max 100000").split()[0]
            for k, v in {
                "cpu,cpuacct/cpuacct.usage": "1000000000\n",
                "cpu,cpuacct/cpuacct.stat": "user 60\nsystem 40\n",
                "cpu,cpuacct/cpu.stat": "nr_periods 10\nnr_throttled 1\nthrottled_time 5000\n",
                "cpu,cpuacct/cpu.shares": "1024\n",
                "cpu,cpuacct/cpu.cfs_period_us": "100000\n",
                "cpu,cpuacct/cpu.cfs_quota_us": ("-1" if quota == "max" else quota) + "\n",
                "cpu,cpuacct/cgroup.procs": procs_line,
                "memory/memory.usage_in_bytes": f"{50 << 20}\n",
                "memory/memory.stat": "cache 20971520\nrss 31457280\nmapped_file 4194304\nswap 0\n"
                                      "total_cache 20971520\ntotal_rss 31457280\n"
                                      "total_mapped_file 4194304\ntotal_swap 0\n"
                                      "total_inactive_file 5242880\n",
                "memory/memory.failcnt": "0\n",
                "memory/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
                "memory/memory.limit_in_bytes": "9223372036854771712\n",
                "memory/memory.memsw.limit_in_bytes": "9223372036854771712\n",
                "memory/memory.soft_limit_in_bytes": "9223372036854771712\n",
                "memory/memory.use_hierarchy": "1\n",
                "memory/cgroup.procs": procs_line,
                "blkio/blkio.throttle.io_service_bytes_recursive": "8:0 Read 1482752\n8:0 Write 4096\nTotal 1486848\n",
                "blkio/blkio.throttle.io_serviced_recursive": "8:0 Read 90\n8:0 Write 1\nTotal 91\n",
            }.items():
                ctrl, _, name = k.partition("/")
                files[f"{ctrl}{path}/{name}"] = v
    t.write(root, files)
    if version == 1:
        (root / "cpu").symlink_to("cpu,cpuacct")
        (root / "cpuacct").symlink_to("cpu,cpuacct")
    proc = base / "proc"
    t.write(proc, procs)
    return root, proc, pod_objs


def measure(c: ContainerCollector, repeat: int) -> dict[str, float]:
    c.collect()
    c.collect()
    cpu: list[float] = []
    wall: list[float] = []
    enc: list[float] = []
    samples = 0
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fams = c.collect()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        c0 = time.process_time()
        encode(fams)  # what serving the families on /metrics adds
        enc.append(time.process_time() - c0)
        samples = sum(len(f.samples) for f in fams)
    return {"cpu_median_ms": statistics.median(cpu) * 1e3, "cpu_best_ms": min(cpu) * 1e3,
            "wall_median_ms": statistics.median(wall) * 1e3, "cgroups": c.reported,
            "samples": samples, "encode_median_ms": statistics.median(enc) * 1e3}


def node_exporter_cpu_per_scrape(repeat: int) -> float | None:
    """node_exporter's own process_cpu_seconds_total increase per scrape, in ms (None if absent)."""
    import shutil

    import httpx

    if shutil.which("prometheus-node-exporter") is None:
        return None
    from tests.peers import node_exporter

    def cpu(url: str) -> float:
        body = httpx.get(url, timeout=30).text
        m = re.search(r"^process_cpu_seconds_total ([0-9.e+]+)$", body, re.M)
        assert m, "node_exporter without process_cpu_seconds_total"
        return float(m.group(1))

    with tempfile.TemporaryDirectory() as tmp, node_exporter(Path(tmp)) as addr:
        url = f"http://{addr}/metrics"
        for _ in range(3):
            cpu(url)  # warm up
        before = cpu(url)
        for _ in range(repeat):
            cpu(url)
        after = cpu(url)
    # repeat + 1 scrapes happened between the two readings
    return (after - before) / (repeat + 1) * 1e3


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pods", type=int, default=200)
    ap.add_argument("--containers", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--no-peer", action="store_true", help="do not run node_exporter")
    args = ap.parse_args(argv)
    rows: list[tuple[str, dict[str, float]]] = []
    rows.append(("this machine (" + ContainerCollector().hierarchy.describe() + ")",
                 measure(ContainerCollector(), args.repeat)))
    with tempfile.TemporaryDirectory() as tmp:
        for version in (2, 1):
            base = Path(tmp) / f"v{version}"
            root, proc, pods = fixture(base, args.pods, args.containers, version)
            c = ContainerCollector(PodIndex(pods), cgroup_root=str(root), proc=str(proc),
                                   sys_root=str(base / "sys"))
            rows.append((f"fixture v{version}: {args.pods} pods x {args.containers} containers",
                         measure(c, args.repeat)))
    ne = None if args.no_peer else node_exporter_cpu_per_scrape(args.repeat)
    print("| tree | cgroups | samples | CPU/collection median | best | wall median | + encode |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['cgroups']:.0f} | {r['samples']:.0f} | {r['cpu_median_ms']:.1f} ms "
              f"| {r['cpu_best_ms']:.1f} ms | {r['wall_median_ms']:.1f} ms "
              f"| {r['encode_median_ms']:.1f} ms |")
    if ne is not None:
        print(f"\nnode_exporter (Debian), same run: {ne:.1f} ms CPU per scrape "
              f"({args.repeat + 1} scrapes, its process_cpu_seconds_total)")


if __name__ == "__main__":
    main()
