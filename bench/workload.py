"""A deterministic node_exporter-shaped remote-write workload.

Every benchmark that ingests metrics should ingest the same thing, and that
thing should look like what users actually send: compression ratios and
per-sample costs depend heavily on how values move. Random floats would make
every store look bad and reward nothing real, so values here follow how
node_exporter series behave on a real host:

====================  =====  =====================================================
kind                  share  how it moves per 15 s step
====================  =====  =====================================================
constant              ~30%   never (info metrics = 1, filesystem sizes, MemTotal)
rare counter          ~25%   +1..3 with probability 5% (errors, drops, throttles)
seconds counter       ~20%   +0.00..15.00, two decimals (CPU, disk and IO time)
bytes/packets         ~15%   +0..1e6 integer (bytes, packets, context switches)
gauge                 ~10%   small random walk on a quantum: 4096 B for memory,
                             0.01 for load averages, 1 for counts/temperatures
====================  =====  =====================================================

Series names and labels are node_exporter's (``node_cpu_seconds_total{cpu,mode}``,
``node_filesystem_avail_bytes{device,fstype,mountpoint}``...), plus
``instance="host-NNN:9100"`` and ``job="node"``. Every instance exposes the same
~580 series. All series of one instance in one step share a timestamp: step time
+ a fixed per-instance offset (targets are scraped at different phases) + a few
ms of jitter, which is what a real scrape looks like.

Left out on purpose: high-entropy floats such as
``node_scrape_collector_duration_seconds`` (about 7% of a real node_exporter) —
the mix above is the benchmark's definition; peers and kubesight see the same.

Output is one :class:`~kubesight.model.SampleBatch` per remote-write request,
``series_per_request`` series each, produced step by step in time order. The
same seed and end time always give the same batches.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kubesight.model import Labels, SampleBatch

STEP_MS = 15_000  # node_exporter's usual scrape interval
# 5 min back from now: recent enough for every store's "recent data" path,
# far enough that the last step plus its per-instance offset is still in the past.
END_LAG_MS = 5 * 60_000
JITTER_MS = 5  # a few ms of scrape-start jitter
RARE_PROBABILITY = 0.05


class Kind(enum.IntEnum):
    CONSTANT = 0
    RARE = 1
    SECONDS = 2
    BYTES = 3
    GAUGE = 4


# Short names keep the catalog below one series per line.
C, R, S, B, G = Kind.CONSTANT, Kind.RARE, Kind.SECONDS, Kind.BYTES, Kind.GAUGE


@dataclass(frozen=True)
class SeriesDef:
    """One series of the per-instance catalog (before instance/job are added)."""

    name: str
    labels: tuple[tuple[str, str], ...]
    kind: Kind
    # CONSTANT: the value. GAUGE: the starting value. Counters: ignored (random start).
    value: float = 0.0
    # GAUGE only: values move by whole multiples of quantum, at most max_move quanta a step.
    quantum: float = 1.0
    max_move: int = 1


def _s(
    name: str,
    kind: Kind,
    value: float = 0.0,
    quantum: float = 1.0,
    max_move: int = 1,
    /,
    **labels: str,
) -> SeriesDef:
    # Positional-only so that labels called "name" or "id" (node_os_info) are labels.
    return SeriesDef(name, tuple(labels.items()), kind, value, quantum, max_move)


GIB = 1 << 30
PAGE = 4096  # memory and filesystem figures move by pages/blocks

CPUS = [str(c) for c in range(8)]
CPU_MODES = ["idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"]
DISKS = ["sda", "sdb", "nvme0n1", "nvme1n1", "dm-0", "dm-1"]
NICS = ["eth0", "eth1", "lo", "docker0"]
# (device, fstype, mountpoint, size in bytes)
FILESYSTEMS = [
    ("/dev/sda1", "ext4", "/", 100 * GIB),
    ("/dev/sdb1", "xfs", "/var/lib/docker", 500 * GIB),
    ("/dev/nvme0n1p1", "xfs", "/data", 1800 * GIB),
    ("tmpfs", "tmpfs", "/run", 3 * GIB),
    ("tmpfs", "tmpfs", "/dev/shm", 16 * GIB),
]
# The collectors that find something to report on a typical VM.
COLLECTORS = [
    "arp",
    "conntrack",
    "cpu",
    "cpufreq",
    "diskstats",
    "dmi",
    "entropy",
    "filefd",
    "filesystem",
    "hwmon",
    "loadavg",
    "meminfo",
    "netclass",
    "netdev",
    "netstat",
    "nvme",
    "os",
    "pressure",
    "schedstat",
    "sockstat",
    "softnet",
    "stat",
    "textfile",
    "time",
    "timex",
    "udp_queues",
    "uname",
    "vmstat",
]


def node_exporter_catalog() -> list[SeriesDef]:
    """The series one node_exporter exposes, each with how its value moves."""
    out: list[SeriesDef] = []
    add = out.append

    for cpu in CPUS:
        for mode in CPU_MODES:
            add(_s("node_cpu_seconds_total", S, cpu=cpu, mode=mode))
        for mode in ("nice", "user"):
            add(_s("node_cpu_guest_seconds_total", C, 0.0, cpu=cpu, mode=mode))
        add(_s("node_schedstat_running_seconds_total", S, cpu=cpu))
        add(_s("node_schedstat_waiting_seconds_total", S, cpu=cpu))
        add(_s("node_schedstat_timeslices_total", B, cpu=cpu))
        add(_s("node_softnet_processed_total", B, cpu=cpu))
        add(_s("node_softnet_dropped_total", R, cpu=cpu))
        add(_s("node_softnet_times_squeezed_total", R, cpu=cpu))
        add(_s("node_cpu_core_throttles_total", R, core=cpu, package="0"))
        add(_s("node_cpu_scaling_frequency_max_hertz", C, 3.5e9, cpu=cpu))
        add(
            _s(
                "node_hwmon_temp_celsius",
                G,
                45.0,
                chip="platform_coretemp_0",
                sensor=f"temp{int(cpu) + 1}",
            )
        )
    add(_s("node_cpu_package_throttles_total", R, package="0"))
    add(_s("node_hwmon_temp_crit_celsius", C, 100.0, chip="platform_coretemp_0", sensor="temp1"))
    add(_s("node_hwmon_temp_max_celsius", C, 84.0, chip="platform_coretemp_0", sensor="temp1"))

    for d in DISKS:
        for m in (
            "reads_completed",
            "writes_completed",
            "read_bytes",
            "written_bytes",
            "reads_merged",
            "writes_merged",
        ):
            add(_s(f"node_disk_{m}_total", B, device=d))
        for m in (
            "read_time",
            "write_time",
            "io_time",
            "io_time_weighted",
            "discard_time",
            "flush_requests_time",
        ):
            add(_s(f"node_disk_{m}_seconds_total", S, device=d))
        for m in ("discards_completed", "discards_merged", "discarded_sectors", "flush_requests"):
            add(_s(f"node_disk_{m}_total", R, device=d))
        add(
            _s(
                "node_disk_info",
                C,
                1.0,
                device=d,
                major="8",
                minor="0",
                path=f"pci-0000:00:1f.2-ata-{d}",
                revision="1.0",
                serial=f"QM000{d}",
            )
        )

    for i, nic in enumerate(NICS):
        for m in (
            "receive_bytes",
            "transmit_bytes",
            "receive_packets",
            "transmit_packets",
            "receive_multicast",
        ):
            add(_s(f"node_network_{m}_total", B, device=nic))
        for m in (
            "receive_errs",
            "transmit_errs",
            "receive_drop",
            "transmit_drop",
            "receive_fifo",
            "transmit_fifo",
            "receive_frame",
            "receive_compressed",
            "transmit_compressed",
            "transmit_colls",
            "transmit_carrier",
            "carrier_changes",
            "carrier_up_changes",
            "carrier_down_changes",
        ):
            add(_s(f"node_network_{m}_total", R, device=nic))
        const = {
            "up": 1.0,
            "mtu_bytes": 65536.0 if nic == "lo" else 1500.0,
            "speed_bytes": 1.25e9,
            "carrier": 1.0,
            "iface_id": float(i + 1),
            "iface_link": float(i + 1),
            "dormant": 0.0,
            "flags": 4099.0,
            "protocol_type": 772.0 if nic == "lo" else 1.0,
            "transmit_queue_length": 1000.0,
            "address_assign_type": 0.0,
            "net_dev_group": 0.0,
        }
        for m, v in const.items():
            add(_s(f"node_network_{m}", C, v, device=nic))
        add(
            _s(
                "node_network_info",
                C,
                1.0,
                device=nic,
                address=f"02:42:ac:11:00:{i:02x}",
                broadcast="ff:ff:ff:ff:ff:ff",
                duplex="full",
                operstate="up",
            )
        )

    for dev, fstype, mnt, size in FILESYSTEMS:
        fs = {"device": dev, "fstype": fstype, "mountpoint": mnt}
        add(_s("node_filesystem_size_bytes", C, float(size), **fs))
        add(_s("node_filesystem_files", C, float(size // 16384), **fs))
        add(_s("node_filesystem_readonly", C, 0.0, **fs))
        add(_s("node_filesystem_device_error", C, 0.0, **fs))
        # avail < free by the 5% ext4 reserve; both move by blocks.
        add(_s("node_filesystem_free_bytes", G, float(size // 2 // PAGE * PAGE), PAGE, 256, **fs))
        add(
            _s(
                "node_filesystem_avail_bytes",
                G,
                float(size * 9 // 20 // PAGE * PAGE),
                PAGE,
                256,
                **fs,
            )
        )
        add(_s("node_filesystem_files_free", G, float(size // 16384 - 120_000), 1.0, 20, **fs))

    mem_const = {
        "MemTotal": 32 * GIB,
        "SwapTotal": 0,
        "SwapFree": 0,
        "SwapCached": 0,
        "CommitLimit": 16 * GIB,
        "VmallocTotal": 34359738367 * 1024,
        "VmallocChunk": 0,
        "HugePages_Total": 0,
        "HugePages_Free": 0,
        "HugePages_Rsvd": 0,
        "HugePages_Surp": 0,
        "Hugepagesize": 2 << 20,
        "Hugetlb": 0,
        "DirectMap4k": 612 << 20,
        "DirectMap2M": 18 * GIB,
        "DirectMap1G": 15 * GIB,
        "HardwareCorrupted": 0,
        "Bounce": 0,
        "NFS_Unstable": 0,
        "Unevictable": 0,
        "Mlocked": 0,
        "WritebackTmp": 0,
        "ShmemHugePages": 0,
        "ShmemPmdMapped": 0,
        "FileHugePages": 0,
        "FilePmdMapped": 0,
        "CmaTotal": 0,
        "CmaFree": 0,
        "Percpu": 14 << 20,
    }
    for m, v in mem_const.items():
        add(_s(f"node_memory_{m}_bytes", C, float(v)))
    mem_gauge = {
        "MemFree": 9 * GIB,
        "MemAvailable": 21 * GIB,
        "Buffers": 700 << 20,
        "Cached": 11 * GIB,
        "Active": 12 * GIB,
        "Inactive": 8 * GIB,
        "Active_anon": 7 * GIB,
        "Inactive_anon": 600 << 20,
        "Active_file": 5 * GIB,
        "Inactive_file": 7 * GIB,
        "Dirty": 2 << 20,
        "Writeback": 0,
        "AnonPages": 7 * GIB,
        "Mapped": 900 << 20,
        "Shmem": 400 << 20,
        "KReclaimable": 800 << 20,
        "Slab": 1200 << 20,
        "SReclaimable": 800 << 20,
        "SUnreclaim": 400 << 20,
        "KernelStack": 30 << 20,
        "PageTables": 90 << 20,
        "Committed_AS": 14 * GIB,
        "VmallocUsed": 60 << 20,
        "AnonHugePages": 200 << 20,
    }
    for m, v in mem_gauge.items():
        add(_s(f"node_memory_{m}_bytes", G, float(v), PAGE, 64))

    for m, v in (("load1", 1.2), ("load5", 1.0), ("load15", 0.9)):
        add(_s(f"node_{m}", G, v, 0.01, 10))
    for m, v in (
        ("procs_running", 3.0),
        ("procs_blocked", 0.0),
        ("filefd_allocated", 4000.0),
        ("nf_conntrack_entries", 800.0),
        ("netstat_Tcp_CurrEstab", 40.0),
        ("sockstat_TCP_inuse", 60.0),
        ("sockstat_TCP_tw", 30.0),
        ("sockstat_TCP_alloc", 70.0),
        ("sockstat_sockets_used", 600.0),
    ):
        add(_s(f"node_{m}", G, v, 1.0, 3))
    add(_s("node_sockstat_TCP_mem_bytes", G, float(300 * PAGE), PAGE, 4))

    for m in (
        "context_switches_total",
        "intr_total",
        "vmstat_pgfault",
        "vmstat_pgpgin",
        "vmstat_pgpgout",
        "netstat_Tcp_InSegs",
        "netstat_Tcp_OutSegs",
        "netstat_Udp_InDatagrams",
        "netstat_Udp_OutDatagrams",
        "netstat_IpExt_InOctets",
        "netstat_IpExt_OutOctets",
        "netstat_Ip6_InOctets",
        "netstat_Ip6_OutOctets",
        "netstat_Udp6_InDatagrams",
        "netstat_Udp6_OutDatagrams",
    ):
        add(_s(f"node_{m}", B))
    for m in (
        "forks_total",
        "vmstat_pgmajfault",
        "vmstat_pswpin",
        "vmstat_pswpout",
        "vmstat_oom_kill",
        "netstat_Tcp_ActiveOpens",
        "netstat_Tcp_PassiveOpens",
        "netstat_Tcp_RetransSegs",
        "netstat_Tcp_InErrs",
        "netstat_Tcp_OutRsts",
        "netstat_Tcp_AttemptFails",
        "netstat_Tcp_EstabResets",
        "netstat_TcpExt_ListenOverflows",
        "netstat_TcpExt_ListenDrops",
        "netstat_TcpExt_SyncookiesFailed",
        "netstat_TcpExt_SyncookiesRecv",
        "netstat_TcpExt_SyncookiesSent",
        "netstat_TcpExt_TCPSynRetrans",
        "netstat_TcpExt_TCPTimeouts",
        "netstat_TcpExt_TCPOFOQueue",
        "netstat_Udp_InErrors",
        "netstat_Udp_NoPorts",
        "netstat_Udp_RcvbufErrors",
        "netstat_Udp_SndbufErrors",
        "netstat_UdpLite_InErrors",
        "netstat_Icmp_InErrors",
        "netstat_Icmp_InMsgs",
        "netstat_Icmp_OutMsgs",
        "netstat_Icmp6_InErrors",
        "netstat_Icmp6_InMsgs",
        "netstat_Icmp6_OutMsgs",
        "netstat_Udp6_InErrors",
        "netstat_Udp6_NoPorts",
        "netstat_Udp6_RcvbufErrors",
        "netstat_Udp6_SndbufErrors",
        "nf_conntrack_stat_drop",
        "nf_conntrack_stat_early_drop",
        "nf_conntrack_stat_insert_failed",
        "nf_conntrack_stat_invalid",
    ):
        add(_s(f"node_{m}", R))
    for m in (
        "pressure_cpu_waiting_seconds_total",
        "pressure_memory_waiting_seconds_total",
        "pressure_memory_stalled_seconds_total",
        "pressure_io_waiting_seconds_total",
        "pressure_io_stalled_seconds_total",
    ):
        add(_s(f"node_{m}", S))
    add(_s("process_cpu_seconds_total", S))
    add(_s("process_resident_memory_bytes", G, float(24 << 20), PAGE, 8))
    add(_s("process_virtual_memory_bytes", G, float(1200 << 20), PAGE, 8))
    add(_s("process_open_fds", G, 10.0, 1.0, 1))
    for code in ("500", "503"):
        add(_s("promhttp_metric_handler_requests_total", R, code=code))

    for coll in COLLECTORS:
        add(_s("node_scrape_collector_success", C, 1.0, collector=coll))
    misc_const: list[SeriesDef] = [
        _s(
            "node_uname_info",
            C,
            1.0,
            domainname="(none)",
            machine="x86_64",
            nodename="host",
            release="6.1.0-18-amd64",
            sysname="Linux",
            version="#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)",
        ),
        _s(
            "node_os_info",
            C,
            1.0,
            id="debian",
            name="Debian GNU/Linux",
            pretty_name="Debian GNU/Linux 12 (bookworm)",
            version="12 (bookworm)",
            version_codename="bookworm",
            version_id="12",
        ),
        _s("node_os_version", C, 12.0, id="debian", name="Debian GNU/Linux"),
        _s(
            "node_exporter_build_info",
            C,
            1.0,
            branch="debian/sid",
            goversion="go1.19.8",
            revision="1.5.0-1+b6",
            version="1.5.0",
        ),
        _s(
            "node_dmi_info",
            C,
            1.0,
            bios_vendor="SeaBIOS",
            product_name="Standard PC",
            system_vendor="QEMU",
        ),
        _s("node_boot_time_seconds", C, 1.7e9),
        _s("node_time_zone_offset_seconds", C, 0.0, time_zone="UTC"),
        _s("node_selinux_enabled", C, 0.0),
        _s("node_entropy_pool_size_bits", C, 256.0),
        # Constant since Linux 5.18.
        _s("node_entropy_available_bits", C, 256.0),
        _s("node_filefd_maximum", C, 9.223372036854776e18),
        _s("node_nf_conntrack_entries_limit", C, 262144.0),
        _s("node_textfile_scrape_error", C, 0.0),
        _s("node_timex_sync_status", C, 1.0),
        _s("node_timex_status", C, 8193.0),
        _s("node_timex_tai_offset_seconds", C, 0.0),
        _s("node_timex_loop_time_constant", C, 7.0),
        _s("node_timex_pps_frequency_hertz", C, 0.0),
        _s("node_timex_tick_seconds", C, 0.01),
        _s("node_hwmon_chip_names", C, 1.0, chip="platform_coretemp_0", chip_name="coretemp"),
        _s("process_max_fds", C, 1048576.0),
        _s("process_start_time_seconds", C, 1.7e9),
        _s(
            "node_nvme_info",
            C,
            1.0,
            device="nvme0",
            firmware_revision="1.0",
            model="NVMe disk",
            serial="S1234",
            state="live",
        ),
        _s("node_power_supply_online", C, 1.0, power_supply="AC"),
        _s("node_thermal_zone_temp", C, 27.8, type="acpitz", zone="0"),
        _s("node_udp_queues", C, 0.0, ip="v4", queue="rx"),
        _s("node_udp_queues", C, 0.0, ip="v4", queue="tx"),
        _s("node_udp_queues", C, 0.0, ip="v6", queue="rx"),
        _s("node_udp_queues", C, 0.0, ip="v6", queue="tx"),
        _s("node_arp_entries", C, 4.0, device="eth0"),
    ]
    out.extend(misc_const)
    return out


@dataclass(frozen=True)
class WorkloadSpec:
    instances: int = 100
    steps: int = 240
    series_per_request: int = 2000  # the figure; a typical remote-write shard batch
    seed: int = 20240601
    # Timestamp of the last step; None means "a few minutes before now", rounded to a step.
    end_ms: int | None = None


@dataclass
class Request:
    """One remote-write request: its step, its position in the step, and its samples."""

    step: int
    index: int
    batch: SampleBatch


class Workload:
    """The batches of one benchmark run, generated step by step from a seed."""

    def __init__(self, spec: WorkloadSpec) -> None:
        self.spec = spec
        self.catalog = node_exporter_catalog()
        self.series_per_instance = len(self.catalog)
        end = spec.end_ms
        if end is None:
            now = int(time.time() * 1000)
            end = (now - END_LAG_MS) // STEP_MS * STEP_MS
        self.end_ms = end
        self.start_ms = end - (spec.steps - 1) * STEP_MS
        # Instance-major order: all series of host-000, then host-001, ... so a
        # request holds whole instances, as a sharded remote-write queue mostly does.
        self.series: list[Labels] = [
            tuple(
                sorted(
                    (
                        *d.labels,
                        ("__name__", d.name),
                        ("instance", f"host-{i:03d}:9100"),
                        ("job", "node"),
                    )
                )
            )
            for i in range(spec.instances)
            for d in self.catalog
        ]
        self.requests_per_step = math.ceil(len(self.series) / spec.series_per_request)

    @property
    def num_series(self) -> int:
        return len(self.series)

    @property
    def num_samples(self) -> int:
        return self.num_series * self.spec.steps

    def kind_shares(self) -> dict[str, float]:
        kinds = [d.kind for d in self.catalog]
        return {k.name.lower(): kinds.count(k) / len(kinds) for k in Kind}

    def steps(self) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
        """Per step: (timestamp per instance, values of every series instance-major)."""
        spec = self.spec
        rng = np.random.default_rng(spec.seed)
        n, s = spec.instances, self.series_per_instance
        kind = np.array([d.kind for d in self.catalog], np.int8)
        quantum = np.array([d.quantum for d in self.catalog], np.float64)
        max_move = np.array([d.max_move for d in self.catalog], np.int64)
        start = np.array([d.value for d in self.catalog], np.float64)

        # Everything is kept as an integer count of its quantum so values stay
        # exact decimals (node_exporter prints 12345.67, not 12345.670000001).
        q = np.where(kind == Kind.SECONDS, 0.01, np.where(kind == Kind.GAUGE, quantum, 1.0))
        units = np.zeros((n, s), np.int64)
        gcols = kind == Kind.GAUGE
        units[:, gcols] = np.rint(start[gcols] / q[gcols]).astype(np.int64)
        # Counters start where a host up for days would be, different per host.
        for k, hi in ((Kind.RARE, 50), (Kind.SECONDS, 10**9), (Kind.BYTES, 10**12)):
            cols = kind == k
            units[:, cols] = rng.integers(0, hi, (n, int(cols.sum())))
        # Gauges start near their catalog value, a little different per host.
        units[:, gcols] += rng.integers(-5, 6, (n, int(gcols.sum()))) * max_move[gcols]
        np.maximum(units, 0, out=units)

        offsets = rng.integers(0, STEP_MS, n)  # each target has its own scrape phase
        rare, sec, byt = (kind == Kind.RARE), (kind == Kind.SECONDS), (kind == Kind.BYTES)
        n_rare, n_sec, n_byt, n_g = (
            int(rare.sum()),
            int(sec.sum()),
            int(byt.sum()),
            int(gcols.sum()),
        )
        for step in range(spec.steps):
            if step:
                moved = rng.random((n, n_rare)) < RARE_PROBABILITY
                units[:, rare] += moved * rng.integers(1, 4, (n, n_rare))
                units[:, sec] += rng.integers(0, 1501, (n, n_sec))
                units[:, byt] += rng.integers(0, 1_000_001, (n, n_byt))
                walk = rng.integers(-1, 2, (n, n_g)) * rng.integers(
                    0, max_move[gcols] + 1, (n, n_g)
                )
                units[:, gcols] = np.maximum(units[:, gcols] + walk, 0)
            # Constants bypass the integer units: some (node_filefd_maximum) exceed int64.
            values = np.where(kind == Kind.CONSTANT, start, units * q)
            ts = self.start_ms + step * STEP_MS + offsets + rng.integers(0, JITTER_MS, n)
            yield ts.astype(np.int64), values.reshape(-1)

    def requests(self) -> Iterator[Request]:
        """Every request of the run, in time order, ``requests_per_step`` per step."""
        per = self.spec.series_per_request
        s = self.series_per_instance
        total = self.num_series
        instance_of = np.arange(total, dtype=np.int64) // s
        for step, (ts_per_instance, values) in enumerate(self.steps()):
            ts = ts_per_instance[instance_of]
            for index, a in enumerate(range(0, total, per)):
                b = min(a + per, total)
                batch = SampleBatch(
                    self.series[a:b],
                    np.arange(b - a, dtype=np.int32),
                    ts[a:b].copy(),
                    values[a:b].copy(),
                )
                yield Request(step, index, batch)
