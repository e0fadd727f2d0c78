"""The host collector against Debian's node_exporter on this machine, scraped at the same moment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from kubesight.collect.family import encode
from kubesight.collect.host import HostCollector
from kubesight.model.samples import MetricMetadata
from kubesight.wire.exposition import Format, parse
from tests.peers import node_exporter

pytestmark = pytest.mark.peer

Key = tuple[str, frozenset[tuple[str, str]]]

_STAT = {"node_boot_time_seconds", "node_context_switches_total", "node_forks_total", "node_intr_total",
         "node_procs_running", "node_procs_blocked"}

# Which of node_exporter's series each collector makes (node_exporter does not say).
OWNER: dict[str, Callable[[str], bool]] = {
    "cpu": lambda n: n.startswith("node_cpu_"),
    "stat": lambda n: n in _STAT,
    "meminfo": lambda n: n.startswith("node_memory_"),
    "loadavg": lambda n: n in ("node_load1", "node_load5", "node_load15"),
    "filesystem": lambda n: n.startswith("node_filesystem_"),
    "diskstats": lambda n: n.startswith("node_disk_"),
    # netclass has node_network_* too, none of them receive_/transmit_ counters
    "netdev": lambda n: n.startswith(("node_network_receive_", "node_network_transmit_")) and n.endswith("_total"),
    "netstat": lambda n: n.startswith("node_netstat_"),
    "vmstat": lambda n: n.startswith("node_vmstat_"),
    "uname": lambda n: n == "node_uname_info",
    "time": lambda n: n.startswith("node_time_"),
    "timex": lambda n: n.startswith("node_timex_"),
    "filefd": lambda n: n.startswith("node_filefd_"),
    "pressure": lambda n: n.startswith("node_pressure_"),
    "conntrack": lambda n: n.startswith("node_nf_conntrack_"),
    "entropy": lambda n: n.startswith("node_entropy_"),
    "textfile": lambda n: n.startswith("node_textfile_"),
}


@dataclass
class Scrape:
    values: dict[Key, float]
    metadata: dict[str, MetricMetadata]

    def names(self, collector: str) -> set[str]:
        return {k[0] for k in self.values if OWNER[collector](k[0])}

    def keys(self, collector: str) -> set[Key]:
        return {k for k in self.values if OWNER[collector](k[0])}

    def get(self, name: str, **labels: str) -> float:
        return self.values[(name, frozenset(labels.items()))]


def _scrape(body: bytes) -> Scrape:
    p = parse(body, Format.TEXT_004, default_timestamp_ms=0)
    values = {}
    for s, v in zip(p.batch.series, p.batch.values.tolist(), strict=True):
        d = dict(s)
        values[(d.pop("__name__"), frozenset(d.items()))] = v
    return Scrape(values, {m.metric_family: m for m in p.metadata})


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Scrape, Scrape]]:
    collector = HostCollector()
    with node_exporter(tmp_path_factory.mktemp("node_exporter")) as addr, ThreadPoolExecutor(2) as pool:
        theirs = pool.submit(lambda: httpx.get(f"http://{addr}/metrics", timeout=30).content)
        ours = pool.submit(lambda: encode(collector.collect()))
        yield _scrape(ours.result()), _scrape(theirs.result())


def _shared(ours: Scrape, theirs: Scrape) -> list[str]:
    def ran(s: Scrape) -> set[str]:
        return {dict(k[1])["collector"] for k in s.values if k[0] == "node_scrape_collector_success"}
    shared = sorted(ran(ours) & ran(theirs))
    assert set(shared) == set(OWNER), "node_exporter should run every collector we have"
    return shared


def test_every_shared_collector_succeeds_or_fails_alike(both: tuple[Scrape, Scrape]) -> None:
    ours, theirs = both
    for c in _shared(ours, theirs):
        assert ours.get("node_scrape_collector_success", collector=c) == theirs.get(
            "node_scrape_collector_success", collector=c), c


def test_same_metric_names_per_collector(both: tuple[Scrape, Scrape]) -> None:
    ours, theirs = both
    for c in _shared(ours, theirs):
        assert ours.names(c) == theirs.names(c), c


def test_same_label_sets_per_collector(both: tuple[Scrape, Scrape]) -> None:
    ours, theirs = both
    for c in _shared(ours, theirs):
        assert ours.keys(c) == theirs.keys(c), c


def test_same_help_and_type(both: tuple[Scrape, Scrape]) -> None:
    ours, theirs = both
    for name, meta in ours.metadata.items():
        assert theirs.metadata.get(name) == meta, name


def test_equal_values_for_the_stable_series(both: tuple[Scrape, Scrape]) -> None:
    ours, theirs = both
    stable = {"node_memory_MemTotal_bytes", "node_memory_SwapTotal_bytes", "node_boot_time_seconds",
              "node_filesystem_size_bytes", "node_filesystem_files", "node_filesystem_readonly",
              "node_filesystem_device_error", "node_uname_info", "node_entropy_pool_size_bits",
              "node_filefd_maximum", "node_nf_conntrack_entries_limit", "node_time_clocksource_available_info",
              "node_time_clocksource_current_info", "node_time_zone_offset_seconds", "node_timex_tick_seconds",
              "node_disk_info", "node_scrape_collector_success"}
    compared = 0
    for key, v in theirs.values.items():
        if key[0] in stable and key in ours.values:
            assert ours.values[key] == v, key
            compared += 1
    assert compared >= len(stable) - 2  # conntrack or disks may be absent on a host
    cpus = {(dict(k[1])["cpu"], dict(k[1])["mode"]) for k in theirs.values if k[0] == "node_cpu_seconds_total"}
    assert cpus == {(dict(k[1])["cpu"], dict(k[1])["mode"]) for k in ours.values
                    if k[0] == "node_cpu_seconds_total"}


def test_counters_agree_within_the_time_between_the_two_reads(both: tuple[Scrape, Scrape]) -> None:
    ours, theirs = both
    for key, v in theirs.values.items():
        if key[0] == "node_cpu_seconds_total" and key[1] >= {("mode", "idle")}:
            # a CPU is idle at most 100% of the time; both reads are within a few seconds
            assert abs(ours.values[key] - v) < 5, key
    assert ours.get("node_time_seconds") == pytest.approx(theirs.get("node_time_seconds"), abs=30)


