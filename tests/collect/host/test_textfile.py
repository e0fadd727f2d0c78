"""The textfile collector: *.prom files, their mtimes, and the files it has to skip."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from kubesight.collect.family import Family, encode
from kubesight.collect.host import HostCollector, HostOptions
from kubesight.wire.exposition import Format, parse
from tests.collect.host._util import samples, success, value
from tests.conftest import free_port, require_peer
from tests.peers import run_process

_GOOD = """\
# HELP backup_last_success_timestamp_seconds When the last backup finished.
# TYPE backup_last_success_timestamp_seconds gauge
backup_last_success_timestamp_seconds{volume="data"} 1.7e+09
backup_last_success_timestamp_seconds{volume="logs"} 1.6e+09
# TYPE jobs_total counter
jobs_total{result="ok"} 12
raid_degraded 0
# HELP latency_seconds Job latency.
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.5"} 3
latency_seconds_bucket{le="+Inf"} 4
latency_seconds_sum 2.5
latency_seconds_count 4
"""


def _collect(directory: str) -> tuple[HostCollector, list[Family]]:
    c = HostCollector(HostOptions(disable_defaults=True, enable=frozenset({"textfile"}),
                                  textfile_directory=directory))
    return c, c.collect()


def _write(d: Path, name: str, text: str, mtime: int = 1_700_000_000) -> Path:
    p = d / name
    p.write_text(text)
    os.utime(p, (mtime, mtime))
    return p


def test_good_files_are_read_with_their_types_help_and_mtimes(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.prom", _GOOD)
    _write(tmp_path, "notes.txt", "not metrics at all")  # only *.prom files are read
    c, fams = _collect(str(tmp_path))
    by_name = {f.name: f for f in fams}
    assert success(fams) == {"textfile": 1.0}
    assert value(fams, "node_textfile_scrape_error") == 0
    assert value(fams, "node_textfile_mtime_seconds", file=str(good)) == 1_700_000_000
    assert value(fams, "backup_last_success_timestamp_seconds", volume="logs") == 1.6e9
    assert by_name["backup_last_success_timestamp_seconds"].type == "gauge"
    assert (by_name["jobs_total"].type, by_name["jobs_total"].help) == ("counter", f"Metric read from {good}")
    assert (by_name["raid_degraded"].type, by_name["raid_degraded"].help) == ("unknown", f"Metric read from {good}")
    lat = by_name["latency_seconds"]
    assert (lat.type, lat.help, len(lat.samples)) == ("histogram", "Job latency.", 4)
    assert value(fams, "latency_seconds_count") == 4
    assert c.errors == {}


def test_a_bad_file_is_skipped_whole_and_flagged(tmp_path: Path) -> None:
    _write(tmp_path, "a_good.prom", "up_sort_of 1\n")
    bad = _write(tmp_path, "b_bad.prom", "ok_line 1\nbroken{ 2\n")
    stamped = _write(tmp_path, "c_stamped.prom", "with_ts 1 1700000000000\n")
    c, fams = _collect(str(tmp_path))
    got = {k[0] for k in samples(fams)}
    assert "up_sort_of" in got and "ok_line" not in got and "with_ts" not in got
    assert value(fams, "node_textfile_scrape_error") == 1
    assert success(fams) == {"textfile": 1.0}  # as node_exporter: the error series says it, not success
    mtimes = {dict(k[1])["file"] for k in samples(fams) if k[0] == "node_textfile_mtime_seconds"}
    assert mtimes == {str(tmp_path / "a_good.prom")}
    assert f"{bad}: line 2" in c.errors["textfile files"]
    assert f"{stamped}: contains client-side timestamps" in c.errors["textfile files"]


def test_a_missing_directory_is_a_scrape_error_and_no_directory_is_none(tmp_path: Path) -> None:
    c, fams = _collect(str(tmp_path / "missing"))
    assert value(fams, "node_textfile_scrape_error") == 1
    assert "cannot list the textfile directory" in c.errors["textfile files"]
    _, fams = _collect("")
    assert value(fams, "node_textfile_scrape_error") == 0


def test_a_glob_reads_several_directories_and_merges_a_family(tmp_path: Path) -> None:
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        _write(tmp_path / d, "x.prom", f'shared_metric{{dir="{d}"}} 1\n')
    _, fams = _collect(str(tmp_path / "*"))
    shared = [f for f in fams if f.name == "shared_metric"]
    assert len(shared) == 1 and len(shared[0].samples) == 2
    assert shared[0].help == f"Metric read from {tmp_path / 'a/x.prom'}, {tmp_path / 'b/x.prom'}"


def test_a_file_vanishing_between_listing_and_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "soon_gone.prom", "x 1\n")
    real = os.listdir

    def listdir_then_delete(path: str) -> list[str]:
        names = real(path)
        (tmp_path / "soon_gone.prom").unlink()
        return names

    monkeypatch.setattr(os, "listdir", listdir_then_delete)
    c, fams = _collect(str(tmp_path))
    assert value(fams, "node_textfile_scrape_error") == 1
    assert "soon_gone.prom: cannot open: No such file or directory" in c.errors["textfile files"]


@pytest.mark.peer
def test_same_series_as_node_exporter(tmp_path: Path) -> None:
    binary = require_peer("prometheus-node-exporter", "prometheus-node-exporter")
    d = tmp_path / "textfiles"
    d.mkdir()
    _write(d, "good.prom", _GOOD)
    _write(d, "bad.prom", "broken{ 2\n")
    addr = f"127.0.0.1:{free_port()}"
    args = [binary, f"--web.listen-address={addr}", "--collector.disable-defaults", "--collector.textfile",
            f"--collector.textfile.directory={d}"]
    with run_process(args, tmp_path / "ne.log", f"http://{addr}/metrics"):
        body = httpx.get(f"http://{addr}/metrics", timeout=10).content
    theirs = parse(body, Format.TEXT_004, default_timestamp_ms=0)
    _, fams = _collect(str(d))
    ours = parse(encode(fams), Format.TEXT_004, default_timestamp_ms=0)

    def keep(p: object) -> dict[tuple[tuple[str, str], ...], float]:
        b = p.batch  # type: ignore[attr-defined]
        return {s: v for s, v in zip(b.series, b.values.tolist(), strict=True)
                if not dict(s)["__name__"].startswith(("go_", "process_", "promhttp_", "node_exporter_",
                                                       "node_scrape_collector_duration"))}

    assert keep(ours) == keep(theirs)
    meta = {m.metric_family: m for m in theirs.metadata}
    for m in ours.metadata:
        assert meta[m.metric_family] == m


def test_a_fifo_named_like_a_textfile_does_not_hang_the_collection(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.prom")
    _write(tmp_path, "real.prom", "real_metric 1\n")
    _, fams = _collect(str(tmp_path))
    assert value(fams, "real_metric") == 1
