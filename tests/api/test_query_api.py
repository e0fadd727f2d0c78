"""The query API answers Prometheus' JSON envelope byte for byte where it can."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from kubesight.api.query import dumps, encode_result, routes
from kubesight.model import SampleBatch, labels_from_dict
from kubesight.promql import Engine
from kubesight.promql.fmt import format_float, format_floats
from kubesight.promql.value import Matrix
from kubesight.store.memory import MemoryStore


@pytest.fixture
def client() -> TestClient:
    store = MemoryStore()
    store.append(
        SampleBatch.from_series(
            [
                (labels_from_dict({"__name__": "up", "job": "a", "instance": "x"}),
                 [(t * 15_000, 1.0) for t in range(41)]),
                (labels_from_dict({"__name__": "up", "job": "b", "instance": "y"}),
                 [(t * 15_000, 0.0) for t in range(41)]),
                (labels_from_dict({"__name__": "c_total", "job": "a"}),
                 [(t * 15_000, float(t * 10)) for t in range(41)]),
                (labels_from_dict({"__name__": "weird"}),
                 [(0, math.nan), (15_000, math.inf), (30_000, -math.inf), (45_000, 1e21)]),
            ]
        )
    )
    app = Starlette(routes=routes(Engine(store, max_samples=1000)))
    return TestClient(app)


def test_instant_vector_envelope(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "up", "time": "60"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"__name__": "up", "instance": "x", "job": "a"}, "value": [60, "1"]},
                {"metric": {"__name__": "up", "instance": "y", "job": "b"}, "value": [60, "0"]},
            ],
        },
    }


def test_post_form_and_rfc3339(client: TestClient) -> None:
    r = client.post("/api/v1/query", data={"query": "sum(up)", "time": "1970-01-01T00:01:00Z"})
    assert r.json()["data"]["result"] == [{"metric": {}, "value": [60, "1"]}]


def test_scalar_and_string(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "1 + 1", "time": "10.5"})
    assert r.json()["data"] == {"resultType": "scalar", "result": [10.5, "2"]}
    r = client.get("/api/v1/query", params={"query": '"hi"', "time": "10"})
    assert r.json()["data"] == {"resultType": "string", "result": [10, "hi"]}


def test_special_values_format(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "weird[1m]", "time": "50"})
    vals = [v for _, v in r.json()["data"]["result"][0]["values"]]
    assert vals == ["NaN", "+Inf", "-Inf", "1000000000000000000000"]


def test_query_range_matrix(client: TestClient) -> None:
    r = client.get(
        "/api/v1/query_range",
        params={"query": "rate(c_total[1m])", "start": "60", "end": "120", "step": "30s"},
    )
    body = r.json()
    assert body["status"] == "success"
    assert body["data"]["resultType"] == "matrix"
    (series,) = body["data"]["result"]
    assert series["metric"] == {"job": "a"}
    assert series["values"] == [[60, "0.6666666666666666"], [90, "0.6666666666666666"], [120, "0.6666666666666666"]]


def test_query_range_float_step_and_stats(client: TestClient) -> None:
    r = client.get(
        "/api/v1/query_range",
        params={"query": "up", "start": "0", "end": "30", "step": "15", "stats": "all"},
    )
    data = r.json()["data"]
    assert len(data["result"]) == 2
    assert data["stats"]["samples"]["totalQueryableSamples"] > 0
    assert "execTotalTime" in data["stats"]["timings"]


def test_parse_error_is_bad_data(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "sum(up", "time": "1"})
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == "error"
    assert body["errorType"] == "bad_data"
    assert "parse error" in body["error"]


def test_bad_time_and_step(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "up", "time": "yesterday"})
    assert r.status_code == 400
    r = client.get("/api/v1/query_range", params={"query": "up", "start": "10", "end": "0", "step": "1"})
    assert r.status_code == 400
    r = client.get("/api/v1/query_range", params={"query": "up", "start": "0", "end": "10", "step": "0"})
    assert r.status_code == 400
    assert "zero or negative" in r.json()["error"]
    r = client.get("/api/v1/query_range", params={"query": "up", "start": "0", "end": "100000", "step": "1"})
    assert r.status_code == 400
    assert "11,000 points" in r.json()["error"]


def test_execution_error_is_422(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "vector(1) + on() group_left up", "time": "60"})
    assert r.status_code == 422
    assert r.json()["errorType"] == "execution"


def test_too_many_samples(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "sum_over_time(c_total[1h])", "time": "600"})
    assert r.status_code == 200
    r = client.get(
        "/api/v1/query_range",
        params={"query": "sum_over_time(c_total[10m])", "start": "0", "end": "600", "step": "0.5"},
    )
    assert r.status_code == 422
    assert r.json()["error"] == (
        "query processing would load too many samples into memory in query execution"
    )


def test_timeout_is_503() -> None:
    app = Starlette(routes=routes(Engine(MemoryStore(), timeout_s=1e-9)))
    r = TestClient(app).get("/api/v1/query", params={"query": "up", "time": "60"})
    assert r.status_code == 503
    assert r.json()["errorType"] == "timeout"


def test_limit_truncates_with_warning(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "up", "time": "60", "limit": "1"})
    body = r.json()
    assert len(body["data"]["result"]) == 1
    assert body["warnings"]


def test_lookback_delta(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "up", "time": "700", "lookback_delta": "1m"})
    assert r.json()["data"]["result"] == []
    r = client.get("/api/v1/query", params={"query": "up", "time": "700"})
    assert len(r.json()["data"]["result"]) == 2


def test_format_and_parse_query(client: TestClient) -> None:
    r = client.get("/api/v1/format_query", params={"query": "sum(rate(foo[5m]))by(job)"})
    assert r.json()["status"] == "success"
    assert "sum by (job)" in r.json()["data"]
    r = client.get("/api/v1/parse_query", params={"query": "up{job=\"a\"} offset 5m"})
    data = r.json()["data"]
    assert data["type"] == "vectorSelector"
    assert data["offset"] == 300_000
    r = client.get("/api/v1/parse_query", params={"query": "up{"})
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("v", "s"),
    [
        (1e21, "1000000000000000000000"),
        (1.5, "1.5"),
        (-0.0, "-0"),
        (0.1, "0.1"),
        (1e-7, "0.0000001"),
        (123456789.0, "123456789"),
        (math.nan, "NaN"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (2.5e-5, "0.000025"),
        (1 / 3, "0.3333333333333333"),
    ],
)
def test_format_float_like_go(v: float, s: str) -> None:
    import numpy as np

    assert format_float(v) == s
    assert format_floats(np.array([v])) == [s]


def test_orjson_body_is_compact(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "vector(1)", "time": "1"})
    # Prometheus' bytes: whole seconds bare, else three fraction digits.
    assert r.content == b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}'
    r = client.get("/api/v1/query_range", params={"query": "vector(1)", "start": "1.5", "end": "2.5", "step": "1"})
    assert r.content == (
        b'{"status":"success","data":{"resultType":"matrix","result":'
        b'[{"metric":{},"values":[[1.500,"1"],[2.500,"1"]]}]}}'
    )


def test_infos_for_rate_over_a_non_counter_name(client: TestClient) -> None:
    r = client.get("/api/v1/query", params={"query": "sum(rate(up[5m]))", "time": "300"})
    body = r.json()
    assert body["infos"] == [
        'PromQL info: metric might not be a counter, name does not end in '
        '_total/_sum/_count/_bucket: "up" (1:10)'
    ]
    r = client.get("/api/v1/query", params={"query": "rate(c_total[5m])", "time": "300"})
    assert "infos" not in r.json()


def _reference_matrix_json(m: Matrix) -> bytes:
    """Prometheus' matrix JSON built point by point: MarshalTimestamp and FormatFloat."""

    def ts(t: int) -> str:
        sign, a = ("-" if t < 0 else ""), abs(t)
        return f"{sign}{a // 1000}" + (f".{a % 1000:03d}" if a % 1000 else "")

    series = []
    for i, lb in enumerate(m.labels):
        t, v = m.samples(i)
        pts = ",".join(f'[{ts(a)},"{format_float(b)}"]' for a, b in zip(t.tolist(), v.tolist(), strict=True))
        series.append(f'{{"metric":{orjson.dumps(dict(lb)).decode()},"values":[{pts}]}}')
    return f'{{"resultType":"matrix","result":[{",".join(series)}]}}'.encode()


def test_matrix_encoding_matches_a_point_by_point_reference() -> None:
    # Shared step timestamps are formatted once per result and values keep
    # orjson's digits except where Go spells them differently: the bytes
    # must be those of the plain per-point construction.
    rng = np.random.default_rng(7)
    specials = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-5, -3.2e-7, 1e16, 1e21, 1e15,
                999999999999999.9, 0.1, 3.0, -7.0, 5e-324, 1.7976931348623157e308, 2.0**63, 1e-4, 9.999e-5]
    for base in (0, -5_000, 1_750_000_000_123, -1_750_000_000_000):
        for step in (1, 1_500):
            counts = rng.integers(0, 25, 5)
            counts[1] = 0  # an empty series encodes as []
            offs = np.r_[0, np.cumsum(counts)].astype(np.int64)
            n = int(offs[-1])
            vals = np.where(rng.random(n) < 0.5, rng.choice(specials, n), rng.normal(0, 1e6, n))
            vals[::7] = np.round(vals[::7])
            grid = np.arange(base, base + 40 * step, step, dtype=np.int64)
            ts = np.concatenate([np.sort(rng.choice(grid, c, replace=False)) for c in counts]).astype(np.int64)
            m = Matrix([(("i", str(i)),) for i in range(5)], offs, ts, vals)
            assert dumps(encode_result(m)[0]) == _reference_matrix_json(m)


def test_go_escapes_in_labels_and_their_absence() -> None:
    m = Matrix([(("a", "<b>&\u2028\u2029"),)], np.array([0, 1], np.int64), np.array([1000], np.int64), np.array([1.0]))
    body = dumps(encode_result(m)[0])
    assert body == (
        b'{"resultType":"matrix","result":[{"metric":{"a":"\\u003cb\\u003e\\u0026\\u2028\\u2029"},'
        b'"values":[[1,"1"]]}]}'
    )
    plain = Matrix([(("a", "\u00e9"),)], np.array([0, 1], np.int64), np.array([1500], np.int64), np.array([0.5]))
    assert dumps(encode_result(plain)[0]) == (
        '{"resultType":"matrix","result":[{"metric":{"a":"\u00e9"},"values":[[1.500,"0.5"]]}]}'.encode()
    )


def test_matrix_encoding_reuses_step_grids_without_changing_answers() -> None:
    import numpy as np
    import orjson

    from kubesight.api import query as q

    grid = np.arange(1_000, 61_000, 15_000, dtype=np.int64)  # 4 steps of 15 s
    ts = np.concatenate([grid, grid[1:]])  # two series, the second missing its first point
    vals = np.arange(7, dtype=np.float64) + 0.5
    q._GRIDS.clear()
    first = [orjson.dumps(f) for f in q._matrix_values(ts, vals, [0, 4, 7])]
    assert len(q._GRIDS) == 1
    again = [orjson.dumps(f) for f in q._matrix_values(ts, vals * 2, [0, 4, 7])]  # same grid, other values
    assert first[0] == b'[[1,"0.5"],[16,"1.5"],[31,"2.5"],[46,"3.5"]]'
    assert first[1] == b'[[16,"4.5"],[31,"5.5"],[46,"6.5"]]'
    assert again[0] == b'[[1,"1"],[16,"3"],[31,"5"],[46,"7"]]'
    # timestamps off any grid are formatted each time, and not kept
    odd = np.array([1_000, 2_500, 9_000], dtype=np.int64)
    assert [orjson.dumps(f) for f in q._matrix_values(odd, vals[:3], [0, 3])] == \
        [b'[[1,"0.5"],[2.500,"1.5"],[9,"2.5"]]']  # Prometheus writes milliseconds as .500
    assert len(q._GRIDS) == 1
