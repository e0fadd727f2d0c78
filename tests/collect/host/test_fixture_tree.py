"""Every parser against a /proc and /sys captured from a real host (tests/collect/host/fixtures)."""

from __future__ import annotations

import os

import pytest

from kubesight.collect.family import Family
from kubesight.collect.host import COLLECTORS, HostCollector
from kubesight.collect.host.system import CpuState
from tests.collect.host._util import fixture_options, names, samples, success, value

# filesystem statfs()es real paths and time/timex/uname read the running
# kernel: they have their own tests.
_FIXTURE_ONLY = frozenset({"filesystem", "time", "timex", "uname", "textfile"})


@pytest.fixture(scope="module")
def fams() -> list[Family]:
    return HostCollector(fixture_options(disable=_FIXTURE_ONLY)).collect()


def test_every_fixture_collector_succeeds(fams: list[Family]) -> None:
    assert success(fams) == {c: 1.0 for c in COLLECTORS if c not in _FIXTURE_ONLY}


def test_cpu_seconds_per_cpu_and_mode_in_user_hz(fams: list[Family]) -> None:
    cpu = {(k[1], v) for k, v in samples(fams).items() if k[0] == "node_cpu_seconds_total"}
    assert len(cpu) == 16  # 2 CPUs x 8 modes; the aggregate "cpu" line is not a CPU
    assert value(fams, "node_cpu_seconds_total", cpu="0", mode="user") == pytest.approx(4474.61)
    assert value(fams, "node_cpu_seconds_total", cpu="1", mode="idle") == pytest.approx(4738.90)
    assert value(fams, "node_cpu_seconds_total", cpu="1", mode="steal") == pytest.approx(21.32)
    assert value(fams, "node_cpu_guest_seconds_total", cpu="0", mode="nice") == 0.0
    assert {k[1] for k in samples(fams) if k[0] == "node_cpu_guest_seconds_total"} == {
        frozenset({("cpu", c), ("mode", m)}) for c in "01" for m in ("user", "nice")}


def test_stat(fams: list[Family]) -> None:
    assert value(fams, "node_boot_time_seconds") == 1795429517
    assert value(fams, "node_context_switches_total") == 19951608
    assert value(fams, "node_forks_total") == 104632
    assert value(fams, "node_intr_total") == 11546044
    assert value(fams, "node_procs_running") == 3
    assert value(fams, "node_procs_blocked") == 0


def test_meminfo_names_and_units(fams: list[Family]) -> None:
    assert value(fams, "node_memory_MemTotal_bytes") == 24683656 * 1024
    assert value(fams, "node_memory_Active_anon_bytes") == 1584 * 1024
    assert value(fams, "node_memory_HugePages_Total") == 0  # a count: no unit, no _bytes
    mem = {n for n in names(fams) if n.startswith("node_memory_")}
    assert len(mem) == 54
    help_ = {f.name: f.help for f in fams}
    assert help_["node_memory_Active_anon_bytes"] == "Memory information field Active_anon_bytes."


def test_loadavg_filefd_entropy(fams: list[Family]) -> None:
    assert [value(fams, n) for n in ("node_load1", "node_load5", "node_load15")] == [1.72, 1.23, 0.74]
    assert value(fams, "node_filefd_allocated") == 609
    assert value(fams, "node_filefd_maximum") == 2466174
    assert value(fams, "node_entropy_available_bits") == 243
    assert value(fams, "node_entropy_pool_size_bits") == 256


def test_vmstat_default_fields(fams: list[Family]) -> None:
    assert {n for n in names(fams) if n.startswith("node_vmstat_")} == {
        "node_vmstat_" + f for f in ("pgpgin", "pgpgout", "pswpin", "pswpout", "pgfault", "pgmajfault", "oom_kill")}
    assert value(fams, "node_vmstat_pgfault") == 81027372
    assert {f.type for f in fams if f.name.startswith("node_vmstat_")} == {"unknown"}  # untyped, as node_exporter


def test_diskstats_excludes_loops_scales_units_and_reads_udev(fams: list[Family]) -> None:
    devices = {dict(k[1])["device"] for k in samples(fams) if k[0] == "node_disk_reads_completed_total"}
    assert devices == {"vda", "zram0", "sda"}
    assert value(fams, "node_disk_read_bytes_total", device="vda") == 15629730 * 512
    assert value(fams, "node_disk_read_time_seconds_total", device="vda") == pytest.approx(401.632)
    assert value(fams, "node_disk_discarded_sectors_total", device="vda") == 135063568  # sectors, unscaled
    assert value(fams, "node_disk_flush_requests_time_seconds_total", device="vda") == pytest.approx(20.597)
    # A 14-column line (kernels before 4.18) has no discard or flush series
    assert value(fams, "node_disk_io_time_weighted_seconds_total", device="sda") == 10.0
    assert ("node_disk_discards_completed_total", frozenset({("device", "sda")})) not in samples(fams)
    assert value(fams, "node_disk_info", device="vda", major="254", minor="0", path="virtio-pci-0000:00:05.0",
                 model="QEMU disk", serial="ks-0001") == 1
    assert value(fams, "node_disk_info", device="sda", major="8", minor="0") == 1  # no udev entry: empty labels
    assert value(fams, "node_disk_filesystem_info", device="vda", type="ext4", usage="filesystem",
                 uuid="3e6be9de-8139-4a1e-b5c1-0d1b2d4d1f3a", version="1.0") == 1


def test_netdev_from_proc_net_dev_excludes_lo(fams: list[Family]) -> None:
    fam = {f.name: f for f in fams}["node_network_receive_bytes_total"]
    assert {dict(lbls)["device"] for lbls, _ in fam.samples} == {"eth0", "ifb0", "ifb1"}
    assert value(fams, "node_network_receive_bytes_total", device="eth0") == 971020700
    assert value(fams, "node_network_transmit_packets_total", device="eth0") == 17970
    assert len({n for n in names(fams) if n.startswith("node_network_")}) == 16
    assert fam.help == "Network device statistic receive_bytes."


def test_netstat_default_fields(fams: list[Family]) -> None:
    got = {n.removeprefix("node_netstat_") for n in names(fams) if n.startswith("node_netstat_")}
    assert got == {
        "Icmp6_InErrors", "Icmp6_InMsgs", "Icmp6_OutMsgs", "Icmp_InErrors", "Icmp_InMsgs", "Icmp_OutMsgs",
        "Ip6_InOctets", "Ip6_OutOctets", "IpExt_InOctets", "IpExt_OutOctets", "Ip_Forwarding",
        "TcpExt_ListenDrops", "TcpExt_ListenOverflows", "TcpExt_SyncookiesFailed", "TcpExt_SyncookiesRecv",
        "TcpExt_SyncookiesSent", "TcpExt_TCPSynRetrans", "TcpExt_TCPTimeouts", "Tcp_ActiveOpens", "Tcp_CurrEstab",
        "Tcp_InErrs", "Tcp_InSegs", "Tcp_OutRsts", "Tcp_OutSegs", "Tcp_PassiveOpens", "Tcp_RetransSegs",
        "Udp6_InDatagrams", "Udp6_InErrors", "Udp6_NoPorts", "Udp6_OutDatagrams", "Udp6_RcvbufErrors",
        "Udp6_SndbufErrors", "UdpLite6_InErrors", "UdpLite_InErrors", "Udp_InDatagrams", "Udp_InErrors",
        "Udp_NoPorts", "Udp_OutDatagrams", "Udp_RcvbufErrors", "Udp_SndbufErrors",
    }
    assert value(fams, "node_netstat_Tcp_CurrEstab") == 8
    assert value(fams, "node_netstat_IpExt_InOctets") == 19082869588
    assert value(fams, "node_netstat_Ip6_OutOctets") == 1232
    assert {f.name: f.help for f in fams}["node_netstat_Tcp_CurrEstab"] == "Statistic TcpCurrEstab."


def test_conntrack_sums_hex_counters_over_cpus(fams: list[Family]) -> None:
    assert value(fams, "node_nf_conntrack_entries") == 0
    assert value(fams, "node_nf_conntrack_entries_limit") == 262144
    got = {k[0].removeprefix("node_nf_conntrack_stat_"): v for k, v in samples(fams).items()
           if k[0].startswith("node_nf_conntrack_stat_")}
    assert got == {"found": 17, "invalid": 3, "ignore": 4, "insert": 5, "insert_failed": 2, "drop": 6,
                   "early_drop": 7, "search_restart": 8}


def test_pressure_totals_in_seconds(fams: list[Family]) -> None:
    assert value(fams, "node_pressure_cpu_waiting_seconds_total") == pytest.approx(2112.854624)
    assert value(fams, "node_pressure_io_waiting_seconds_total") == pytest.approx(51.112385)
    assert value(fams, "node_pressure_io_stalled_seconds_total") == pytest.approx(27.588094)
    assert value(fams, "node_pressure_memory_stalled_seconds_total") == 0


def test_time_clocksources_from_sysfs() -> None:
    fams = HostCollector(fixture_options(disable_defaults=True, enable=frozenset({"time"}))).collect()
    assert value(fams, "node_time_clocksource_available_info", clocksource="kvm-clock", device="0") == 1
    assert value(fams, "node_time_clocksource_available_info", clocksource="tsc", device="0") == 1
    assert value(fams, "node_time_clocksource_current_info", clocksource="tsc", device="0") == 1
    zone = [k for k in samples(fams) if k[0] == "node_time_zone_offset_seconds"]
    assert len(zone) == 1 and dict(zone[0][1])["time_zone"]


def test_timex_and_uname_from_the_running_kernel() -> None:
    fams = HostCollector(fixture_options(disable_defaults=True, enable=frozenset({"timex", "uname"}))).collect()
    assert success(fams) == {"timex": 1.0, "uname": 1.0}
    assert value(fams, "node_timex_tick_seconds") > 0
    assert value(fams, "node_timex_frequency_adjustment_ratio") == pytest.approx(1, abs=0.01)
    u = os.uname()
    assert value(fams, "node_uname_info", sysname=u.sysname, release=u.release, version=u.version,
                 machine=u.machine, nodename=u.nodename, domainname="(none)") == 1


def test_counters_never_go_backwards_but_a_hotplug_resets() -> None:
    st = CpuState()
    st.update("0", [10.0, 0, 0, 100.0, 0, 0, 0, 0, 0, 0])
    assert st.update("0", [9.0, 0, 0, 101.0, 0, 0, 0, 0, 0, 0])[:4] == [10.0, 0, 0, 101.0]  # user kept
    assert st.update("0", [1.0, 0, 0, 50.0, 0, 0, 0, 0, 0, 0])[:4] == [1.0, 0, 0, 50.0]  # idle back 51s: reset
