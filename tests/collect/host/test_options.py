"""HostOptions: node_exporter's collector switches and filters, checked once."""

from __future__ import annotations

import pytest

from kubesight.collect.host import COLLECTORS, HostCollector, HostOptions
from kubesight.collect.host._files import NameFilter
from kubesight.errors import ConfigError


def test_all_collectors_are_on_by_default_and_can_be_switched() -> None:
    assert HostOptions().enabled() == list(COLLECTORS)
    assert "timex" not in HostOptions(disable=frozenset({"timex"})).enabled()
    only = HostOptions(disable_defaults=True, enable=frozenset({"meminfo", "cpu"}))
    assert only.enabled() == ["cpu", "meminfo"]
    assert HostCollector(only).collectors == ["cpu", "meminfo"]


@pytest.mark.parametrize(("kw", "message"), [
    ({"enable": frozenset({"cpu", "bogus"})}, "unknown collector(s) bogus"),
    ({"enable": frozenset({"cpu"}), "disable": frozenset({"cpu"})}, "cpu both enabled and disabled"),
    ({"netstat_fields": "(unclosed"}, "netstat_fields: invalid regex '(unclosed'"),
    ({"diskstats_device_exclude": "^sd", "diskstats_device_include": "^nvme"}, "are mutually exclusive"),
])
def test_bad_options_name_the_field(kw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        HostOptions(**kw)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_an_include_replaces_the_default_exclude() -> None:
    o = HostOptions(netdev_device_include="^(lo|eth0)$")
    keep = NameFilter(*o.device_filter("netdev_device_exclude", "netdev_device_include"))
    assert [keep(d) for d in ("lo", "eth0", "eth1")] == [True, True, False]
    default = NameFilter(*HostOptions().device_filter("netdev_device_exclude", "netdev_device_include"))
    assert [default(d) for d in ("lo", "eth0")] == [False, True]


def test_filters_search_unanchored_like_go() -> None:
    keep = NameFilter(include=HostOptions().regex("vmstat_fields"))
    assert [keep(f) for f in ("pgfault", "pgmajfault", "oom_kill", "nr_free_pages", "pgpgin")] == [
        True, True, True, False, True]
    disks = NameFilter(HostOptions().regex("diskstats_device_exclude"))
    assert [disks(d) for d in ("sda", "sda1", "nvme0n1", "nvme0n1p2", "loop0", "dm-0")] == [
        True, False, True, False, False, True]
