"""The benchmark runs end to end at a small size (figures are not checked here: see bench/)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "collect_kube_state.py"

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]


def test_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "ks.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--json-out", str(out)],
                          capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = json.loads(out.read_text())
    assert res["objects"] == {"pods": 1000, "nodes": 10, "deployments": 50, "replicasets": 100}
    assert res["series"] > 40 * 1000
    assert res["rss_synced"] > res["rss_before"] > 0
    assert res["raw_informer_rss"] > 0
    assert "| collect() |" in proc.stdout
