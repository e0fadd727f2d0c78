"""Differential test: kubesight's PromQL against a real Prometheus on the same data.

The same generated data is imported into a Prometheus (Debian's package,
2.42 here) with ``promtool tsdb create-blocks-from openmetrics`` and into a
MemoryStore. Every expression runs as instant queries at two times and as a
range query through Prometheus' HTTP API and through our Engine; answers must
match: same label sets, values within 1e-9 relative, same order where
Prometheus orders (sort, sort_desc, topk, bottomk).

Where 2.42 and 3.x differ, kubesight follows 3.x: those expressions are in
SKIPPED_3X with the reason (and in docs/promql.md).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kubesight.promql import Engine, Matrix, PromQLError, Scalar, String, Vector
from kubesight.store.memory import MemoryStore
from tests.peers import prometheus as run_prometheus
from tests.promql import diffdata

pytestmark = pytest.mark.peer

T0 = diffdata.T0_MS
# Evaluation instants and range bounds off every sample/step grid (see diffdata).
INSTANTS = [T0 + 1_800_500, T0 + 3_000_777]
RANGE = (T0 + 600_300, T0 + 3_500_300, 60_000)
RANGE2 = (T0 + 1_000_100, T0 + 2_500_100, 37_000)

R = "http_requests_total"
CPU = "node_cpu_seconds_total"
MEM = "node_memory_MemAvailable_bytes"
BUCKET = "request_duration_seconds_bucket"

# Refused by both; 2.42 words the syntax error differently (docs/promql.md).
ERRORS_WORDED_AS_3X = [
    f"{MEM}[5m:0]",
    f"rate({R}[0])",
    f"{MEM} + fill(0) up",
]

EXPRESSIONS: list[str] = [
    # selectors and matchers
    R,
    f'{R}{{code="200"}}',
    f'{R}{{code!="200"}}',
    f'{R}{{method=~"g.*"}}',
    f'{R}{{method!~"g.*", code="500"}}',
    '{__name__=~"node_memory_.*"}',
    f'{R}{{instance=~"10\\\\.0\\\\.0\\\\.[12]:9100"}}',
    f"{R} offset 5m",
    f"{R} offset -2m",
    f"{MEM} @ {(T0 + 1_234_567) / 1000}",
    f"{MEM} @ {(T0 + 1_234_567) / 1000} offset 3m",
    f"{MEM} @ start()",
    f"{MEM} @ end()",
    "sparse_gauge",
    "short_lived",
    "special_values",
    "up",
    # arithmetic and comparisons
    f"{MEM} / 1024 / 1024",
    f"{MEM} / node_memory_MemTotal_bytes",
    f"1 - {MEM} / node_memory_MemTotal_bytes",
    f"{MEM} % 1000",
    f"{MEM} ^ 0.5",
    "2 ^ 3 ^ 2",
    "-temperature_celsius",
    "temperature_celsius > 5",
    "temperature_celsius < bool 5",
    "5 > temperature_celsius",
    "temperature_celsius == bool temperature_celsius",
    "temperature_celsius != 3",
    "temperature_celsius >= -2",
    "temperature_celsius <= 20",
    "special_values * 2",
    "special_values / 0",
    "special_values > 100",
    "special_values atan2 temperature_celsius",
    "1 + 2 * 3 - 4 / 2",
    "(1 + 2) * 3 % 4",
    "time()",
    "time() - 1",
    # vector matching
    f"rate({R}[5m]) / ignoring(code) group_left sum without (code) (rate({R}[5m]))",
    f"sum by (instance) (rate({R}[5m])) / on(instance) group_left count by (instance) ({R})",
    f"{MEM} * on(instance) group_left(version) build_info",
    f"build_info * on(instance) group_right(version) {MEM}",
    f"up == on(instance) group_left {MEM} > 0",
    f"{MEM} + on(instance, job) up",
    f"{MEM} > bool ignoring(job) temperature_celsius",
    # set operators
    f"{MEM} and up == 1",
    f"{MEM} unless on(instance) (up == 0)",
    f"{R}{{code=\"500\"}} or {R}{{method=\"get\"}}",
    "short_lived or sparse_gauge",
    f"up and on(instance) {MEM}",
    f"{R} and ignoring(code, method) up",
    f"({MEM} or temperature_celsius) unless ignoring(job, room) up == 0",
    # aggregations
    f"sum({R})",
    f"sum by (code) ({R})",
    f"sum without (instance) ({R})",
    f"avg by (instance) ({CPU})",
    f"min by (mode) ({CPU})",
    f"max by (mode) ({CPU})",
    f"count by (instance) ({CPU})",
    f"group by (mode) ({CPU})",
    f"stddev by (mode) ({CPU})",
    f"stdvar ({MEM})",
    f"quantile(0.9, {MEM})",
    "quantile by (room) (0.5, temperature_celsius)",
    f"quantile(0, {R})",
    f"topk(3, {R})",
    f"bottomk(2, {MEM})",
    f"topk by (code) (1, {R})",
    "count_values(\"value\", up)",
    "count_values by (instance) (\"v\", sparse_gauge)",
    "sum by (__name__) ({__name__=~\"node_memory_.*\"})",
    "count by (__name__) ({__name__=~\"node_.*\"})",
    "sum(special_values)",
    "avg(special_values)",
    "max(special_values)",
    "min(special_values)",
    "stddev(special_values)",
    "sum by (instance) (sparse_gauge)",
    f"avg without (cpu, mode) ({CPU})",
    # rate family
    f"rate({R}[5m])",
    f"rate({R}[1m])",
    f"rate({R}[30s])",
    f"irate({R}[5m])",
    f"increase({R}[10m])",
    f"increase({R}[1h])",
    f"rate({R}[5m] offset 10m)",
    f"rate({R}[5m] @ {(T0 + 1_500_000) / 1000})",
    f"delta({MEM}[10m])",
    f"idelta({MEM}[5m])",
    f"deriv({MEM}[10m])",
    f"predict_linear({MEM}[15m], 3600)",
    f"predict_linear({MEM}[15m] offset 5m, -600)",
    f"resets({R}[1h])",
    "changes(up[1h])",
    f"changes({MEM}[5m])",
    f"sum by (instance) (rate({CPU}{{mode!=\"idle\"}}[5m]))",
    f"1 - avg by (instance) (rate({CPU}{{mode=\"idle\"}}[5m]))",
    "rate(special_values[5m])",
    "deriv(special_values[5m])",
    f"rate({R}{{code=\"500\", method=\"post\"}}[3m])",
    "delta(temperature_celsius[2m])",
    # over_time family
    f"avg_over_time({MEM}[5m])",
    f"min_over_time({MEM}[5m])",
    f"max_over_time({MEM}[5m])",
    f"sum_over_time({MEM}[5m])",
    f"count_over_time({R}[5m])",
    f"quantile_over_time(0.9, {MEM}[10m])",
    "quantile_over_time(0.5, temperature_celsius[7m])",
    f"stddev_over_time({MEM}[10m])",
    f"stdvar_over_time({MEM}[10m])",
    f"last_over_time({MEM}[5m])",
    "last_over_time(sparse_gauge[3m])",
    "present_over_time(sparse_gauge[1m])",
    "absent_over_time(nonexistent[5m])",
    "absent_over_time(sparse_gauge[1m])",
    "avg_over_time(special_values[5m])",
    "max_over_time(special_values[5m])",
    "min_over_time(special_values[5m])",
    "sum_over_time(special_values[2m])",
    "count_over_time(short_lived[10m])",
    # math functions
    "abs(temperature_celsius)",
    "ceil(temperature_celsius)",
    "floor(temperature_celsius)",
    "round(temperature_celsius)",
    "round(temperature_celsius, 0.5)",
    "round(temperature_celsius, 3)",
    "exp(temperature_celsius / 10)",
    "ln(abs(temperature_celsius))",
    "log2(abs(temperature_celsius))",
    "log10(abs(temperature_celsius))",
    "sqrt(abs(temperature_celsius))",
    "sqrt(temperature_celsius)",
    "sgn(temperature_celsius)",
    "clamp(temperature_celsius, 0, 10)",
    "clamp_min(temperature_celsius, 0)",
    "clamp_max(temperature_celsius, 10)",
    "clamp(temperature_celsius, 10, 0)",
    "sin(temperature_celsius)",
    "cos(temperature_celsius)",
    "tan(temperature_celsius)",
    "asin(temperature_celsius / 100)",
    "acos(temperature_celsius / 100)",
    "atan(temperature_celsius)",
    "sinh(temperature_celsius / 10)",
    "cosh(temperature_celsius / 10)",
    "tanh(temperature_celsius)",
    "asinh(temperature_celsius)",
    "acosh(abs(temperature_celsius) + 1)",
    "atanh(temperature_celsius / 100)",
    "deg(temperature_celsius)",
    "rad(temperature_celsius)",
    "pi()",
    "abs(special_values)",
    # time and other functions
    f"timestamp({MEM})",
    "timestamp(sparse_gauge)",
    "timestamp(sparse_gauge offset 1m)",
    f"timestamp(sum({MEM}))",
    "vector(1)",
    "vector(time())",
    "scalar(up{instance=\"10.0.0.1:9100\"})",
    "scalar(up)",
    "scalar(nonexistent)",
    f"{MEM} * scalar(up{{instance=\"10.0.0.1:9100\"}})",
    "absent(nonexistent{job=\"x\", a=~\"b\"})",
    "absent(up)",
    "day_of_month()",
    "day_of_week()",
    "day_of_year()",
    "days_in_month()",
    "hour()",
    "minute()",
    "month()",
    "year()",
    "hour(timestamp(up))",
    "day_of_week(vector(1700000000))",
    "days_in_month(vector(1709251200))",
    # sorting (instant results are compared in order)
    f"sort({MEM})",
    f"sort_desc({MEM})",
    f"sort(rate({R}[5m]))",
    "sort_desc(temperature_celsius)",
    # label functions
    f'label_replace({MEM}, "host", "$1", "instance", "(.*):.*")',
    f'label_replace({MEM}, "instance", "", "instance", ".*")',
    f'label_replace({MEM}, "x", "$1-$2", "instance", "([0-9.]+):([0-9]+)")',
    f'label_replace({MEM}, "x", "nomatch", "instance", "zzz")',
    f'label_join({MEM}, "joined", "/", "job", "instance")',
    f'label_join({MEM}, "job", "", "nothing")',
    # histograms
    f"histogram_quantile(0.9, rate({BUCKET}[5m]))",
    f"histogram_quantile(0.5, sum by (le) (rate({BUCKET}[5m])))",
    f"histogram_quantile(0.99, sum by (le, instance) (rate({BUCKET}[10m])))",
    f"histogram_quantile(0, {BUCKET})",
    f"histogram_quantile(1, {BUCKET})",
    f"histogram_quantile(1.5, {BUCKET})",
    f"histogram_quantile(-1, {BUCKET})",
    f"histogram_quantile(0.5, {BUCKET}{{le!=\"+Inf\"}})",
    "rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])",
    # subqueries
    f"max_over_time(rate({R}[5m])[30m:1m])",
    f"min_over_time({MEM}[10m:30s])",
    "avg_over_time(temperature_celsius[20m:])",
    f"rate({R}[10m:1m])",
    f"max_over_time(sum by (instance) (rate({CPU}[5m]))[15m:2m] offset 3m)",
    f"count_over_time({MEM}[10m:1m] @ {(T0 + 2_000_500) / 1000})",
    f"sum_over_time(deriv({MEM}[5m])[10m:45s])",
    "quantile_over_time(0.5, (temperature_celsius * 2)[10m:1m])",
    f"last_over_time(({MEM} > 2e9)[5m:10s])",
    f"max_over_time(max_over_time({MEM}[125s:20s])[10m:1m])",
    # combinations
    f"topk(2, sum by (instance) (rate({R}[5m])))",
    f"bottomk(1, avg by (mode) (rate({CPU}[5m])))",
    f"sum(rate({R}[5m])) by (code) / ignoring(code) group_left sum(rate({R}[5m]))",
    f"count(count by (instance) ({CPU}))",
    "sum by (job) (up) / count by (job) (up)",
    f"abs(delta({MEM}[5m])) > 1e6",
    f"({MEM} - {MEM} offset 10m) / {MEM} offset 10m",
    f"avg by (instance) (rate({CPU}[5m])) * on(instance) group_left(version) build_info",
    f"sum(rate({R}{{code=~\"5..\"}}[5m])) / sum(rate({R}[5m]))",
    f"predict_linear({MEM}[10m] @ {(T0 + 1_700_300) / 1000}, 600)",
    f"deriv({MEM}[10m] @ {(T0 + 1_700_300) / 1000})",
    f"timestamp({MEM} @ {(T0 + 1_700_300) / 1000})",
    f"sum by (instance) (rate({R}[5m])) > bool 1",
    f"{R}{{code=\"500\"}} unless on(instance, method) {R}{{code=\"200\"}} > 1000",
    f"count_values(\"le\", {BUCKET})",
    "stddev_over_time(special_values[5m])",
    "quantile_over_time(0.5, special_values[5m])",
    "resets(special_values[10m])",
    "changes(special_values[10m])",
    "irate(special_values[5m])",
    "idelta(special_values[5m])",
    f"sum by (instance) (increase({BUCKET}[5m]))",
    f"label_replace(rate({R}[5m]), \"code_class\", \"${{1}}xx\", \"code\", \"(.).*\")",
    f"{MEM} offset 1h",
    "absent(short_lived)",
    "vector(1) and on() (up == 0)",
    f"topk by (instance) (2, rate({CPU}[5m]))",
    f"quantile(0.25, rate({R}[5m]))",
    f"-{MEM} offset 2m",
    # offset and @ together, on selectors, ranges and subqueries
    f"{MEM} offset -1m @ {(T0 + 1_234_567) / 1000}",
    f"rate({R}[5m] @ {(T0 + 1_500_000) / 1000} offset 2m)",
    f"rate({R}[5m] offset 2m @ {(T0 + 1_500_000) / 1000})",
    f"max_over_time({MEM}[10m:1m] @ {(T0 + 2_000_500) / 1000} offset 3m)",
    f"max_over_time({MEM}[5m:30s] @ end())",
    f"min_over_time({MEM}[5m:30s] @ start() offset -1m)",
    f"sum_over_time(({MEM} offset 1m)[5m:1m] offset 2m)",
    f"timestamp({MEM} offset 2m @ {(T0 + 1_700_300) / 1000})",
    f"{MEM} @ start() - {MEM} @ end()",
    # assorted corners
    'label_replace(up, "__name__", "renamed", "", "")',
    "sort_desc(sum by (instance) (up))",
    "up offset 1m > bool up",
    "timestamp(timestamp(up))",
    "absent_over_time(up[1m] offset 1h)",
    "scalar(sum(up)) * up",
    "topk(scalar(count(up)) - 1, up)",
    f"quantile(scalar(up{{instance=\"10.0.0.1:9100\"}}) / 2, {MEM})",
    "max_over_time(timestamp(up)[5m:1m])",
    f"sum by (le) ({BUCKET}) > 0",
    f"sgn({MEM} - {MEM} offset 1m)",
    f"clamp({MEM}, 1e9, NaN)",
    f"round({MEM}, -1000)",
    f"-{MEM} % 7",
    f"{MEM} atan2 {MEM}",
    "up unless on(job) up",
    "count(up) by (job) == bool 2",
    "changes(up[1h] offset 30m)",
    f"resets({R}[5m:30s])",
    f"irate({R}[5m:1m])",
    f"deriv({MEM}[5m:1m])",
    f"predict_linear({MEM}[10m:1m], 60)",
    f"stdvar_over_time({MEM}[5m:1m] offset 1m)",
    f"quantile_over_time(0.5, {R}[5m:1m])",
    "absent(sum(nonexistent))",
    "absent(nonexistent{a=\"b\"} offset 5m)",
    "sum(up) by (instance) and on() vector(1)",
    f"count_values(\"v\", {MEM} > 1e18)",
    f"bottomk by (code) (1, {R})",
    f"max(rate({R}[5m])) by (code) - min(rate({R}[5m])) by (code)",
    f"group({R}) by (method) * on(method) group_left count({R}) by (method)",
    "timestamp(up offset -1m)",
    # native-histogram functions on float series: empty in both
    f"histogram_count({MEM})",
    f"histogram_sum(rate({BUCKET}[5m]))",
    # errors: Prometheus and kubesight must both refuse (same errorType)
    *ERRORS_WORDED_AS_3X,
    f"{MEM} + on(job) up",
    'abs({__name__=~"node_memory_.*"})',
    'rate({__name__=~"node_memory_.*"}[5m])',
    'label_replace(up, "instance", "x", "instance", ".*")',
    f"{R} / on(instance) group_left up",
]

# 2.42 lacks these functions, or answers them with 2.x semantics that 3.x changed.
SKIPPED_3X: dict[str, str] = {
    "mad_over_time": "added in Prometheus 2.53/3.x",
    "sort_by_label": "added in Prometheus 3.x (experimental)",
    "limitk": "added in Prometheus 3.x (experimental)",
    "double_exponential_smoothing": "renamed from holt_winters in 3.x",
    # 2.42 re-reads the @-pinned window at every step for the step-dependent
    # functions (the window slides with the step); 3.x reads it once.
    "predict_linear(node_memory_MemAvailable_bytes[10m] @": "2.42 slides @-pinned windows of predict_linear",
    # 2.42 keeps __name__ for vector atan2 vector; 3.x drops it (changesMetricSchema).
    "node_memory_MemAvailable_bytes atan2 node_memory_MemAvailable_bytes": "2.42 keeps the name through atan2",
}


def _install_prometheus() -> tuple[str, str]:
    prom = shutil.which("prometheus") or "/usr/bin/prometheus"
    tool = shutil.which("promtool") or "/usr/bin/promtool"
    if not (os.path.exists(prom) and os.path.exists(tool)):
        try:
            subprocess.run(["apt-get", "update"], check=True, capture_output=True, timeout=600)
            subprocess.run(
                ["apt-get", "install", "-y", "prometheus"], check=True, capture_output=True, timeout=900
            )
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(
                "!!! DIFFERENTIAL TEST NOT RUN: Prometheus is not installed and "
                f"'apt-get install -y prometheus' failed ({exc}) !!!"
            )
    return prom, tool


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _, tool = _install_prometheus()
    root = tmp_path_factory.mktemp("prom")
    data = root / "data"
    data.mkdir()
    om = root / "data.om"
    om.write_text(diffdata.to_openmetrics(diffdata.generate()))
    subprocess.run([tool, "tsdb", "create-blocks-from", "openmetrics", "-q", str(om), str(data)],
                   check=True, capture_output=True, timeout=300)
    with run_prometheus(root, "global: {}\n", "--storage.tsdb.retention.time=100y",
                    "--query.lookback-delta=5m", "--log.level=warn", data=data) as url:
        yield url


@pytest.fixture(scope="module")
def engine() -> Engine:
    store = MemoryStore()
    store.append(diffdata.to_batch(diffdata.generate()))
    return Engine(store)


Canon = tuple[str, Any]


def _f(s: str) -> float:
    return float(s.replace("Inf", "inf"))


def _prom_canon(body: dict[str, Any]) -> Canon:
    if body["status"] != "success":
        return ("error", body.get("errorType"))
    data = body["data"]
    rt = data["resultType"]
    if rt == "scalar":
        return ("scalar", [((), [(round(data["result"][0] * 1000), _f(data["result"][1]))])])
    if rt == "string":
        return ("string", data["result"][1])
    if rt == "vector":
        return ("vector", [(tuple(sorted(r["metric"].items())), [(round(r["value"][0] * 1000), _f(r["value"][1]))])
                           for r in data["result"]])
    return ("matrix", [(tuple(sorted(r["metric"].items())),
                        [(round(t * 1000), _f(v)) for t, v in r["values"]]) for r in data["result"]])


def _ours_canon(engine: Engine, expr: str, params: dict[str, Any]) -> Canon:
    try:
        if "time" in params:
            res = engine.instant(expr, round(params["time"] * 1000))
        else:
            res = engine.range(expr, round(params["start"] * 1000), round(params["end"] * 1000),
                               round(params["step"] * 1000))
    except PromQLError as exc:
        return ("error", exc.error_type)
    v = res.value
    if isinstance(v, Scalar):
        return ("scalar", [((), [(v.t_ms, v.value)])])
    if isinstance(v, String):
        return ("string", v.value)
    if isinstance(v, Vector):
        return ("vector", [(lb, [(v.t_ms, float(x))]) for lb, x in zip(v.labels, v.values.tolist(), strict=True)])
    assert isinstance(v, Matrix)
    out = []
    for i, lb in enumerate(v.labels):
        ts, vals = v.samples(i)
        out.append((lb, list(zip(ts.tolist(), vals.tolist(), strict=True))))
    return ("matrix", out)


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    # 1e-9 relative; 1e-12 absolute absorbs float noise around zero (e.g. a
    # regression slope of 0 computed by two different summation orders).
    return abs(a - b) <= max(1e-9 * max(abs(a), abs(b)), 1e-12)


def _ordered(expr: str) -> bool:
    return expr.startswith(("sort(", "sort_desc(", "topk(", "bottomk("))


def _diff(expr: str, prom: Canon, ours: Canon, ordered: bool) -> str | None:
    if prom[0] != ours[0]:
        return f"result type/error: prometheus {prom}, kubesight {ours}"
    if prom[0] in ("error", "string"):
        return None if prom[1] == ours[1] else f"prometheus {prom[1]!r}, kubesight {ours[1]!r}"
    p, o = list(prom[1]), list(ours[1])
    if prom[0] in ("vector",) and not ordered:
        p.sort(key=lambda x: x[0])
        o.sort(key=lambda x: x[0])
    if prom[0] == "matrix":
        p.sort(key=lambda x: x[0])
        o.sort(key=lambda x: x[0])
    if [x[0] for x in p] != [x[0] for x in o]:
        return f"label sets differ:\n  prometheus {[x[0] for x in p]}\n  kubesight  {[x[0] for x in o]}"
    for (lb, ps), (_, os_) in zip(p, o, strict=True):
        if [t for t, _ in ps] != [t for t, _ in os_]:
            return f"{lb}: timestamps differ: prometheus {[t for t, _ in ps]}, kubesight {[t for t, _ in os_]}"
        for (t, a), (_, b) in zip(ps, os_, strict=True):
            if not _close(a, b):
                return f"{lb} @ {t}: prometheus {a!r}, kubesight {b!r}"
    return None


def test_differential(peer: str, engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(set(EXPRESSIONS)) == len(EXPRESSIONS), "duplicate expressions"
    failures: list[str] = []
    compared = 0
    skipped: list[str] = []
    with httpx.Client(base_url=peer, timeout=60) as client:
        for expr in EXPRESSIONS:
            reason = next((r for fn, r in SKIPPED_3X.items() if fn in expr), None)
            if reason:
                skipped.append(f"{expr}: {reason}")
                continue
            compared += 1
            queries: list[tuple[str, dict[str, Any]]] = [
                ("/api/v1/query", {"query": expr, "time": t / 1000}) for t in INSTANTS
            ]
            for start, end, step in (RANGE, RANGE2):
                queries.append(("/api/v1/query_range",
                                {"query": expr, "start": start / 1000, "end": end / 1000, "step": step / 1000}))
            for path, params in queries:
                body = client.get(path, params=params).json()
                prom = _prom_canon(body)
                if prom[0] == "error" and path.endswith("query_range") and "range vector" in body.get("error", ""):
                    continue
                ours = _ours_canon(engine, expr, {k: v for k, v in params.items() if k != "query"})
                d = _diff(expr, prom, ours, _ordered(expr) and path.endswith("/query"))
                if d:
                    failures.append(f"{expr} ({path} {params}):\n    {d}\n    prometheus said: {str(body)[:300]}")
    with capsys.disabled():  # the count is part of the result: show it even when captured
        print(f"\ndifferential test: compared {compared} expressions "
              f"({compared * 4} queries) against Prometheus; {len(skipped)} skipped (3.x-only)")
    assert compared >= 150
    assert not failures, f"{len(failures)} mismatches:\n" + "\n".join(failures[:40])


BYTE_EXACT = [
    ("/api/v1/query", {"query": f"sort_desc({MEM})", "time": INSTANTS[0] / 1000}),
    ("/api/v1/query", {"query": "special_values", "time": INSTANTS[1] / 1000}),
    ("/api/v1/query", {"query": "scalar(up{instance=\"10.0.0.1:9100\"}) * 1e21", "time": INSTANTS[0] / 1000}),
    ("/api/v1/query", {"query": f"{MEM}[1m]", "time": INSTANTS[0] / 1000}),
    ("/api/v1/query", {"query": '"a string"', "time": INSTANTS[1] / 1000}),
    ("/api/v1/query", {"query": "time() / 7", "time": (T0 + 1_800_000) / 1000}),
    ("/api/v1/query", {"query": "nonexistent", "time": INSTANTS[0] / 1000}),
    ("/api/v1/query_range", {"query": f"rate({R}[5m])", "start": RANGE[0] / 1000,
                             "end": RANGE[1] / 1000, "step": RANGE[2] / 1000}),
    ("/api/v1/query_range", {"query": "special_values / 3", "start": (T0 + 600_000) / 1000,
                             "end": (T0 + 1_200_000) / 1000, "step": 30}),
]


def test_response_bytes_identical(peer: str, engine: Engine) -> None:
    """Our /api/v1/query(_range) answer is byte-for-byte Prometheus' answer."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from kubesight.api.query import routes

    ours = TestClient(Starlette(routes=routes(engine)))
    with httpx.Client(base_url=peer, timeout=60) as prom:
        for path, params in BYTE_EXACT:
            want = prom.get(path, params=params).content
            got = ours.get(path, params=params).content
            assert got == want, f"{path} {params}:\n  prometheus {want[:400]!r}\n  kubesight  {got[:400]!r}"


def test_format_query_identical(peer: str, engine: Engine) -> None:
    """/api/v1/format_query prettifies every differential expression as Prometheus does."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from kubesight.api.query import routes

    ours = TestClient(Starlette(routes=routes(engine)))
    diffs = []
    with httpx.Client(base_url=peer, timeout=60) as prom:
        for expr in EXPRESSIONS:
            if expr in ERRORS_WORDED_AS_3X:
                continue
            want = prom.get("/api/v1/format_query", params={"query": expr}).content
            got = ours.get("/api/v1/format_query", params={"query": expr}).content
            if re.search(rb"\de[+-]\d", want):
                # Go prints number literals with %g (1.7e+09); promql-parser in
                # full. Listed in docs/promql.md.
                continue
            if got != want:
                diffs.append(f"{expr}:\n  prometheus {want!r}\n  kubesight  {got!r}")
    assert not diffs, f"{len(diffs)} differ:\n" + "\n".join(diffs[:20])
