"""The server wires the dashboard library: config dirs, built-ins switched off, reload, imports kept."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.conftest import start_server


def _uids(url: str) -> set[str]:
    r = httpx.get(f"{url}/api/search", timeout=10)
    assert r.status_code == 200, r.text
    return {h["uid"] for h in r.json()}


def test_config_dirs_builtin_switch_reload_and_imports(tmp_path: Path) -> None:
    boards = tmp_path / "boards"
    boards.mkdir()
    (boards / "team.json").write_text(json.dumps({"uid": "team-a", "title": "Team A", "panels": []}))
    cfg = tmp_path / "kubesight.yml"
    cfg.write_text("dashboards: {dirs: [boards]}\nscrape_configs: []\n")  # relative to the config file
    srv = start_server(tmp_path / "data", "--config", str(cfg), "--no-collectors.host",
                       "--no-collectors.containers", "--no-rules.defaults")
    try:
        got = _uids(srv.url)
        assert {"team-a", "kubesight-node", "kubesight-self"} <= got
        imported = {"dashboard": {"uid": "mine", "title": "Mine", "panels": []}}
        assert httpx.post(f"{srv.url}/api/dashboards/db", json=imported).status_code == 200
        # a reload that switches the built-ins off keeps file and imported dashboards
        cfg.write_text("dashboards: {dirs: [boards], builtin: false}\nscrape_configs: []\n")
        assert httpx.post(f"{srv.url}/-/reload", timeout=30).status_code == 200
        assert _uids(srv.url) == {"team-a", "mine"}
    finally:
        srv.stop()
    # imported dashboards survive a restart
    srv = start_server(tmp_path / "data", "--config", str(cfg), "--no-collectors.host",
                       "--no-collectors.containers", "--no-rules.defaults")
    try:
        assert _uids(srv.url) == {"team-a", "mine"}
        r = httpx.get(f"{srv.url}/api/ui/dashboards/mine")
        assert r.status_code == 200 and r.json()["source"] == "imported"
    finally:
        srv.stop()
