"""Deterministic synthetic data for the differential test against Prometheus.

Sample timestamps sit 1.234 s off the 15 s grid so that no evaluation
instant, window bound or subquery step lands on a sample: there Prometheus
2.x's closed windows and 3.x's left-open ones would legitimately differ.
"""

from __future__ import annotations

import math
import random

from kubesight.model import SampleBatch, labels_from_dict

T0_MS = 1_750_000_000_000  # 2025-06-15, a fixed base so runs are reproducible
SCRAPE_MS = 15_000
OFFSET_MS = 1_234
N_STEPS = 241  # one hour of 15 s scrapes

Series = list[tuple[dict[str, str], list[tuple[int, float]]]]


def _ts(k: int) -> int:
    return T0_MS + OFFSET_MS + k * SCRAPE_MS


def generate(seed: int = 42) -> Series:
    rnd = random.Random(seed)
    out: Series = []

    def add(labels: dict[str, str], values: list[float | None]) -> None:
        out.append((labels, [(_ts(k), v) for k, v in enumerate(values) if v is not None]))

    instances = ["10.0.0.1:9100", "10.0.0.2:9100", "10.0.0.3:9100"]
    for ii, inst in enumerate(instances):
        for code in ("200", "500"):
            for method in ("get", "post"):
                v = rnd.uniform(0, 1000)
                vals: list[float | None] = []
                for _k in range(N_STEPS):
                    v += rnd.uniform(0, 50 if code == "200" else 5)
                    vals.append(round(v, 3))
                if ii == 1 and code == "200" and method == "get":
                    # a counter reset half-way
                    vals = [x if k < 120 else round(x - vals[119] + rnd.uniform(0, 3), 3)  # type: ignore[operator]
                            for k, x in enumerate(vals)]
                if ii == 2 and code == "500" and method == "post":
                    # a 10-minute scrape gap
                    vals = [None if 100 <= k < 140 else x for k, x in enumerate(vals)]
                add({"__name__": "http_requests_total", "job": "api", "instance": inst,
                     "code": code, "method": method}, vals)
        for cpu in ("0", "1"):
            for mode in ("idle", "user", "system"):
                v = 0.0
                vals = []
                for _k in range(N_STEPS):
                    v += rnd.uniform(0, 15 if mode == "idle" else 3)
                    vals.append(round(v, 4))
                add({"__name__": "node_cpu_seconds_total", "job": "node", "instance": inst,
                     "cpu": cpu, "mode": mode}, vals)
        mem = rnd.uniform(1e9, 4e9)
        vals = []
        for _k in range(N_STEPS):
            mem += rnd.uniform(-5e7, 5e7)
            vals.append(round(mem))
        add({"__name__": "node_memory_MemAvailable_bytes", "job": "node", "instance": inst}, vals)
        add({"__name__": "node_memory_MemTotal_bytes", "job": "node", "instance": inst},
            [8e9] * N_STEPS)
        temp = rnd.uniform(-10, 30)
        vals = []
        for _k in range(N_STEPS):
            temp += rnd.uniform(-1, 1)
            vals.append(round(temp, 2))
        add({"__name__": "temperature_celsius", "instance": inst, "room": f"r{ii % 2}"}, vals)
        add({"__name__": "up", "job": "node", "instance": inst},
            [0.0 if (ii == 2 and 200 <= k < 210) else 1.0 for k in range(N_STEPS)])
        add({"__name__": "build_info", "instance": inst, "version": f"1.{ii}.0"}, [1.0] * N_STEPS)
        # classic histogram: cumulative bucket counters
        bounds = ["0.1", "0.5", "1", "5", "+Inf"]
        counts = [0.0] * len(bounds)
        bucket_vals: list[list[float | None]] = [[] for _ in bounds]
        sum_vals: list[float | None] = []
        total = 0.0
        for _k in range(N_STEPS):
            for _ in range(rnd.randint(0, 20)):
                x = rnd.expovariate(1.5)
                total += x
                for bi, b in enumerate(bounds):
                    if b == "+Inf" or x <= float(b):
                        counts[bi] += 1
            for bi in range(len(bounds)):
                bucket_vals[bi].append(counts[bi])
            sum_vals.append(round(total, 4))
        for bi, b in enumerate(bounds):
            add({"__name__": "request_duration_seconds_bucket", "job": "api", "instance": inst,
                 "le": b}, bucket_vals[bi])
        add({"__name__": "request_duration_seconds_count", "job": "api", "instance": inst},
            bucket_vals[-1])
        add({"__name__": "request_duration_seconds_sum", "job": "api", "instance": inst}, sum_vals)
        # sparse: one sample every 2 minutes
        add({"__name__": "sparse_gauge", "instance": inst},
            [float(rnd.randint(0, 100)) if k % 8 == 0 else None for k in range(N_STEPS)])
        # short-lived: exists from 30 to 40 minutes only
        add({"__name__": "short_lived", "instance": inst},
            [float(k) if 120 <= k < 160 else None for k in range(N_STEPS)])
    # special values
    add({"__name__": "special_values", "kind": "nan"},
        [math.nan if k % 10 == 3 else float(k) for k in range(N_STEPS)])
    add({"__name__": "special_values", "kind": "inf"},
        [math.inf if k % 17 == 5 else float(-k) for k in range(N_STEPS)])
    add({"__name__": "special_values", "kind": "neg"}, [-1.5 * k for k in range(N_STEPS)])
    return out


def to_batch(series: Series) -> SampleBatch:
    return SampleBatch.from_series([(labels_from_dict(lb), s) for lb, s in series])


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def to_openmetrics(series: Series) -> str:
    """OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics``."""
    by_name: dict[str, list[tuple[dict[str, str], list[tuple[int, float]]]]] = {}
    for lb, s in series:
        by_name.setdefault(lb["__name__"], []).append((lb, s))
    lines: list[str] = []
    for name, items in by_name.items():
        for lb, samples in items:
            inner = ",".join(f'{k}="{v}"' for k, v in sorted(lb.items()) if k != "__name__")
            for t, v in samples:
                lines.append(f"{name}{{{inner}}} {_fmt(v)} {t / 1000:.3f}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
