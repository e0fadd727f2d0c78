"""The UI benchmark's data: the history it plays back is what it claims to be.

The browser half runs end to end in ``test_quick_run`` (chromium, kubesight and
Prometheus, one short run); timings are printed, never asserted.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bench.ui import INSTANCE, STEP_MS, host_history, wave_history

from tests.conftest import require_peer

REPO = Path(__file__).resolve().parents[2]


def test_host_history_is_time_ordered_and_counters_only_grow() -> None:
    end = 1_800_000_000_000
    batches = list(host_history(end, 250))
    assert len(batches) == 3  # 100 + 100 + 50 steps
    ts = np.concatenate([b.timestamps for b in batches])
    assert ts.min() == end - 249 * STEP_MS and ts.max() == end
    assert all(a.timestamps.max() < b.timestamps.min() for a, b in itertools.pairwise(batches))
    series = batches[0].series
    names = {dict(s)["__name__"] for s in series}
    assert {"node_cpu_seconds_total", "node_load1", "node_memory_MemTotal_bytes", "node_uname_info"} <= names
    assert all(dict(s)["instance"] == INSTANCE and dict(s)["job"] == "node" for s in series)
    cpu = [i for i, s in enumerate(series) if dict(s)["__name__"] == "node_cpu_seconds_total"]
    values = np.concatenate([b.values.reshape(-1, len(series)) for b in batches])
    assert (np.diff(values[:, cpu], axis=0) >= 0).all()


def test_wave_history_has_every_series_at_every_step() -> None:
    batches = list(wave_history(1_800_000_000_000, 120, 7))
    assert sum(len(b) for b in batches) == 7 * 120
    assert len({s for b in batches for s in b.series}) == 7


@pytest.mark.peer
@pytest.mark.slow
def test_quick_run(tmp_path: Path) -> None:
    require_peer("prometheus", "prometheus")
    require_peer("chromium", "chromium")
    out = tmp_path / "ui.json"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "ui.py"), "--quick", "--runs", "1",
                           "--json-out", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["dashboard"]["panels"] >= 12 and len(r["dashboard"]["kubesight_page_ms"]) == 1
    assert r["dashboard"]["queries"] >= 12 and r["dashboard"]["prometheus_queries_s"][0] > 0
    assert r["dashboard"]["panel_states"].get("error", 0) == 0, r["dashboard"]["panel_states"]
    assert r["big_graph"]["kubesight"][0]["series"] == 100
    assert r["big_graph"]["hover_ms"], "no hover was painted"
