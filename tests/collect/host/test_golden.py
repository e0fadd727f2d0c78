"""The exact exposition of the fixture tree: names, HELP, TYPE, labels and values, byte for byte.

The peer test checks HELP and TYPE against node_exporter where it is
installed; this file keeps them checked everywhere. After a deliberate change,
regenerate with ``KUBESIGHT_REGEN_GOLDEN=1 pytest tests/collect/host/test_golden.py``
and review the diff.
"""

from __future__ import annotations

import os

import pytest

from kubesight.collect.family import encode
from kubesight.collect.host import HostCollector
from tests.collect.host._util import FIXTURES, fixture_options

GOLDEN = FIXTURES / "expected.prom"
_RUNNING_KERNEL = frozenset({"filesystem", "time", "timex", "uname", "textfile"})


def _fixture_exposition() -> bytes:
    fams = HostCollector(fixture_options(disable=_RUNNING_KERNEL)).collect()
    # durations are timings; everything else is a function of the files
    return encode([f for f in fams if f.name != "node_scrape_collector_duration_seconds"])


def test_fixture_tree_exposition_is_unchanged() -> None:
    got = _fixture_exposition()
    if os.environ.get("KUBESIGHT_REGEN_GOLDEN"):
        GOLDEN.write_bytes(got)
    assert got == GOLDEN.read_bytes()


@pytest.mark.peer
def test_golden_help_and_type_are_node_exporters(tmp_path_factory: pytest.TempPathFactory) -> None:
    import httpx

    from kubesight.wire.exposition import Format, parse
    from tests.peers import node_exporter

    with node_exporter(tmp_path_factory.mktemp("ne")) as addr:
        theirs = parse(httpx.get(f"http://{addr}/metrics", timeout=30).content, Format.TEXT_004,
                       default_timestamp_ms=0).metadata
    ours = parse(GOLDEN.read_bytes(), Format.TEXT_004, default_timestamp_ms=0).metadata
    by_name = {m.metric_family: m for m in theirs}
    shared = [m for m in ours if m.metric_family in by_name]
    # a few fixture-only families (udev's filesystem info, a 14-column disk) may be absent on this host
    assert len(shared) >= len(ours) - 5
    for m in shared:
        assert by_name[m.metric_family] == m


