"""The PromQL benchmark's own logic: answer comparison, evaluation phase, histogram data.

The benchmark refuses to time wrong answers, so the comparison must catch
every kind of disagreement with Prometheus and accept only real agreement.
"""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest
from bench.promql_workload import (
    HIST_BUCKETS,
    QUERY_STEP_MS,
    compare,
    histogram_batches,
    parse_matrix,
    pick_phase,
)
from bench.workload import Workload, WorkloadSpec


def body(*series: tuple[dict[str, str], list[tuple[float, str]]]) -> bytes:
    result = [{"metric": m, "values": [[t, v] for t, v in pts]} for m, pts in series]
    return orjson.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}})


A = {"instance": "a"}
B = {"instance": "b"}


def test_identical_answers_agree() -> None:
    m = parse_matrix(body((A, [(1.0, "1.5"), (2.0, "NaN")]), (B, [(1.0, "+Inf")])))
    assert compare(m, m) == []


def test_series_order_does_not_matter() -> None:
    one = parse_matrix(body((A, [(1.0, "1")]), (B, [(1.0, "2")])))
    two = parse_matrix(body((B, [(1.0, "2")]), (A, [(1.0, "1")])))
    assert compare(one, two) == []


@pytest.mark.parametrize(
    ("mine", "theirs", "agree"),
    [
        ("1", "1.0000000001", True),  # 1e-10 relative
        ("1", "1.00000001", False),  # 1e-8 relative
        ("1e300", "1.0000000001e300", True),
        ("0", "1e-300", False),  # relative, not absolute: zero is not tiny
        ("NaN", "NaN", True),
        ("NaN", "0", False),
        ("+Inf", "+Inf", True),
        ("+Inf", "-Inf", False),
    ],
)
def test_values_within_1e9_relative(mine: str, theirs: str, agree: bool) -> None:
    got = parse_matrix(body((A, [(1.0, mine)])))
    want = parse_matrix(body((A, [(1.0, theirs)])))
    assert (compare(got, want) == []) is agree


def test_missing_and_extra_series_are_reported() -> None:
    got = parse_matrix(body((A, [(1.0, "1")]), ({"instance": "c"}, [(1.0, "1")])))
    want = parse_matrix(body((A, [(1.0, "1")]), (B, [(1.0, "1")])))
    problems = compare(got, want)
    assert any("missing series" in p and "'b'" in p for p in problems)
    assert any("extra series" in p and "'c'" in p for p in problems)


def test_series_count_is_reported() -> None:
    got = parse_matrix(body((A, [(1.0, "1")])))
    want = parse_matrix(body((A, [(1.0, "1")]), (B, [(1.0, "1")])))
    assert compare(got, want)[0] == "1 series, Prometheus 2"


def test_missing_points_are_reported() -> None:
    got = parse_matrix(body((A, [(1.0, "1")])))
    want = parse_matrix(body((A, [(1.0, "1"), (16.0, "2")])))
    assert "1 points, Prometheus 2" in compare(got, want)[0]


def test_error_answers_and_other_result_types_are_refused() -> None:
    with pytest.raises(ValueError, match="bad_data"):
        parse_matrix(orjson.dumps({"status": "error", "errorType": "bad_data", "error": "x"}))
    with pytest.raises(ValueError, match="vector"):
        parse_matrix(
            orjson.dumps({"status": "success", "data": {"resultType": "vector", "result": []}})
        )
    dup = body((A, [(1.0, "1")]), (A, [(2.0, "1")]))
    with pytest.raises(ValueError, match="duplicate"):
        parse_matrix(dup)


def test_phase_keeps_away_from_every_sample() -> None:
    taken = {0, 1, 2, 7000, 7001, 14999}
    phase = pick_phase(taken)
    gaps = [min(abs(phase - t), QUERY_STEP_MS - abs(phase - t)) for t in taken]
    assert min(gaps) >= 3000
    assert phase not in taken


def test_histogram_buckets_are_cumulative_counters() -> None:
    w = Workload(WorkloadSpec(instances=3, steps=5, end_ms=1_750_000_000_000))
    prev = None
    steps = list(histogram_batches(w, 1))
    assert [s for s, _ in steps] == list(range(5))
    nb = len(HIST_BUCKETS)
    for _step, batch in steps:
        vals = batch.values.reshape(3, nb + 1)
        assert (np.diff(vals[:, :nb], axis=1) >= 0).all()  # cumulative in le
        assert (vals[:, nb] == vals[:, nb - 1]).all()  # _count equals the +Inf bucket
        assert all(v == math.floor(v) for v in vals.ravel())  # exact in every store
        if prev is not None:
            assert (vals >= prev).all()  # counters never go down
        prev = vals
        assert w.start_ms <= int(batch.timestamps.min())
        assert int(batch.timestamps.max()) < w.end_ms + QUERY_STEP_MS
    labels = steps[0][1].series
    assert len(set(labels)) == len(labels) == 3 * (nb + 1)
