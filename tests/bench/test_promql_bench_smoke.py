"""The PromQL benchmark harness runs end to end: --quick on all three servers.

Asserted: every query of the set is answered by every server and kubesight's
answers agree with Prometheus' (the harness checks them; a disagreement is a
real bug, in the engine or in the check). Timings on a shared CI machine mean
nothing and are not asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_peer

pytestmark = [pytest.mark.peer, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def test_quick_run_answers_every_query_as_prometheus_does(tmp_path: Path) -> None:
    require_peer("prometheus", "prometheus")
    require_peer("victoria-metrics", "victoria-metrics")
    out = tmp_path / "rows.json"
    md = tmp_path / "report.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "promql.py"),
            "--quick",
            "--repeat",
            "1",
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
    rows = report["rows"]
    assert len(rows) == 10
    for row in rows:
        assert row["checked"], row["name"]
        assert row["check"] == "", (row["name"], row["check"])
        assert set(row["timings"]) == {"prometheus", "victoriametrics", "kubesight"}
        for name, t in row["timings"].items():
            assert t["error"] == "", (row["name"], name, t["error"])
            assert len(t["runs_ms"]) == 1
            assert t["median_ms"] > 0
        # Every server finds the same series (VictoriaMetrics' values are not compared).
        assert len({t["series"] for t in row["timings"].values()}) == 1, row
        assert row["samples_touched"] > 0
    assert report["info"]["workload_samples"] == 4 * 609 * 240
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = md.read_text()
    assert "| `count by __name__` |" in text
    assert "geometric mean" in text
