"""The file parsers, as tables of (content, expected) and (garbage, error)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kubesight.collect.containers import _parse as p

GOOD: list[tuple[Callable[[bytes], Any], bytes, Any]] = [
    (p.flat_keyed, b"usage_usec 12\nuser_usec 7\n", {b"usage_usec": b"12", b"user_usec": b"7"}),
    (p.flat_keyed, b"", {}),
    (lambda d: p.pick(d, (b"file", b"anon", b"file_mapped", b"inactive_file")),
     b"anon 5\nfile 7\nfile_mapped 1\nactive_file 3\n", [7, 5, 1, None]),
    (lambda d: p.pick(d, (b"usage_usec",)), b"usage_usec 12", [12]),
    (p.number, b"268435456\n", 268435456),
    (p.number, b"max\n", None),
    (p.cpu_max, b"max 100000\n", (0, 100000)),
    (p.cpu_max, b"50000 100000\n", (50000, 100000)),
    (p.cfs_quota_v1, b"-1\n", 0),
    (p.cfs_quota_v1, b"150000\n", 150000),
    (p.psi_totals, b"some avg10=1.94 avg60=2.40 avg300=1.12 total=2063061735\n"
                   b"full avg10=0.00 avg60=0.00 avg300=0.00 total=17\n", (2063061735, 17)),
    # the system-wide cpu.pressure of kernels before 5.13 has no "full" line
    (p.psi_totals, b"some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n", (5, 0)),
    (p.io_stat_v2, b"8:0 rbytes=1482752 wbytes=4096 rios=90 wios=1 dbytes=0 dios=0\n"
                   b"253:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0 cost.usage=5\n",
     [(8, 0, 1482752, 4096, 90, 1), (253, 0, 1, 2, 3, 4)]),
    (p.io_stat_v2, b"", []),
    (p.blkio_v1, b"8:0 Read 10\n8:0 Write 20\n8:0 Sync 5\n8:0 Async 25\n8:0 Discard 0\n"
                 b"8:0 Total 30\n8:16 Read 1\n8:16 Write 0\n8:16 Total 1\nTotal 31\n",
     {(8, 0): (10, 20), (8, 16): (1, 0)}),
    (p.blkio_v1, b"Total 0\n", {}),
    (p.net_dev, b"Inter-|   Receive  |  Transmit\n face |bytes packets|bytes packets\n"
                b"    lo:  900 9 0 0 0 0 0 0  900 9 0 0 0 0 0 0\n"
                b"  eth0: 5000 50 1 2 0 0 0 0 3000 30 3 4 0 0 0 0\n"
                b"vethab12: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n"
                b"Docker0: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n"
                b"  ens3:1 2 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n",
     [("eth0", 5000, 50, 1, 2, 3000, 30, 3, 4), ("ens3", 1, 2, 0, 0, 3, 4, 0, 0)]),
    (p.meminfo_swap_used, b"MemTotal: 10 kB\nSwapTotal:  2048 kB\nSwapFree:  1024 kB\n", 1048576),
]


@pytest.mark.parametrize(("parse", "data", "want"), GOOD)
def test_parses(parse: Callable[[bytes], Any], data: bytes, want: Any) -> None:
    assert parse(data) == want


BAD: list[tuple[Callable[[bytes], Any], bytes]] = [
    (p.flat_keyed, b"usage_usec\n"),
    (lambda d: p.pick(d, (b"file",)), b"anon 5\nfile 7x\n"),
    (p.number, b""),
    (p.number, b"-5\n"),
    (p.number, b"12 13\n"),
    (p.cpu_max, b"100000\n"),
    (p.cpu_max, b"x 100000\n"),
    (p.cfs_quota_v1, b"-2\n"),
    (p.psi_totals, b"some avg10=0.00\n"),
    (p.psi_totals, b"full avg10=0.00 total=1\n"),
    (p.psi_totals, b"some total=abc\n"),
    (p.io_stat_v2, b"sda rbytes=1\n"),
    (p.io_stat_v2, b"8:0 rbytes=\n"),
    (p.blkio_v1, b"8:0 Read\n"),
    (p.blkio_v1, b"80 Read 1\n"),
    (p.blkio_v1, b"8:0 Read many\n"),
    (p.net_dev, b"h\nh\n  eth0 1 2 3\n"),
    (p.net_dev, b"h\nh\n  eth0: 1 2 3\n"),
    (p.net_dev, b"h\nh\n  eth0: 1 2 3 4 5 6 7 8 x 10 11 12 13 14 15 16\n"),
    (p.meminfo_swap_used, b"MemTotal: 10 kB\n"),
]


@pytest.mark.parametrize(("parse", "data"), BAD)
def test_garbage_raises_value_error(parse: Callable[[bytes], Any], data: bytes) -> None:
    with pytest.raises(ValueError):
        parse(data)


@pytest.mark.parametrize(("weight", "shares"), [(1, 2), (100, 2597), (10000, 262144)])
def test_weight_to_shares_is_cadvisors_mapping(weight: int, shares: int) -> None:
    assert p.weight_to_shares(weight) == shares


def test_weight_outside_its_range() -> None:
    with pytest.raises(ValueError, match="outside"):
        p.weight_to_shares(0)
