"""Helpers shared by the host collector tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from kubesight.collect.family import Family
from kubesight.collect.host import HostOptions

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_options(root: Path = FIXTURES, **kw: object) -> HostOptions:
    """Options reading the fixture tree at ``root`` (netdev from /proc/net/dev, no textfiles)."""
    base: dict[str, object] = dict(
        rootfs=str(root), procfs=str(root / "proc"), sysfs=str(root / "sys"), udev_data=str(root / "udev"),
        netdev_netlink=False, textfile_directory=str(root / "textfile"),
    )
    base.update(kw)
    return HostOptions(**base)  # type: ignore[arg-type]


def copy_fixtures(tmp: Path) -> Path:
    """A writable copy of the fixture tree, for tests that break it."""
    root = tmp / "host"
    shutil.copytree(FIXTURES, root)
    return root


def samples(families: list[Family]) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """(name, other labels) -> value over all families."""
    out = {}
    for f in families:
        for labels, v in f.samples:
            d = dict(labels)
            name = d.pop("__name__")
            out[(name, frozenset(d.items()))] = v
    return out


def value(families: list[Family], name: str, **labels: str) -> float:
    return samples(families)[(name, frozenset(labels.items()))]


def names(families: list[Family]) -> set[str]:
    return {dict(lbls)["__name__"] for f in families for lbls, _ in f.samples}


def success(families: list[Family]) -> dict[str, float]:
    return {dict(lbls)["collector"]: v for f in families if f.name == "node_scrape_collector_success"
            for lbls, v in f.samples}
