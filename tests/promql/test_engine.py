"""Engine-level behaviour that the .test tables cannot express."""

from __future__ import annotations

import numpy as np
import pytest

from kubesight.model import SampleBatch, labels_from_dict
from kubesight.promql import BadDataError, Engine, Matrix, TooManySamplesError, Vector, rangefns
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
