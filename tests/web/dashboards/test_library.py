"""The dashboard library: built-in, file and imported sources, persistence and Grafana's save rules."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from kubesight.web.dashboards import library as lib
from kubesight.web.dashboards.library import (
    DashboardConflictError,
    DashboardLibrary,
    DashboardNotFoundError,
    DashboardReadOnlyError,
    LibraryError,
    slugify,
)
from kubesight.web.dashboards.model import DashboardError

FIXTURES = Path(__file__).parent / "fixtures"


def dash(title: str, uid: str | None = None, **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"title": title, "panels": [{"type": "stat", "gridPos": {"x": 0, "y": 0, "w": 4, "h": 4}}], **kw}
    if uid is not None:
        d["uid"] = uid
    return d


@pytest.fixture
def builtin_dir(tmp_path: Path) -> Path:
    d = tmp_path / "builtin"
    d.mkdir()
    (d / "node.json").write_text(json.dumps(dash("Node", "kubesight-node", tags=["host"])))
    return d


def make(tmp_path: Path, builtin_dir: Path, *dirs: Path) -> DashboardLibrary:
    return DashboardLibrary(dirs=list(dirs), data_dir=tmp_path / "data", builtin_dir=builtin_dir)


def test_the_packaged_builtins_load_without_errors() -> None:
    entries = DashboardLibrary().list()
    assert entries, "the package ships built-in dashboards"
    assert all(e.source == "builtin" and not e.error and e.raw is not None for e in entries), \
        [e.error for e in entries if e.error]
    assert DashboardLibrary(builtin=False).list() == []


def test_sources_are_listed_together(tmp_path: Path, builtin_dir: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "ne.json").write_bytes((FIXTURES / "node-exporter-style.json").read_bytes())
    (files / "no-uid.json").write_text(json.dumps(dash("No uid")))
    (files / "notes.txt").write_text("not a dashboard file")
    library = make(tmp_path, builtin_dir, files)
    library.save(dash("Mine"))
    got = [(e.source, e.title) for e in library.list()]
    assert got == [("builtin", "Node"), ("file", "Node Exporter Style (kubesight fixture)"), ("file", "No uid"),
                   ("imported", "Mine")]
    assert library.get("no-uid").title == "No uid"  # a file without a uid is known by its file name
    assert library.get("node-exporter-style").raw is not None
    assert library.get("kubesight-node").tags == ("host",)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"{", "not valid JSON"),
        (b"[]", "a dashboard is a JSON object, got a list"),
        (b'{"title": "x"}', "not a Grafana dashboard"),
        (b'{"title": 5, "panels": []}', "title: expected a string, got a number"),
        (b'{"panels": "x"}', "panels: expected a list, got a string"),
        (b'{"uid": "bad uid!", "panels": []}', "is not a valid uid"),
    ],
)
def test_a_bad_file_is_listed_with_its_error(tmp_path: Path, builtin_dir: Path, content: bytes, error: str) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "broken.json").write_bytes(content)
    (files / "good.json").write_text(json.dumps(dash("Good", "good")))
    library = make(tmp_path, builtin_dir, files)
    by = {e.uid: e for e in library.list()}
    assert error in by["broken"].error and str(files / "broken.json") in by["broken"].error
    assert by["broken"].raw is None and by["broken"].source == "file"
    assert not by["good"].error


def test_a_huge_file_is_refused_with_its_size(tmp_path: Path, builtin_dir: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    with open(files / "huge.json", "wb") as f:
        f.truncate(11 << 20)
    e = make(tmp_path, builtin_dir, files).get("huge")
    assert "over the 10 MiB limit" in e.error


def test_a_missing_directory_is_listed_as_an_error(tmp_path: Path, builtin_dir: Path) -> None:
    (e,) = [e for e in make(tmp_path, builtin_dir, tmp_path / "nope").list() if e.source == "file"]
    assert "cannot list the dashboards directory" in e.error


def test_file_edits_show_without_a_restart(tmp_path: Path, builtin_dir: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    f = files / "d.json"
    f.write_text(json.dumps(dash("Before", "d")))
    library = make(tmp_path, builtin_dir, files)
    assert library.get("d").title == "Before"
    f.write_text(json.dumps(dash("After, a longer title", "d")))
    assert library.get("d").title == "After, a longer title"
    f.write_text("{broken")
    assert "not valid JSON" in library.get("d").error
    f.unlink()
    with pytest.raises(DashboardNotFoundError):
        library.get("d")


def test_a_uid_clash_between_sources_keeps_the_first_and_flags_the_other(tmp_path: Path, builtin_dir: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "copy.json").write_text(json.dumps(dash("Copy of node", "kubesight-node")))
    library = make(tmp_path, builtin_dir, files)
    assert library.get("kubesight-node").source == "builtin"
    (flagged,) = [e for e in library.list() if e.source == "file"]
    assert "already used by builtin dashboard" in flagged.error


def test_imported_dashboards_persist_across_instances(tmp_path: Path, builtin_dir: Path) -> None:
    first = make(tmp_path, builtin_dir)
    e = first.save(dash("Persisted", tags=["x"]))
    assert e.source == "imported" and e.version == 1 and e.id == 1 and len(e.uid) == 14
    stored = json.loads((tmp_path / "data" / "dashboards" / f"{e.uid}.json").read_text())
    assert (stored["title"], stored["uid"], stored["version"], stored["id"]) == ("Persisted", e.uid, 1, 1)
    again = make(tmp_path, builtin_dir).get(e.uid)
    assert (again.title, again.tags, again.version, again.id, again.source) == ("Persisted", ("x",), 1, 1, "imported")


def test_the_raw_grafana_json_is_kept_as_given(tmp_path: Path, builtin_dir: Path) -> None:
    raw = json.loads((FIXTURES / "node-exporter-style.json").read_text())
    library = make(tmp_path, builtin_dir)
    e = library.save(raw)
    assert e.uid == "node-exporter-style"
    got = make(tmp_path, builtin_dir).get(e.uid).raw
    assert got is not None
    assert {k: v for k, v in got.items() if k not in ("id", "version")} == \
        {k: v for k, v in raw.items() if k not in ("id", "version")}
    assert got["__inputs"][0]["name"] == "DS_PROMETHEUS"


def test_writes_are_atomic(tmp_path: Path, builtin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = make(tmp_path, builtin_dir)
    e = library.save(dash("V1", "atomic"))
    path = tmp_path / "data" / "dashboards" / "atomic.json"
    before = path.read_bytes()
    calls: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def crash(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lib.os, "fsync", fsync)
    monkeypatch.setattr(lib.os, "replace", crash)
    with pytest.raises(OSError, match="No space left"):
        library.save(dash("V2", "atomic", version=e.version))
    assert path.read_bytes() == before  # the old file is whole
    assert [p.name for p in path.parent.iterdir()] == ["atomic.json"]  # no temporary file left
    assert calls == ["fsync"]  # the data reached the disk before the rename was tried
    monkeypatch.undo()
    assert library.save(dash("V2", "atomic", version=e.version)).title == "V2"


def test_overwrite_rules_follow_grafana(tmp_path: Path, builtin_dir: Path) -> None:
    library = make(tmp_path, builtin_dir)
    e = library.save(dash("Mine", "mine"))
    # Saving again at the version it was read at is an update (Grafana's editor does this).
    e2 = library.save(dash("Mine", "mine", version=e.version))
    assert (e2.version, e2.id) == (2, e.id)
    # A stale or missing version without overwrite is a conflict.
    for stale in (dash("Mine", "mine", version=1), dash("Mine", "mine")):
        with pytest.raises(DashboardConflictError) as exc:
            library.save(stale)
        assert exc.value.status == "version-mismatch"
        assert str(exc.value) == "The dashboard has been changed by someone else"
    assert library.save(dash("Mine", "mine"), overwrite=True).version == 3
    # The same title under another uid: name-exists, unless overwrite (which replaces that one).
    with pytest.raises(DashboardConflictError) as exc:
        library.save(dash("Mine"))
    assert exc.value.status == "name-exists"
    taken = library.save(dash("Mine"), overwrite=True)
    assert (taken.uid, taken.version) == ("mine", 4)
    assert [x.uid for x in library.list() if x.source == "imported"] == ["mine"]


def test_builtin_and_file_dashboards_are_read_only(tmp_path: Path, builtin_dir: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "f.json").write_text(json.dumps(dash("F", "from-file")))
    library = make(tmp_path, builtin_dir, files)
    for uid in ("kubesight-node", "from-file"):
        with pytest.raises(DashboardReadOnlyError, match="Cannot save provisioned dashboard"):
            library.save(dash("Other title", uid), overwrite=True)
        with pytest.raises(DashboardReadOnlyError, match="cannot be deleted because it was provisioned"):
            library.delete(uid)
    assert (files / "f.json").exists()
    # A title used by a built-in is fine: they are not in the same folder.
    assert library.save(dash("Node")).source == "imported"


def test_delete(tmp_path: Path, builtin_dir: Path) -> None:
    library = make(tmp_path, builtin_dir)
    e = library.save(dash("Gone soon", "gone"))
    assert library.delete("gone").uid == e.uid
    assert not (tmp_path / "data" / "dashboards" / "gone.json").exists()
    with pytest.raises(DashboardNotFoundError, match="Dashboard not found"):
        library.delete("gone")
    with pytest.raises(DashboardNotFoundError):
        make(tmp_path, builtin_dir).get("gone")


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (dash(""), LibraryError, "Dashboard title cannot be empty"),
        (dash("  "), LibraryError, "Dashboard title cannot be empty"),
        ({"panels": []}, LibraryError, "Dashboard title cannot be empty"),
        (dash("x", "has space"), LibraryError, "uid contains illegal characters"),
        (dash("x", "a" * 41), LibraryError, "uid too long, max 40 characters"),
        ({**dash("x"), "uid": 5}, DashboardError, "uid: expected a string, got a number"),
        ({"title": "x"}, DashboardError, "neither 'panels' nor 'rows'"),
        ({"title": "x", "panels": "y"}, DashboardError, "panels: expected a list"),
        ([1], DashboardError, "expected a JSON object"),
    ],
)
def test_invalid_imports_are_refused(tmp_path: Path, builtin_dir: Path, body: Any, error: type[Exception],
                                     message: str) -> None:
    library = make(tmp_path, builtin_dir)
    with pytest.raises(error, match=message):
        library.save(body)
    assert not (tmp_path / "data" / "dashboards").exists() or not list((tmp_path / "data" / "dashboards").iterdir())


def test_without_a_data_dir_nothing_can_be_imported(builtin_dir: Path) -> None:
    library = DashboardLibrary(builtin_dir=builtin_dir)
    with pytest.raises(LibraryError, match="no data directory"):
        library.save(dash("x"))
    assert [e.uid for e in library.list()] == ["kubesight-node"]


@pytest.mark.parametrize(
    ("title", "slug"),
    [("Node Exporter Full", "node-exporter-full"), ("Kubernetes / Compute Resources / Pod", "kubernetes-compute-resources-pod"),
     ("Ünïcode Héllo", "unicode-hello"), ("  --x--  ", "x")],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_concurrent_imports_get_distinct_uids_and_ids(tmp_path: Path, builtin_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    library = make(tmp_path, builtin_dir)
    with ThreadPoolExecutor(8) as pool:
        entries = list(pool.map(lambda i: library.save(dash(f"Board {i}")), range(24)))
    assert len({e.uid for e in entries}) == 24 and sorted(e.id for e in entries) == list(range(1, 25))
    assert len(list((tmp_path / "data" / "dashboards").glob("*.json"))) == 24
    assert len([e for e in make(tmp_path, builtin_dir).list() if e.source == "imported" and not e.error]) == 24


def test_configure_takes_a_reloaded_config(tmp_path: Path, builtin_dir: Path) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "f.json").write_text(json.dumps(dash("F", "f")))
    library = make(tmp_path, builtin_dir)
    library.save(dash("Mine", "mine"))
    assert [e.uid for e in library.list()] == ["kubesight-node", "mine"]
    library.configure(builtin=False, dirs=[files])
    assert [e.uid for e in library.list()] == ["f", "mine"]
    library.configure(builtin=True, dirs=[])
    assert [e.uid for e in library.list()] == ["kubesight-node", "mine"]
