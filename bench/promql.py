"""PromQL benchmarks.

    python bench/promql.py [--quick] [--repeat N] ...      # the ingest workload, three servers
    python bench/promql.py --synthetic [--instances 100]    # the in-process engine benchmark

By default (bench/promql_workload.py) the ingest benchmark's 14.6M-sample
workload goes by remote write into kubesight, Prometheus and VictoriaMetrics and
the query set below runs against all three over HTTP, answers checked against
Prometheus'. See bench/README.md.

``--synthetic``: the engine alone on a synthetic 100-instance
node_exporter-like dataset (3.78M samples). The data is built directly as one CSR :class:`SeriesData` behind a small
in-process querier (matcher results cached, time slicing vectorised), so the
figures are the engine's: the time spent in ``select`` is measured and shown
separately, because MemoryStore's pure-Python select would dominate and the
embedded store returns the same SeriesData.

The query set is the dashboard-style one of issue 3, as range queries over the
last 50 minutes at a 15 s step.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import orjson

from kubesight.api.query import encode_result
from kubesight.model import (
    Labels,
    Matcher,
    MetricMetadata,
    SampleBatch,
    SeriesData,
    labels_from_dict,
)
from kubesight.promql import Engine
from kubesight.store.engine import Storage, StorageOptions

SCRAPE_MS = 15_000
HOURS = 1.5

QUERIES = {
    "rate by label": 'sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))',
    "irate by label": "sum by (mode) (irate(node_cpu_seconds_total[5m]))",
    "ratio": "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
    "topk": "topk(5, rate(node_network_receive_bytes_total[5m]))",
    "histogram_quantile": (
        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"
    ),
    "count by __name__": 'count by (__name__) ({__name__=~"node_.*"})',
    "avg_over_time": "avg_over_time(node_memory_MemAvailable_bytes[10m])",
    "predict_linear": "predict_linear(node_filesystem_free_bytes[30m], 3600)",
    "subquery": "max_over_time(rate(node_network_receive_bytes_total[5m])[30m:1m])",
    "cpu utilisation": ('1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))'),
}


class ArrayQuerier:
    """A read-only Querier over one CSR array set; matcher results are cached."""

    def __init__(self, data: SeriesData) -> None:
        self.data = data
        self._cache: dict[tuple[Matcher, ...], np.ndarray] = {}

    def _match(self, matchers: Sequence[Matcher]) -> np.ndarray:
        key = tuple(matchers)
        hit = self._cache.get(key)
        if hit is None:
            hit = np.asarray(
                [
                    i
                    for i, lb in enumerate(self.data.labels)
                    if all(m.matches_labels(lb) for m in matchers)
                ],
                np.int64,
            )
            self._cache[key] = hit
        return hit

    def _bound(self, idx: np.ndarray, t: int) -> np.ndarray:
        # Composite keys (series * width + time) are globally sorted: one
        # searchsorted answers every selected series.
        if not hasattr(self, "_keys"):
            d = self.data
            self._tmin = int(d.timestamps.min()) - 1
            self._width = int(d.timestamps.max()) - self._tmin + 2
            seg = np.repeat(np.arange(len(d), dtype=np.int64), np.diff(d.offsets))
            self._keys = seg * self._width + (d.timestamps - self._tmin)
        q = idx * self._width + min(max(t - self._tmin, 0), self._width - 1)
        return np.searchsorted(self._keys, q, side="right").astype(np.int64)

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> SeriesData:
        idx = self._match(matchers)
        d = self.data
        lo = self._bound(idx, start_ms - 1)
        hi = self._bound(idx, end_ms)
        cnt = hi - lo
        keep = cnt > 0
        idx, lo, cnt = idx[keep], lo[keep], cnt[keep]
        new_offs = np.zeros(len(idx) + 1, np.int64)
        np.cumsum(cnt, out=new_offs[1:])
        flat = np.arange(int(new_offs[-1]), dtype=np.int64) - np.repeat(new_offs[:-1] - lo, cnt)
        return SeriesData(
            [d.labels[i] for i in idx.tolist()], new_offs, d.timestamps[flat], d.values[flat]
        )

    def series(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[Labels]:
        return [self.data.labels[i] for i in self._match(matchers).tolist()]

    def label_names(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        return []

    def label_values(
        self, name: str, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        return []

    def metadata(self, metric: str = "", limit: int = 0) -> dict[str, list[MetricMetadata]]:
        return {}


def build(instances: int, end_ms: int, seed: int = 1) -> SeriesData:
    rnd = np.random.default_rng(seed)
    n = int(HOURS * 3600_000 / SCRAPE_MS)
    ts = end_ms - SCRAPE_MS * np.arange(n, dtype=np.int64)[::-1]
    labels: list[Labels] = []
    cols: list[np.ndarray] = []

    def counter(lb: dict[str, str], rate: float) -> None:
        labels.append(labels_from_dict(lb))
        cols.append(np.cumsum(rnd.uniform(0, 2 * rate * SCRAPE_MS / 1000, n)))

    def gauge(lb: dict[str, str], base: float, spread: float) -> None:
        labels.append(labels_from_dict(lb))
        cols.append(base + np.cumsum(rnd.normal(0, spread, n)))

    for i in range(instances):
        inst = f"10.0.{i // 250}.{i % 250}:9100"
        common = {"job": "node", "instance": inst}
        for cpu in range(8):
            for mode in ("idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice"):
                counter(
                    {"__name__": "node_cpu_seconds_total", **common, "cpu": str(cpu), "mode": mode},
                    0.8 if mode == "idle" else 0.05,
                )
        for m in (
            "MemAvailable",
            "MemFree",
            "Cached",
            "Buffers",
            "SwapFree",
            "Active",
            "Inactive",
            "Dirty",
        ):
            gauge({"__name__": f"node_memory_{m}_bytes", **common}, 4e9, 1e6)
        gauge({"__name__": "node_memory_MemTotal_bytes", **common}, 16e9, 0)
        for dev in ("eth0", "eth1", "lo"):
            for d in ("receive", "transmit"):
                counter({"__name__": f"node_network_{d}_bytes_total", **common, "device": dev}, 1e6)
                counter(
                    {"__name__": f"node_network_{d}_packets_total", **common, "device": dev}, 1e3
                )
        for mp in ("/", "/var", "/home"):
            gauge({"__name__": "node_filesystem_free_bytes", **common, "mountpoint": mp}, 1e11, 1e6)
            gauge({"__name__": "node_filesystem_size_bytes", **common, "mountpoint": mp}, 5e11, 0)
            gauge(
                {"__name__": "node_filesystem_avail_bytes", **common, "mountpoint": mp}, 9e10, 1e6
            )
        total = np.zeros(n)
        for le in ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"):
            total = total + np.cumsum(rnd.uniform(0, 3, n))
            labels.append(
                labels_from_dict(
                    {
                        "__name__": "http_request_duration_seconds_bucket",
                        "job": "app",
                        "instance": inst,
                        "le": le,
                    }
                )
            )
            cols.append(total.copy())
        labels.append(
            labels_from_dict(
                {"__name__": "http_request_duration_seconds_count", "job": "app", "instance": inst}
            )
        )
        cols.append(total.copy())
    order = sorted(range(len(labels)), key=lambda k: labels[k])
    offs = np.arange(len(labels) + 1, dtype=np.int64) * n
    values = np.concatenate([cols[k] for k in order])
    return SeriesData([labels[k] for k in order], offs, np.tile(ts, len(labels)), values)


def write_openmetrics(data: SeriesData, path: Path) -> None:
    """The dataset as OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics``."""
    with path.open("w") as f:
        for i, lb in enumerate(data.labels):
            name = dict(lb)["__name__"]
            inner = ",".join(f'{k}="{v}"' for k, v in lb if k != "__name__")
            prefix = f"{name}{{{inner}}} "
            ts, vs = data.samples(i)
            f.writelines(
                f"{prefix}{v!r} {t / 1000:.3f}\n"
                for t, v in zip(ts.tolist(), vs.tolist(), strict=True)
            )
        f.write("# EOF\n")


class PrometheusPeer:
    """Debian's Prometheus on 127.0.0.1 with the same data, stopped on exit."""

    def __init__(self, data: SeriesData) -> None:
        import httpx

        prom = shutil.which("prometheus") or "/usr/bin/prometheus"
        tool = shutil.which("promtool") or "/usr/bin/promtool"
        self.dir = Path(tempfile.mkdtemp(prefix="bench-promql-"))
        om = self.dir / "data.om"
        t = time.perf_counter()
        write_openmetrics(data, om)
        subprocess.run(
            [
                tool,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "-q",
                str(om),
                str(self.dir / "tsdb"),
            ],
            check=True,
            capture_output=True,
        )
        om.unlink()
        print(f"prometheus: data imported with promtool in {time.perf_counter() - t:.0f}s")
        (self.dir / "prometheus.yml").write_text("global: {}\n")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.proc = subprocess.Popen(
            [
                prom,
                f"--config.file={self.dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.dir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=100y",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
        deadline = time.monotonic() + 120
        while True:
            try:
                if self.client.get("/-/ready").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("Prometheus did not start")
            time.sleep(0.2)

    def query_range(self, q: str, start: int, end: int, step: int) -> float:
        t = time.perf_counter()
        r = self.client.get(
            "/api/v1/query_range",
            params={"query": q, "start": start / 1000, "end": end / 1000, "step": step / 1000},
        )
        r.raise_for_status()
        return time.perf_counter() - t

    def close(self) -> None:
        self.client.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def main_synthetic(argv: Sequence[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench/promql.py --synthetic", description=__doc__)
    ap.add_argument("--instances", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--store",
        choices=["arrays", "embedded"],
        default="arrays",
        help="query an in-process array querier, or kubesight's embedded store "
        "(data appended, then flushed to blocks)",
    )
    ap.add_argument(
        "--prometheus",
        action="store_true",
        help="also time Debian's Prometheus on the same data (HTTP, median)",
    )
    args = ap.parse_args(argv)
    end = 1_750_000_000_000
    t0 = time.perf_counter()
    data = build(args.instances, end)
    print(
        f"dataset: {len(data)} series, {data.num_samples:,} samples "
        f"({args.instances} instances, built in {time.perf_counter() - t0:.1f}s)"
    )
    querier: ArrayQuerier | Storage
    tmp: Path | None = None
    if args.store == "embedded":
        tmp = Path(tempfile.mkdtemp(prefix="bench-promql-store-"))
        # The clock sits just after the data so retention and the future-sample
        # guard see it as fresh.
        querier = Storage(
            tmp, StorageOptions(retention_ms=10 * 365 * 86_400_000), clock=lambda: end / 1000 + 60
        )
        querier.open()
        t = time.perf_counter()
        refs = np.repeat(np.arange(len(data), dtype=np.int32), np.diff(data.offsets))
        order = np.argsort(data.timestamps, kind="stable")  # scrape order: by time
        querier.append(
            SampleBatch(list(data.labels), refs[order], data.timestamps[order], data.values[order])
        )
        querier.flush()
        print(f"embedded store: appended and flushed in {time.perf_counter() - t:.1f}s")
    else:
        querier = ArrayQuerier(data)
    engine = Engine(querier)
    peer = PrometheusPeer(data) if args.prometheus else None
    start = end - 50 * 60_000
    print(
        f"range queries: last 50m at 15s step ({(end - start) // 15_000 + 1} steps), "
        f"median of {args.repeat}\n"
    )
    head = f"{'query':<20}{'select ms':>10}{'engine ms':>10}{'json ms':>9}{'total ms':>10}{'series':>7}"
    if peer:
        head += f"{'prom ms':>9}{'ratio':>7}"
    print(head)
    totals_all: list[float] = []
    ratios: list[float] = []
    try:
        for name, q in QUERIES.items():
            engine.range(q, start, end, 15_000)  # warm caches (matchers, pages)
            runs: list[tuple[float, float, float]] = []
            res = None
            for _ in range(args.repeat):
                t = time.perf_counter()
                res = engine.range(q, start, end, 15_000)
                t1 = time.perf_counter()
                data_json, _w = encode_result(res.value)
                orjson.dumps({"status": "success", "data": data_json})
                runs.append((t1 - t, res.stats.select_time, time.perf_counter() - t1))
            assert res is not None
            runs.sort(key=lambda r: r[0] + r[2])
            tot, sel, js = (x * 1000 for x in runs[len(runs) // 2])
            total = tot + js
            totals_all.append(total)
            line = (
                f"{name:<20}{sel:>10.1f}{tot - sel:>10.1f}{js:>9.1f}{total:>10.1f}"
                f"{len(getattr(res.value, 'labels', [()])):>7}"
            )
            if peer:
                peer.query_range(q, start, end, 15_000)
                pt = (
                    statistics.median(
                        peer.query_range(q, start, end, 15_000) for _ in range(args.repeat)
                    )
                    * 1000
                )
                ratios.append(total / pt)
                line += f"{pt:>9.1f}{total / pt:>7.2f}"
            print(line)
    finally:
        if peer:
            peer.close()
        if isinstance(querier, Storage):
            querier.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    geo = float(np.exp(np.mean(np.log(totals_all))))
    print(f"\ngeometric mean of kubesight's total (select + engine + JSON): {geo:.1f} ms")
    if ratios:
        print(
            f"geometric mean ratio kubesight / Prometheus: {float(np.exp(np.mean(np.log(ratios)))):.2f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--synthetic" in args:
        args.remove("--synthetic")
        main_synthetic(args)
        return 0
    if __package__ in (None, ""):
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.promql_workload import main as main_workload

    return main_workload(args)


if __name__ == "__main__":
    sys.exit(main())
