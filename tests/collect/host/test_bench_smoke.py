"""bench/collect_host.py runs end to end (--quick). Its timings are its verdict, not this test's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_peer

pytestmark = pytest.mark.peer

REPO = Path(__file__).resolve().parents[3]


def test_quick_run_measures_both_sides(tmp_path: Path) -> None:
    require_peer("prometheus-node-exporter", "prometheus-node-exporter")
    out = tmp_path / "rows.json"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "collect_host.py"), "--quick", "--json-out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [r["what"] for r in rows] == [
        "node_exporter (default collectors)", "node_exporter (kubesight's collectors)",
        "kubesight HostCollector.collect()", "kubesight collect() + encode()"]
    # node_exporter counts CPU in 10 ms ticks: a quick run may see 0 there
    assert all(r["cpu_ms"] >= 0 and r["series"] > 100 for r in rows) and rows[2]["cpu_ms"] > 0
