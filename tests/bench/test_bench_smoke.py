"""The ingest benchmark harness runs end to end: --quick against VictoriaMetrics.

Only that the harness works is asserted (a row, samples acknowledged and
stored, no failed request); timings on a shared CI machine mean nothing.
VictoriaMetrics is the peer used because it starts in well under a second.
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


def test_quick_run_against_victoriametrics(tmp_path: Path) -> None:
    require_peer("victoria-metrics", "victoria-metrics")
    out = tmp_path / "rows.json"
    md = tmp_path / "report.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "ingest.py"),
            "--quick",
            "--servers",
            "victoriametrics",
            "--json-out",
            str(out),
            "--markdown-out",
            str(md),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"harness failed:\n{proc.stdout}\n{proc.stderr}"

    report = json.loads(out.read_text())
    (row,) = report["rows"]
    assert row["server"] == "victoriametrics"
    assert row["error"] == ""
    assert row["failed_requests"] == 0, row["failures"]
    assert row["samples_ok"] == report["workload"]["samples"] > 0
    assert row["samples_stored"] == row["samples_ok"]
    assert row["cpu_us_per_sample"] > 0
    assert row["peak_rss_bytes"] > 0
    assert row["disk_bytes"] > 0
    assert "| victoriametrics |" in md.read_text()
