"""static_configs and file_sd_configs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path

import pytest
from sd_helpers import Running, wait_for  # type: ignore[import-not-found]

from kubesight.discovery import TargetGroup
from kubesight.discovery.config import build_discoverers
from kubesight.discovery.file import FileDiscoverer

pytestmark = pytest.mark.timeout(60)


def test_static_sends_its_groups_once_and_stays() -> None:
    cfg = {"static_configs": [
        {"targets": ["a:9100", "b:9100"], "labels": {"env": "prod"}},
        {"targets": ["c:80"]},
    ]}
    [(name, d)] = build_discoverers("node", cfg, Path("/"))
    assert name == "static_configs/0"

    async def main() -> None:
        async with Running(d) as out:
            await wait_for(lambda: bool(out.sends))
            await asyncio.sleep(0.05)
            assert out.sends == [[
                TargetGroup("0", ({"__address__": "a:9100"}, {"__address__": "b:9100"}),
                            {"env": "prod"}),
                TargetGroup("1", ({"__address__": "c:80"},), {}),
            ]]
    asyncio.run(main())


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    # Make the change visible to mtime polling even within one clock tick.
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_file_sd_yaml_json_globs_and_filepath(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("- targets: ['a:1', 'b:2']\n  labels: {env: prod, port: 80}\n")
    (tmp_path / "b.json").write_text(json.dumps([{"targets": ["c:3"]}, {"targets": ["d:4"], "labels": {"x": "y"}}]))
    (tmp_path / "ignored.txt").write_text("nope")
    [(_, d)] = build_discoverers("files", {"file_sd_configs": [{"files": ["*.yml", "*.json"]}]}, tmp_path)
    assert isinstance(d, FileDiscoverer) and d.refresh_interval == 300.0
    groups = {g.source: g for g in d.refresh()}
    a, b = str(tmp_path / "a.yml"), str(tmp_path / "b.json")
    assert groups == {
        f"{a}:0": TargetGroup(f"{a}:0", ({"__address__": "a:1"}, {"__address__": "b:2"}),
                              {"env": "prod", "port": "80", "__meta_filepath": a}),
        f"{b}:0": TargetGroup(f"{b}:0", ({"__address__": "c:3"},), {"__meta_filepath": b}),
        f"{b}:1": TargetGroup(f"{b}:1", ({"__address__": "d:4"},), {"x": "y", "__meta_filepath": b}),
    }


def test_file_sd_changes_broken_file_and_deletion(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    f = tmp_path / "t.json"
    f.write_text(json.dumps([{"targets": ["a:1"]}, {"targets": ["b:1"]}]))
    d = FileDiscoverer([str(tmp_path / "*.json")], refresh_interval=300, poll_interval=0.05)
    src = str(f)

    async def main() -> None:
        async with Running(d) as out:
            await wait_for(lambda: len(out.groups) == 2, what="initial groups")
            # A change: one group fewer -> the second is removed.
            _write(f, json.dumps([{"targets": ["a:2"]}]))
            await wait_for(lambda: set(out.groups) == {f"{src}:0"} and
                           out.groups[f"{src}:0"].targets == ({"__address__": "a:2"},), what="change")
            # A broken file keeps the previous groups and logs file and reason.
            with caplog.at_level(logging.ERROR, logger="kubesight.discovery.file"):
                n = len(out.sends)
                _write(f, "[{not json")
                await wait_for(lambda: src in caplog.text, what="error log")
                assert "t.json" in caplog.text
                assert len(out.sends) == n
                assert out.groups[f"{src}:0"].targets == ({"__address__": "a:2"},)
            # A new file matching the glob appears.
            g = tmp_path / "new.json"
            _write(g, json.dumps([{"targets": ["n:1"]}]))
            await wait_for(lambda: f"{g}:0" in out.groups, what="new file")
            # Deleting a file removes its groups.
            f.unlink()
            await wait_for(lambda: f"{src}:0" not in out.groups, what="deletion")
            assert set(out.groups) == {f"{g}:0"}
    asyncio.run(main())


def test_file_sd_full_refresh_interval_rereads(tmp_path: Path) -> None:
    f = tmp_path / "t.yaml"
    f.write_text("- targets: ['a:1']\n")
    now = [0.0]
    d = FileDiscoverer([str(f)], refresh_interval=300, poll_interval=0.02, clock=lambda: now[0])

    async def main() -> None:
        async with Running(d) as out:
            await wait_for(lambda: len(out.sends) == 1)
            now[0] = 301.0
            await wait_for(lambda: len(out.sends) == 2, what="refresh after refresh_interval")
    asyncio.run(main())


def test_file_sd_relative_paths_resolve_against_config_dir(tmp_path: Path) -> None:
    [(_, d)] = build_discoverers("j", {"file_sd_configs": [{"files": ["sd/*.json"], "refresh_interval": "30s"}]}, tmp_path)
    assert isinstance(d, FileDiscoverer)
    assert d.patterns == [str(tmp_path / "sd" / "*.json")] and d.refresh_interval == 30.0
