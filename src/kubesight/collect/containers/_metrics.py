"""The ``container_*`` families: cAdvisor's names, types and HELP texts, and filling them.

HELP texts are cAdvisor's own (lib/metrics/prometheus.go), so that
``/api/v1/metadata`` and a scrape of this collector read like the kubelet's
``/metrics/cadvisor``. Which values fill which family is cAdvisor's
(lib/container/libcontainer/handler.go): see docs/collect-containers.md.
"""

from __future__ import annotations

from kubesight.collect.containers._read import Stats
from kubesight.collect.family import Family
from kubesight.model.labels import METRIC_NAME, Labels

C, G = "counter", "gauge"

SPECS: tuple[tuple[str, str, str], ...] = (
    ("container_cpu_usage_seconds_total", C, "Cumulative cpu time consumed in seconds."),
    ("container_cpu_user_seconds_total", C, "Cumulative user cpu time consumed in seconds."),
    ("container_cpu_system_seconds_total", C, "Cumulative system cpu time consumed in seconds."),
    ("container_cpu_cfs_periods_total", C, "Number of elapsed enforcement period intervals."),
    ("container_cpu_cfs_throttled_periods_total", C, "Number of throttled period intervals."),
    ("container_cpu_cfs_throttled_seconds_total", C,
     "Total time duration the container has been throttled."),
    ("container_memory_cache", G, "Number of bytes of page cache memory."),
    ("container_memory_rss", G, "Size of RSS in bytes."),
    ("container_memory_mapped_file", G, "Size of memory mapped files in bytes."),
    ("container_memory_swap", G, "Container swap usage in bytes."),
    ("container_memory_failcnt", C, "Number of memory usage hits limits"),
    ("container_memory_usage_bytes", G,
     "Current memory usage in bytes, including all memory regardless of when it was accessed"),
    ("container_memory_working_set_bytes", G, "Current working set in bytes."),
    ("container_oom_events_total", C, "Count of out of memory events observed for the container"),
    ("container_fs_reads_bytes_total", C, "Cumulative count of bytes read"),
    ("container_fs_reads_total", C, "Cumulative count of reads completed"),
    ("container_fs_writes_bytes_total", C, "Cumulative count of bytes written"),
    ("container_fs_writes_total", C, "Cumulative count of writes completed"),
    ("container_pressure_cpu_stalled_seconds_total", C,
     "Total time duration no tasks in the container could make progress due to CPU congestion."),
    ("container_pressure_cpu_waiting_seconds_total", C,
     "Total time duration tasks in the container have waited due to CPU congestion."),
    ("container_pressure_memory_stalled_seconds_total", C,
     "Total time duration no tasks in the container could make progress due to memory congestion."),
    ("container_pressure_memory_waiting_seconds_total", C,
     "Total time duration tasks in the container have waited due to memory congestion."),
    ("container_pressure_io_stalled_seconds_total", C,
     "Total time duration no tasks in the container could make progress due to IO congestion."),
    ("container_pressure_io_waiting_seconds_total", C,
     "Total time duration tasks in the container have waited due to IO congestion."),
    ("container_network_receive_bytes_total", C, "Cumulative count of bytes received"),
    ("container_network_receive_packets_total", C, "Cumulative count of packets received"),
    ("container_network_receive_packets_dropped_total", C,
     "Cumulative count of packets dropped while receiving"),
    ("container_network_receive_errors_total", C,
     "Cumulative count of errors encountered while receiving"),
    ("container_network_transmit_bytes_total", C, "Cumulative count of bytes transmitted"),
    ("container_network_transmit_packets_total", C, "Cumulative count of packets transmitted"),
    ("container_network_transmit_packets_dropped_total", C,
     "Cumulative count of packets dropped while transmitting"),
    ("container_network_transmit_errors_total", C,
     "Cumulative count of errors encountered while transmitting"),
    ("container_last_seen", G, "Last time a container was seen by the exporter"),
    ("container_creation_time_seconds", G, "Container creation time since unix epoch in seconds."),
    ("container_start_time_seconds", G, "Start time of the container since unix epoch in seconds."),
    ("container_spec_cpu_period", G, "CPU period of the container."),
    ("container_spec_cpu_quota", G, "CPU quota of the container."),
    ("container_spec_cpu_shares", G, "CPU share of the container."),
    ("container_spec_memory_limit_bytes", G, "Memory limit for the container."),
    ("container_spec_memory_swap_limit_bytes", G, "Memory swap limit for the container."),
    ("container_spec_memory_reservation_limit_bytes", G,
     "Memory reservation limit for the container."),
)

SCRAPE_ERROR = ("container_scrape_error", G,
                "1 if there was an error while getting container metrics, 0 otherwise")
ERRORS_TOTAL = ("kubesight_container_collector_errors_total", C,
                "Cgroup and /proc files the container collector skipped, by reason and file.")
CGROUPS = ("kubesight_container_collector_cgroups", G,
           "Cgroups the container collector reported in its last collection.")

# cAdvisor: memory limits above 2^62 are "unlimited" (the kernel rounds
# v1's unlimited to a page multiple below 2^63) and reported as 0.
_MAX_MEMORY = 1 << 62

# (network family name, index in a NetEntry)
_NET = (("container_network_receive_bytes_total", 1),
        ("container_network_receive_packets_total", 2),
        ("container_network_receive_errors_total", 3),
        ("container_network_receive_packets_dropped_total", 4),
        ("container_network_transmit_bytes_total", 5),
        ("container_network_transmit_packets_total", 6),
        ("container_network_transmit_errors_total", 7),
        ("container_network_transmit_packets_dropped_total", 8))

_PSI = (("cpu", "container_pressure_cpu_waiting_seconds_total",
         "container_pressure_cpu_stalled_seconds_total"),
        ("memory", "container_pressure_memory_waiting_seconds_total",
         "container_pressure_memory_stalled_seconds_total"),
        ("io", "container_pressure_io_waiting_seconds_total",
         "container_pressure_io_stalled_seconds_total"))


def _spec_memory(v: int) -> float:
    return 0.0 if v > _MAX_MEMORY else float(v)


def with_label(base: Labels, key: str, value: str) -> Labels:
    """``base`` (sorted, no ``__name__``) with ``key=value`` inserted in order."""
    if not value:
        return base
    i = 0
    while i < len(base) and base[i][0] < key:
        i += 1
    return (*base[:i], (key, value), *base[i:])


class Families:
    """One collection's families, filled cgroup by cgroup."""

    def __init__(self) -> None:
        self.by_name = {n: Family(n, t, h) for n, t, h in SPECS}
        # Per family: the label prefix ("__name__", family) and the samples'
        # append. Every label name a cgroup has sorts after "__name__", so
        # prefix + the cgroup's labels is already a sorted label set.
        self._slots = {n: (((METRIC_NAME, n),), f.samples.append) for n, f in self.by_name.items()}

    def families(self) -> list[Family]:
        return [f for f in self.by_name.values() if f.samples]

    def add(self, base: Labels, st: Stats, now: float) -> None:
        # Written out family by family: this runs ~35 times per cgroup, and a
        # helper call per sample doubled the collector's CPU time.
        slots = self._slots
        p, a = slots["container_last_seen"]
        a((p + base, now))
        if st.start is not None:
            p, a = slots["container_creation_time_seconds"]
            a((p + base, st.start))
            p, a = slots["container_start_time_seconds"]
            a((p + base, st.start))
        if st.has_cpu:
            p, a = slots["container_spec_cpu_period"]
            a((p + base, float(st.cpu_period)))
            if st.cpu_quota:
                p, a = slots["container_spec_cpu_quota"]
                a((p + base, float(st.cpu_quota)))
            p, a = slots["container_spec_cpu_shares"]
            a((p + base, float(st.cpu_shares)))
        if st.has_memory:
            p, a = slots["container_spec_memory_limit_bytes"]
            a((p + base, _spec_memory(st.mem_limit)))
            p, a = slots["container_spec_memory_swap_limit_bytes"]
            a((p + base, _spec_memory(st.mem_swap_limit)))
            p, a = slots["container_spec_memory_reservation_limit_bytes"]
            a((p + base, _spec_memory(st.mem_reservation)))
        if st.cpu_user is not None:
            p, a = slots["container_cpu_user_seconds_total"]
            a((p + base, st.cpu_user))
        if st.cpu_system is not None:
            p, a = slots["container_cpu_system_seconds_total"]
            a((p + base, st.cpu_system))
        if st.cpu_total:  # cAdvisor leaves out a zero total
            p, a = slots["container_cpu_usage_seconds_total"]
            a((p + with_label(base, "cpu", "total"), st.cpu_total))
        if st.cpu_quota:  # throttling only where a quota is set, as cAdvisor
            if st.cfs_periods is not None:
                p, a = slots["container_cpu_cfs_periods_total"]
                a((p + base, float(st.cfs_periods)))
            if st.cfs_throttled is not None:
                p, a = slots["container_cpu_cfs_throttled_periods_total"]
                a((p + base, float(st.cfs_throttled)))
            if st.cfs_throttled_s is not None:
                p, a = slots["container_cpu_cfs_throttled_seconds_total"]
                a((p + base, st.cfs_throttled_s))
        if st.mem_cache is not None:
            p, a = slots["container_memory_cache"]
            a((p + base, float(st.mem_cache)))
        if st.mem_rss is not None:
            p, a = slots["container_memory_rss"]
            a((p + base, float(st.mem_rss)))
        if st.mem_mapped is not None:
            p, a = slots["container_memory_mapped_file"]
            a((p + base, float(st.mem_mapped)))
        if st.mem_swap is not None:
            p, a = slots["container_memory_swap"]
            a((p + base, float(st.mem_swap)))
        if st.mem_failcnt is not None:
            p, a = slots["container_memory_failcnt"]
            a((p + base, float(st.mem_failcnt)))
        if st.mem_usage is not None:
            p, a = slots["container_memory_usage_bytes"]
            a((p + base, float(st.mem_usage)))
            if st.mem_inactive_file is not None:
                p, a = slots["container_memory_working_set_bytes"]
                a((p + base, float(max(st.mem_usage - st.mem_inactive_file, 0))))
        if st.oom is not None:
            p, a = slots["container_oom_events_total"]
            a((p + base, float(st.oom)))
        if st.io:
            prb, arb = slots["container_fs_reads_bytes_total"]
            pwb, awb = slots["container_fs_writes_bytes_total"]
            pr, ar = slots["container_fs_reads_total"]
            pw, aw = slots["container_fs_writes_total"]
            for dev, rb, wb, r, w in st.io:
                lb = with_label(base, "device", dev)
                arb((prb + lb, float(rb)))
                awb((pwb + lb, float(wb)))
                ar((pr + lb, float(r)))
                aw((pw + lb, float(w)))
        if st.psi:
            for res, waiting, stalled in _PSI:
                v = st.psi.get(res)
                if v is not None:
                    p, a = slots[waiting]
                    a((p + base, v[0]))
                    p, a = slots[stalled]
                    a((p + base, v[1]))
        if st.net:
            for entry in st.net:
                lb = with_label(base, "interface", entry[0])
                for name, i in _NET:
                    p, a = slots[name]
                    a((p + lb, float(entry[i])))
