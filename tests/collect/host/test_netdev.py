"""netdev through rtnetlink (node_exporter 1.5's default) against /proc/net/dev."""

from __future__ import annotations

import struct

import pytest

from kubesight.collect.host import HostCollector, HostOptions
from kubesight.collect.host._files import HostReadError, read_bytes
from kubesight.collect.host.net import (
    NETLINK_KEYS,
    PROC_NET_DEV_KEYS,
    netlink_links,
    parse_netlink_links,
    parse_proc_net_dev,
)
from tests.collect.host._util import samples, success


def _link(name: bytes, stats: list[int]) -> bytes:
    ifname = struct.pack("=HH", 4 + len(name) + 1, 3) + name + b"\0"
    ifname += b"\0" * (-len(ifname) % 4)
    st = struct.pack("=HH", 4 + 8 * len(stats), 23) + struct.pack(f"={len(stats)}Q", *stats)
    body = bytes(16) + ifname + st
    return struct.pack("=IHHII", 16 + len(body), 16, 2, 1, 0) + body


def test_rtnetlink_stats_fold_into_proc_net_dev_columns() -> None:
    stats = list(range(1, 25))  # rx_packets=1, tx_packets=2, rx_bytes=3, ... rx_nohandler=24
    msg = _link(b"eth7", stats) + struct.pack("=IHHII", 16, 3, 2, 1, 0)
    devices, done = parse_netlink_links(msg)
    assert done
    got = dict(zip(NETLINK_KEYS, devices["eth7"], strict=True))
    assert got["receive_bytes"] == 3 and got["transmit_packets"] == 2
    assert got["receive_drop"] == 7 + 16  # rx_dropped + rx_missed_errors, as the kernel's /proc/net/dev
    assert got["receive_frame"] == 14 + 11 + 12 + 13  # frame + length + over + crc errors
    assert got["transmit_carrier"] == 18 + 17 + 20 + 21  # carrier + aborted + heartbeat + window errors
    assert got["receive_nohandler"] == 24


def test_a_truncated_netlink_message_is_an_error() -> None:
    with pytest.raises(HostReadError, match="truncated"):
        parse_netlink_links(_link(b"eth7", [0] * 24)[:40])


def test_netlink_sees_the_devices_of_proc_net_dev() -> None:
    links = netlink_links()
    proc = parse_proc_net_dev(read_bytes("/proc/net/dev"), "/proc/net/dev")
    assert set(links) == set(proc)
    for dev, values in proc.items():
        # counters only grow between the two reads
        for key, a, b in zip(PROC_NET_DEV_KEYS, values, links[dev], strict=False):
            assert b >= a, (dev, key)


def test_the_default_collector_uses_netlink() -> None:
    fams = HostCollector(HostOptions(disable_defaults=True, enable=frozenset({"netdev"}))).collect()
    assert success(fams) == {"netdev": 1.0}
    assert any(k[0] == "node_network_receive_nohandler_total" for k in samples(fams))
