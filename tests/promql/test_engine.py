"""Engine-level behaviour that the .test tables cannot express."""

from __future__ import annotations

import tracemalloc
from typing import cast

import numpy as np
import pytest

from kubesight.model import Labels, Matcher, SampleBatch, SeriesData, labels_from_dict, stale_nan
from kubesight.promql import BadDataError, Engine, Matrix, TooManySamplesError, Vector, rangefns
from kubesight.promql import aggregate as agg
from kubesight.promql import engine as engine_mod
from kubesight.promql.types import IVec, SVal
from kubesight.store.interface import Querier
from kubesight.store.memory import MemoryStore


@pytest.fixture
def engine() -> Engine:
    rnd = np.random.default_rng(3)
    store = MemoryStore()
    items = []
    for i in range(20):
        lb = labels_from_dict({"__name__": "g", "i": str(i)})
        vals = np.cumsum(rnd.normal(0, 1, 200))
        items.append((lb, [(k * 15_000, float(v)) for k, v in enumerate(vals)]))
    store.append(SampleBatch.from_series(items))
    return Engine(store)


@pytest.mark.parametrize(
    "q",
    [
        "quantile_over_time(0.3, g[5m])",
        "stddev_over_time(g[5m])",
        "mad_over_time(g[7m])",
        "deriv(g[5m])",
        "predict_linear(g[10m], 300)",
        "ts_of_max_over_time(g[4m])",
    ],
)
def test_chunked_expansion_matches_whole(engine: Engine, q: str, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = engine.range(q, 600_000, 2_400_000, 30_000).value
    monkeypatch.setattr(rangefns, "_EXPAND_CHUNK", 50)
    chunked = engine.range(q, 600_000, 2_400_000, 30_000).value
    assert isinstance(whole, Matrix) and isinstance(chunked, Matrix)
    assert whole.labels == chunked.labels
    np.testing.assert_array_equal(whole.timestamps, chunked.timestamps)
    np.testing.assert_allclose(whole.values, chunked.values, rtol=1e-12)


@pytest.mark.parametrize(
    "q",
    [
        "sum by (i) (rate(g[2m])) + on(i) max_over_time(g[3m:20s]) - avg(g)",
        "topk(3, g)",
        "bottomk(2, deriv(g[5m]))",
        "quantile(0.3, g) < bool scalar(g{i=\"1\"})",
        "g > on() group_left quantile(0.7, g)",
        "count_values(\"v\", round(g))",
        "histogram_quantile(0.5, label_replace(g, \"le\", \"$1\", \"i\", \"(.*)\"))",
        "last_over_time(g[1m] offset 2m) or g @ 1100",
        "predict_linear(g[4m:30s], 60) unless g < 0",
        "changes(g[5m]) + resets(g[5m]) * 10",
        "absent(g{i=\"99\"}) or vector(time())",
    ],
)
def test_range_equals_instants(engine: Engine, q: str) -> None:
    """Every step of a range query equals the instant query at that time."""
    rng = engine.range(q, 1_000_000, 1_300_000, 61_000).value
    assert isinstance(rng, Matrix)
    for t in range(1_000_000, 1_300_001, 61_000):
        inst = engine.instant(q, t).value
        assert isinstance(inst, Vector)
        got = {lb: v for lb, v in zip(inst.labels, inst.values.tolist(), strict=True)}
        want = {}
        for i, lb in enumerate(rng.labels):
            ts, vs = rng.samples(i)
            hit = np.flatnonzero(ts == t)
            if hit.size:
                want[lb] = float(vs[hit[0]])
        assert set(got) == set(want), t
        for lb, v in want.items():
            assert got[lb] == pytest.approx(v, rel=1e-12, nan_ok=True)


def test_max_samples() -> None:
    store = MemoryStore()
    store.append(SampleBatch.from_series(
        [(labels_from_dict({"__name__": "x", "i": str(i)}), [(0, 1.0)]) for i in range(10)]
    ))
    with pytest.raises(TooManySamplesError):
        Engine(store, max_samples=5).instant("x", 1000)
    assert len(Engine(store, max_samples=10).instant("x", 1000).value.labels) == 10  # type: ignore[union-attr]


def test_bad_range_parameters(engine: Engine) -> None:
    with pytest.raises(BadDataError):
        engine.range("g", 10, 0, 1)
    with pytest.raises(BadDataError):
        engine.range("g", 0, 10, 0)
    with pytest.raises(BadDataError, match="parse error"):
        engine.instant("sum(", 0)


def test_info_without_identifying_labels_passes_series_through(engine: Engine) -> None:
    # The g series have neither instance nor job: no info series can match,
    # and a data matcher that needs a value drops them.
    res = engine.instant('info(g{i="3"})', 0)
    assert isinstance(res.value, Vector)
    assert res.value.labels == [labels_from_dict({"__name__": "g", "i": "3"})]
    res = engine.instant('info(g{i="3"}, {a="b"})', 0)
    assert isinstance(res.value, Vector) and len(res.value) == 0


@pytest.fixture
def gappy() -> Engine:
    """Series with gaps, staleness markers, NaN, -0 and series that start late or end early."""
    rnd = np.random.default_rng(11)
    store = MemoryStore()
    items = []
    for i in range(37):
        lb = labels_from_dict({"__name__": f"m{i % 3}", "job": "ab"[i % 2], "i": f"{i:02d}"})
        ts = np.sort(rnd.choice(np.arange(0, 3_600_000, 5_000), int(rnd.integers(1, 300)), replace=False))
        vals = rnd.normal(0, 10, len(ts))
        vals[rnd.random(len(ts)) < 0.05] = np.nan
        vals[rnd.random(len(ts)) < 0.05] = -0.0
        vals[rnd.random(len(ts)) < 0.05] = stale_nan()
        items.append((lb, [(int(t), float(v)) for t, v in zip(ts, vals, strict=True)]))
    store.append(SampleBatch.from_series(items))
    return Engine(store)


@pytest.mark.parametrize(
    "q",
    [
        "{job=~'a|b'}",
        "count by (__name__) ({job=~'a|b'})",
        "group by (job) ({job=~'a|b'})",
        "sum by (job) ({job=~'a|b'})",  # groups interleave: series are reordered
        "count without (i) ({job=~'a|b'})",
        "max by (__name__) (m1 offset 1m)",
        "timestamp({job=~'a|b'})",
        "timestamp(m0 @ 1800)",
        "avg by (job) (m2) / on (job) group_left count by (job) (m1)",
    ],
)
def test_instant_selector_in_chunks_answers_as_one_piece(gappy: Engine, q: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 << 20 cells: every query here is one chunk; 50 cells: one or a few series per chunk.
    whole = gappy.range(q, 0, 3_600_000, 7_000).value
    monkeypatch.setattr(engine_mod, "_CHUNK_CELLS", 50)
    chunked = gappy.range(q, 0, 3_600_000, 7_000).value
    assert isinstance(whole, Matrix) and isinstance(chunked, Matrix)
    assert len(whole.labels) > 0 and whole.labels == chunked.labels
    assert whole.offsets.tolist() == chunked.offsets.tolist()
    assert whole.timestamps.tolist() == chunked.timestamps.tolist()
    assert whole.values.view(np.uint64).tolist() == chunked.values.view(np.uint64).tolist()
    at = gappy.instant(q, 2_000_500).value
    monkeypatch.setattr(engine_mod, "_CHUNK_CELLS", 1 << 20)
    at_whole = gappy.instant(q, 2_000_500).value
    assert isinstance(at, Vector) and isinstance(at_whole, Vector)
    assert at.labels == at_whole.labels
    assert at.values.view(np.uint64).tolist() == at_whole.values.view(np.uint64).tolist()


def test_count_by_name_holds_about_its_result_not_copies_of_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # 2,000 series x 241 steps: the selector's dense value and presence
    # matrices are ~4.3 MB. Before chunking and in-place aggregation the
    # evaluation peaked at 4.7 times that (index, timestamp and value
    # matrices, copies for grouping, an int64 copy of the presence).
    store = MemoryStore()
    ts = np.arange(0, 3_600_000, 15_000)
    items = [
        (labels_from_dict({"__name__": f"node_m{i % 7}", "i": str(i)}), [(int(t), float(i + k)) for k, t in enumerate(ts)])
        for i in range(2_000)
    ]
    store.append(SampleBatch.from_series(items))
    # The reference store's select builds Python objects per sample: keep it out of the peak.
    sd = store.select([Matcher.of("__name__", "=~", "node_.*")], 0, 3_600_000)
    eng = Engine(cast(Querier, _Fixed(sd)))
    monkeypatch.setattr(engine_mod, "_CHUNK_CELLS", 1 << 16)
    q = 'count by (__name__) ({__name__=~"node_.*"})'
    eng.range(q, 0, 3_600_000, 15_000)
    tracemalloc.start()
    try:
        res = eng.range(q, 0, 3_600_000, 15_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(res.value, Matrix) and len(res.value.labels) == 7
    cells = 2_000 * 241
    # Measured: 1.9x the matrices in chunks of 65k cells; 4.7x before.
    assert peak < 2.5 * 9 * cells, f"peak {peak / 2**20:.1f} MiB for {cells * 9 / 2**20:.1f} MiB of matrices"


class _Fixed:
    """A querier answering every select with the same (already selected) data."""

    def __init__(self, sd: SeriesData) -> None:
        self.sd = sd

    def select(self, matchers: object, start_ms: int, end_ms: int) -> SeriesData:
        return self.sd


def _rank_reference(op: str, vals: np.ndarray, pres: np.ndarray, groups: list[int], k: np.ndarray) -> np.ndarray:
    """Per step and group, the first k present series by (NaN last, value, input order)."""
    keep = np.zeros_like(pres)
    for c in range(vals.shape[1]):
        for g in set(groups):
            rows = [r for r in range(len(groups)) if groups[r] == g and pres[r, c]]
            if op != "limitk":
                sign = -1.0 if op == "topk" else 1.0
                rows.sort(key=lambda r: (bool(np.isnan(vals[r, c])), 0.0 if np.isnan(vals[r, c]) else sign * vals[r, c]))
            for r in rows[: max(int(np.trunc(k[c])), 0)]:
                keep[r, c] = True
    return keep


@pytest.mark.parametrize("op", ["topk", "bottomk", "limitk"])
def test_rank_selection_per_step_matches_its_definition(op: str) -> None:
    rng = np.random.default_rng(5)
    for _ in range(60):
        s, t = int(rng.integers(1, 25)), int(rng.integers(1, 9))
        groups = [int(g) for g in rng.integers(0, 3, s)]
        labels: list[Labels] = [(("g", str(groups[i])), ("i", f"{i:02d}")) for i in range(s)]
        vals = rng.choice([np.nan, 0.0, -0.0, 1.0, 2.0, -1.0, np.inf, -np.inf], (s, t))
        noise = rng.random((s, t)) < 0.3
        vals[noise] = rng.normal(0, 1, int(noise.sum()))
        pres = rng.random((s, t)) < 0.7
        k = rng.choice([1.0, 2.0, 3.7, 0.5, 30.0], t)
        out = agg.aggregate(op, IVec(labels, vals, pres), frozenset({"g"}), None, SVal(k), instant=False)
        want = _rank_reference(op, vals, pres, groups, k)
        got = np.zeros_like(pres)
        for lb, row in zip(out.labels, out.present, strict=True):
            got[labels.index(lb)] = row
        assert (got == want).all()
