"""The scrape benchmark harness runs end to end: --quick against Prometheus and kubesight.

Only that the harness works is asserted (a row per server, every fake target
active, up and scraped in the window); timings on a shared CI machine mean
nothing, and whether every scrape was on time is the benchmark's verdict, not
this test's, so the exit code is not asserted either.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_peer

pytestmark = pytest.mark.peer

REPO = Path(__file__).resolve().parents[2]


def test_quick_run_scrapes_every_target(tmp_path: Path) -> None:
    require_peer("prometheus", "prometheus")
    out = tmp_path / "rows.json"
    md = tmp_path / "report.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "scrape.py"),
            "--quick",
            "--json-out",
            str(out),
            "--markdown-out",
            str(md),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert out.exists(), f"harness wrote no rows:\n{proc.stdout}\n{proc.stderr}"

    report = json.loads(out.read_text())
    targets = report["settings"]["targets"]
    rows = {r["server"]: r for r in report["rows"]}
    assert set(rows) == {"prometheus", "kubesight"}
    for name, row in rows.items():
        assert row["error"] == "", f"{name}: {row['error']}\n{proc.stderr}"
        assert row["targets_active"] == targets, name
        assert row["targets_up"] == targets, name
        # Every target scraped at least once in the window (a 30 s window
        # holds two 15 s intervals), and every sample of it counted.
        assert row["targets_min_scrapes"] >= 1, name
        assert row["scrapes_failed"] == 0, name
        assert row["samples_scraped"] == row["scrapes"] * report["settings"]["series"], name
        assert row["cpu_s"] > 0, name
        assert row["peak_rss_bytes"] > 0, name
        assert f"| {name} |" in md.read_text()
