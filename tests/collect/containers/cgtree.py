"""Fixture hosts for the container collector: cgroup v2 and v1 trees, /proc and /sys.

The file contents follow the kernel's formats as a 6.x kernel writes them
(Documentation/admin-guide/cgroup-v2.rst and cgroup-v1/*.rst; a containerd
node with the kubelet's systemd driver for v2, the cgroupfs driver for v1).
Values are chosen so that every derived figure is easy to check by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

POD_UID = "5f0e3c4a-1b2d-4e6f-8a9b-0c1d2e3f4a5b"
POD2_UID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SANDBOX = "a" * 64
APP = "b" * 64
SIDECAR = "c" * 64
POD2_APP = "d" * 64
DOCKER = "e" * 64

V2_POD = f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{POD_UID.replace('-', '_')}.slice"
V2_POD2 = f"/kubepods.slice/kubepods-pod{POD2_UID.replace('-', '_')}.slice"
V1_POD = f"/kubepods/burstable/pod{POD_UID}"

PODS = [
    {
        "metadata": {"name": "web-7d9c", "namespace": "shop", "uid": POD_UID},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"},
                                {"name": "log", "image": "busybox:1.36"}]},
        "status": {"containerStatuses": [
            {"name": "nginx", "image": "docker.io/library/nginx:1.25",
             "containerID": f"containerd://{APP}"},
            {"name": "log", "image": "docker.io/library/busybox:1.36",
             "containerID": f"containerd://{SIDECAR}"},
        ]},
    },
    {
        "metadata": {"name": "db-0", "namespace": "data", "uid": POD2_UID},
        "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]},
        "status": {"containerStatuses": [
            {"name": "postgres", "image": "docker.io/library/postgres:16",
             "containerID": f"containerd://{POD2_APP}"},
        ]},
    },
]


def write(base: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = base / rel.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def v2_memory_stat(anon: int, file: int, inactive_file: int, mapped: int) -> str:
    # The order and the fields of a 6.x kernel's memory.stat.
    fields = [
        ("anon", anon), ("file", file), ("kernel", 1069056), ("kernel_stack", 65536),
        ("pagetables", 155648), ("sec_pagetables", 0), ("percpu", 2960), ("sock", 0),
        ("vmalloc", 8192), ("shmem", 0), ("zswap", 0), ("zswapped", 0),
        ("file_mapped", mapped), ("file_dirty", 4096), ("file_writeback", 0),
        ("swapcached", 0), ("anon_thp", 0), ("file_thp", 0), ("shmem_thp", 0),
        ("inactive_anon", anon), ("active_anon", 0), ("inactive_file", inactive_file),
        ("active_file", file - inactive_file), ("unevictable", 0),
        ("slab_reclaimable", 421584), ("slab_unreclaimable", 361256), ("slab", 782840),
        ("workingset_refault_anon", 0), ("workingset_refault_file", 17),
        ("workingset_activate_anon", 0), ("workingset_activate_file", 3),
        ("workingset_restore_anon", 0), ("workingset_restore_file", 0),
        ("workingset_nodereclaim", 0), ("pgscan", 0), ("pgsteal", 0), ("pgscan_kswapd", 0),
        ("pgscan_direct", 0), ("pgsteal_kswapd", 0), ("pgsteal_direct", 0),
        ("pgfault", 31262), ("pgmajfault", 12), ("pgrefill", 0), ("pgactivate", 64),
        ("pgdeactivate", 0), ("pglazyfree", 0), ("pglazyfreed", 0), ("thp_fault_alloc", 0),
        ("thp_collapse_alloc", 0),
    ]
    return "".join(f"{k} {v}\n" for k, v in fields)


def psi(some: int, full: int) -> str:
    return (f"some avg10=0.12 avg60=0.05 avg300=0.01 total={some}\n"
            f"full avg10=0.00 avg60=0.00 avg300=0.00 total={full}\n")


def v2_cgroup(usage_usec: int, user_usec: int, system_usec: int, *, quota: str = "max",
              weight: int = 100, memory: tuple[int, int, int, int] = (0, 0, 0, 0),
              memory_max: str = "max", memory_min: int = 0, swap: int = 0,
              oom_kill: int = 0, io: str = "", throttled: tuple[int, int, int] = (0, 0, 0),
              pressure: tuple[int, int] = (0, 0)) -> dict[str, str]:
    anon, file, inactive_file, mapped = memory
    periods, nr_throttled, throttled_usec = throttled
    return {
        "cgroup.controllers": "cpu io memory pids\n",
        "cgroup.events": "populated 1\nfrozen 0\n",
        "cgroup.procs": "",
        "cpu.stat": (f"usage_usec {usage_usec}\nuser_usec {user_usec}\nsystem_usec {system_usec}\n"
                     "core_sched.force_idle_usec 0\n"
                     f"nr_periods {periods}\nnr_throttled {nr_throttled}\n"
                     f"throttled_usec {throttled_usec}\nnr_bursts 0\nburst_usec 0\n"),
        "cpu.max": f"{quota} 100000\n",
        "cpu.weight": f"{weight}\n",
        "cpu.pressure": psi(*pressure),
        "memory.current": f"{anon + file + 1069056}\n",
        "memory.stat": v2_memory_stat(anon, file, inactive_file, mapped),
        "memory.max": f"{memory_max}\n",
        "memory.min": f"{memory_min}\n",
        "memory.low": "0\n",
        "memory.high": "max\n",
        "memory.swap.current": f"{swap}\n",
        "memory.swap.max": "max\n",
        "memory.events": f"low 0\nhigh 0\nmax 0\noom {oom_kill}\noom_kill {oom_kill}\noom_group_kill 0\n",
        "memory.pressure": psi(2000, 1000),
        "io.stat": io,
        "io.pressure": psi(300, 200),
    }


def net_dev(rows: list[tuple[str, int, int, int, int, int, int, int, int]]) -> str:
    head = ("Inter-|   Receive                                                |  Transmit\n"
            " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
            "errs drop fifo colls carrier compressed\n")
    lines = [f"{name:>6}: {rb} {rp} {re} {rd} 0 0 0 0 {tb} {tp} {te} {td} 0 0 0 0\n"
             for name, rb, rp, re, rd, tb, tp, te, td in rows]
    return head + "".join(lines)


def proc_tree(base: Path) -> Path:
    """/proc: pid 1 (host network), 100 the pause of pod 1, 101 its nginx, 200 pod 2's postgres."""
    proc = base / "proc"
    host_net = net_dev([("lo", 900, 9, 0, 0, 900, 9, 0, 0),
                        ("eth0", 5000, 50, 1, 2, 3000, 30, 3, 4),
                        ("veth1234", 77, 7, 0, 0, 77, 7, 0, 0)])
    pod_net = net_dev([("lo", 10, 1, 0, 0, 10, 1, 0, 0), ("eth0", 1000, 10, 0, 1, 2000, 20, 0, 2)])
    pod2_net = net_dev([("eth0", 400, 4, 0, 0, 800, 8, 0, 0)])
    write(proc, {
        "uptime": "3600.00 7000.00\n",
        "meminfo": "MemTotal: 8000000 kB\nMemFree: 4000000 kB\nSwapTotal: 1000 kB\nSwapFree: 600 kB\n",
        "1/comm": "systemd\n", "1/net/dev": host_net,
        "100/comm": "pause\n", "100/net/dev": pod_net,
        "101/comm": "nginx\n", "101/net/dev": pod_net,
        "102/comm": "sh\n", "102/net/dev": pod_net,
        "200/comm": "postgres\n", "200/net/dev": pod2_net,
        "300/comm": "redis-server\n", "300/net/dev": pod2_net,
    })
    return proc


def sys_tree(base: Path) -> Path:
    sys = base / "sys"
    write(sys, {"block/sda/dev": "8:0\n", "block/loop0/dev": "7:0\n", "block/dm-0/dev": "253:0\n"})
    return sys


def v2_host(base: Path) -> Path:
    """A cgroup v2 node, systemd driver, one Burstable pod (sandbox, nginx, log sidecar),
    one Guaranteed pod (postgres, no pause process), containerd.service and a docker container."""
    cg = base / "cgroup"
    root = v2_cgroup(9_000_000, 6_000_000, 3_000_000,
                     memory=(400 << 20, 600 << 20, 100 << 20, 50 << 20))
    for f in ("cpu.max", "cpu.weight", "memory.current", "memory.max", "memory.min",
              "memory.swap.current", "memory.swap.max", "memory.events", "io.stat", "cgroup.events"):
        del root[f]  # the root cgroup has none of these
    root["cpu.stat"] = "usage_usec 9000000\nuser_usec 6000000\nsystem_usec 3000000\n"
    root["cgroup.controllers"] = "cpuset cpu io memory hugetlb pids rdma misc\n"
    files = {f"/{k}": v for k, v in root.items()}
    trees = {
        "/kubepods.slice": v2_cgroup(3_000_000, 2_000_000, 1_000_000),
        "/kubepods.slice/kubepods-burstable.slice": v2_cgroup(2_000_000, 1_500_000, 500_000),
        V2_POD: v2_cgroup(1_600_000, 1_200_000, 400_000, quota="150000", weight=10,
                          memory_max="402653184", throttled=(500, 20, 1_500_000)),
        f"{V2_POD}/cri-containerd-{SANDBOX}.scope": v2_cgroup(20_000, 10_000, 10_000, weight=1),
        f"{V2_POD}/cri-containerd-{APP}.scope": v2_cgroup(
            1_500_000, 1_100_000, 400_000, quota="100000", weight=8,
            memory=(30 << 20, 20 << 20, 5 << 20, 4 << 20), memory_max="268435456",
            memory_min=67108864, swap=4096, oom_kill=2,
            io="8:0 rbytes=1482752 wbytes=4096 rios=90 wios=1 dbytes=0 dios=0\n"
               "253:0 rbytes=512 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
            throttled=(400, 10, 1_000_000), pressure=(7_000_000, 3_500_000)),
        f"{V2_POD}/cri-containerd-{SIDECAR}.scope": v2_cgroup(
            80_000, 50_000, 30_000, quota="50000", weight=2,
            memory=(1 << 20, 3 << 20, 4 << 20, 0)),  # inactive_file > usage: floored at 0
        V2_POD2: v2_cgroup(900_000, 600_000, 300_000, quota="100000", weight=40),
        f"{V2_POD2}/cri-containerd-{POD2_APP}.scope": v2_cgroup(850_000, 580_000, 270_000,
                                                                quota="100000", weight=40),
        "/system.slice": v2_cgroup(4_000_000, 2_000_000, 2_000_000),
        "/system.slice/containerd.service": v2_cgroup(1_000_000, 700_000, 300_000),
        f"/system.slice/docker-{DOCKER}.scope": v2_cgroup(500_000, 400_000, 100_000),
    }
    procs = {f"{V2_POD}/cri-containerd-{SANDBOX}.scope": "100\n",
             f"{V2_POD}/cri-containerd-{APP}.scope": "101\n",
             f"{V2_POD}/cri-containerd-{SIDECAR}.scope": "102\n",
             f"{V2_POD2}/cri-containerd-{POD2_APP}.scope": "200\n",
             f"/system.slice/docker-{DOCKER}.scope": "300\n"}
    # More inactive file cache than usage (possible: usage is sampled apart
    # from memory.stat): the working set floors at 0.
    trees[f"{V2_POD}/cri-containerd-{SIDECAR}.scope"]["memory.current"] = f"{2 << 20}\n"
    for path, fs in trees.items():
        if path in procs:
            fs["cgroup.procs"] = procs[path]
        files.update({f"{path}/{k}": v for k, v in fs.items()})
    write(cg, files)
    return cg


V1_CPU_CTRLS = "cpu,cpuacct"


def v1_host(base: Path, hybrid: bool = True) -> Path:
    """A cgroup v1 node (hybrid: with an empty unified tree), cgroupfs driver, the Burstable pod."""
    cg = base / "cgroup"
    pod = V1_POD
    app = f"{pod}/{APP}"
    sandbox = f"{pod}/{SANDBOX}"

    def cpuacct(usage_ns: int, user_ticks: int, system_ticks: int, quota: int = -1,
                throttled: tuple[int, int, int] = (0, 0, 0), shares: int = 1024) -> dict[str, str]:
        p, t, tt = throttled
        return {
            "cpuacct.usage": f"{usage_ns}\n",
            "cpuacct.stat": f"user {user_ticks}\nsystem {system_ticks}\n",
            "cpuacct.usage_percpu": f"{usage_ns // 2} {usage_ns - usage_ns // 2} \n",
            "cpu.stat": f"nr_periods {p}\nnr_throttled {t}\nthrottled_time {tt}\n",
            "cpu.shares": f"{shares}\n",
            "cpu.cfs_period_us": "100000\n",
            "cpu.cfs_quota_us": f"{quota}\n",
            "cgroup.clone_children": "0\n",
            "cgroup.procs": "",
        }

    def memory(usage: int, cache: int, rss: int, mapped: int, inactive_file: int,
               limit: int = 9223372036854771712, soft: int = 9223372036854771712,
               failcnt: int = 0, oom_kill: int = 0, swap: int = 0) -> dict[str, str]:
        stat = {
            "cache": cache, "rss": rss, "rss_huge": 0, "shmem": 0, "mapped_file": mapped,
            "dirty": 0, "writeback": 0, "swap": swap, "pgpgin": 100, "pgpgout": 50,
            "pgfault": 300, "pgmajfault": 1, "inactive_anon": 0, "active_anon": rss,
            "inactive_file": inactive_file, "active_file": cache - inactive_file,
            "unevictable": 0, "hierarchical_memory_limit": limit,
            "hierarchical_memsw_limit": 9223372036854771712,
        }
        # This fixture's cgroups are leaves or sums of leaves: total_* = own * 1
        # for leaves; parents give their own totals below.
        stat.update({f"total_{k}": v for k, v in list(stat.items())
                     if not k.startswith("hierarchical")})
        return {
            "memory.usage_in_bytes": f"{usage}\n",
            "memory.max_usage_in_bytes": f"{usage * 2}\n",
            "memory.limit_in_bytes": f"{limit}\n",
            "memory.soft_limit_in_bytes": f"{soft}\n",
            "memory.memsw.limit_in_bytes": "9223372036854771712\n",
            "memory.failcnt": f"{failcnt}\n",
            "memory.use_hierarchy": "1\n",
            "memory.oom_control": f"oom_kill_disable 0\nunder_oom 0\noom_kill {oom_kill}\n",
            "memory.stat": "".join(f"{k} {v}\n" for k, v in stat.items()),
            "cgroup.clone_children": "0\n",
            "cgroup.procs": "",
        }

    blkio_empty = {"blkio.throttle.io_service_bytes_recursive": "Total 0\n",
                   "blkio.throttle.io_serviced_recursive": "Total 0\n",
                   "blkio.bfq.io_service_bytes_recursive": "Total 0\n",
                   "blkio.bfq.io_serviced_recursive": "Total 0\n",
                   "cgroup.clone_children": "0\n", "cgroup.procs": ""}
    app_blkio = dict(blkio_empty)
    app_blkio["blkio.throttle.io_service_bytes_recursive"] = (
        "8:0 Read 1482752\n8:0 Write 4096\n8:0 Sync 4096\n8:0 Async 1482752\n"
        "8:0 Discard 0\n8:0 Total 1486848\nTotal 1486848\n")
    app_blkio["blkio.throttle.io_serviced_recursive"] = (
        "8:0 Read 90\n8:0 Write 1\n8:0 Sync 1\n8:0 Async 90\n8:0 Discard 0\n8:0 Total 91\nTotal 91\n")

    tree: dict[str, dict[str, dict[str, str]]] = {
        V1_CPU_CTRLS: {
            "/": cpuacct(9_000_000_000, 600, 300),
            "/kubepods": cpuacct(3_000_000_000, 200, 100),
            "/kubepods/burstable": cpuacct(2_000_000_000, 150, 50),
            pod: cpuacct(1_600_000_000, 120, 40, quota=150000, throttled=(500, 20, 1_500_000_000),
                         shares=10),
            sandbox: cpuacct(20_000_000, 1, 1, shares=2),
            app: cpuacct(1_500_000_000, 110, 40, quota=100000, throttled=(400, 10, 1_000_000_000),
                         shares=8),
        },
        "memory": {
            "/": memory(1000 << 20, 600 << 20, 400 << 20, 50 << 20, 100 << 20),
            "/kubepods": memory(60 << 20, 30 << 20, 30 << 20, 4 << 20, 6 << 20),
            "/kubepods/burstable": memory(60 << 20, 30 << 20, 30 << 20, 4 << 20, 6 << 20),
            pod: memory(60 << 20, 30 << 20, 30 << 20, 4 << 20, 6 << 20, limit=402653184),
            sandbox: memory(1 << 20, 0, 1 << 20, 0, 0),
            app: memory(50 << 20, 20 << 20, 30 << 20, 4 << 20, 5 << 20, limit=268435456,
                        soft=67108864, failcnt=3, oom_kill=2, swap=4096),
        },
        "blkio": {p: (app_blkio if p == app else blkio_empty)
                  for p in ("/", "/kubepods", "/kubepods/burstable", pod, sandbox, app)},
        "pids": {p: {"pids.current": "1\n", "cgroup.procs": "", "cgroup.clone_children": "0\n"}
                 for p in ("/", "/kubepods", "/kubepods/burstable", pod, sandbox, app)},
    }
    # Processes: the pause in the sandbox, nginx in the app (in every controller).
    for ctrl in tree:
        tree[ctrl][sandbox]["cgroup.procs"] = "100\n"
        tree[ctrl][app]["cgroup.procs"] = "101\n"
    files: dict[str, str] = {}
    for ctrl, cgs in tree.items():
        for path, fs in cgs.items():
            d = "" if path == "/" else path
            files.update({f"{ctrl}{d}/{k}": v for k, v in fs.items()})
    files["systemd/cgroup.procs"] = "1\n"
    if hybrid:
        files["unified/cgroup.controllers"] = ""
        files["unified/cgroup.procs"] = ""
        files["unified/cpu.pressure"] = psi(5_000_000, 0)
        files["unified/memory.pressure"] = psi(2000, 1000)
        files["unified/io.pressure"] = psi(300, 200)
    write(cg, files)
    os.symlink(V1_CPU_CTRLS, cg / "cpu")
    os.symlink(V1_CPU_CTRLS, cg / "cpuacct")
    return cg
