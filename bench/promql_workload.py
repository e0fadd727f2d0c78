"""PromQL range queries on the ingest workload: kubesight vs Prometheus vs VictoriaMetrics.

    python bench/promql.py                  # the 14.6M-sample ingest workload, 5 rounds (~12 min)
    python bench/promql.py --quick          # 4 instances, a smoke test (~1 min)
    python bench/promql.py --repeat 9 --markdown-out /tmp/promql.md

The data is the ingest benchmark's (bench/workload.py, encoded by
bench/ingest.py's ``encode_workload``) plus one small histogram family, sent by
remote write into all three servers, which then run side by side. Each query
of the dashboard-style set is a range query over the last 50 minutes at a 15 s
step; every server answers it once untimed (warm-up, and kubesight's answer is
checked against Prometheus'), then ``--repeat`` timed rounds interleave the
servers. See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
import orjson

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import (
    Body,
    Encoder,
    encode_workload,
    load_encoder,
    machine_busy_seconds,
    machine_info,
    send_all,
    shout,
)
from bench.promql import QUERIES  # the dashboard-style set of issue 3, one definition
from bench.servers import (
    HOST,
    SERVERS,
    BenchError,
    Kubesight,
    Prometheus,
    Server,
    VictoriaMetrics,
    cpu_seconds,
    ensure_packages,
    process_tree,
)
from bench.workload import STEP_MS, Workload, WorkloadSpec
from kubesight.model import Labels, SampleBatch

RANGE_MS = 50 * 60_000  # the window: the last 50 minutes...
QUERY_STEP_MS = 15_000  # ...at a 15 s step
QUICK = {"instances": 4, "steps": 240}
SENDERS = 4
# The histogram family the node_exporter workload lacks, for histogram_quantile.
HIST_NAME = "http_request_duration_seconds"
HIST_BUCKETS = (
    "0.005",
    "0.01",
    "0.025",
    "0.05",
    "0.1",
    "0.25",
    "0.5",
    "1",
    "2.5",
    "5",
    "10",
    "+Inf",
)
REL_TOL = 1e-9

# --- data -----------------------------------------------------------------------------------------


def histogram_batches(workload: Workload, seed: int) -> Iterator[tuple[int, SampleBatch]]:
    """Per step, one batch of classic histogram buckets (+ ``_count``) per instance.

    Cumulative integer counts, each bucket at least the one below it, so
    ``histogram_quantile`` needs no monotonicity fix-up and every store holds
    exact values. Own scrape phases per instance, like the workload's.
    """
    spec = workload.spec
    rng = np.random.default_rng(seed + 1)
    n, nb = spec.instances, len(HIST_BUCKETS)
    series: list[Labels] = []
    for i in range(n):
        inst = f"host-{i:03d}:9100"
        for le in HIST_BUCKETS:
            series.append(
                (
                    ("__name__", f"{HIST_NAME}_bucket"),
                    ("instance", inst),
                    ("job", "app"),
                    ("le", le),
                )
            )
        series.append((("__name__", f"{HIST_NAME}_count"), ("instance", inst), ("job", "app")))
    per_instance = nb + 1
    counts = np.zeros((n, nb), np.int64)
    offsets = rng.integers(0, STEP_MS, n)
    refs = np.arange(len(series), dtype=np.int32)
    for step in range(spec.steps):
        # Observations per bucket this step; cumsum makes buckets cumulative in le.
        counts += np.cumsum(rng.integers(0, 40, (n, nb)), axis=1)
        values = np.concatenate([counts, counts[:, -1:]], axis=1).reshape(-1).astype(np.float64)
        ts = workload.start_ms + step * STEP_MS + offsets + rng.integers(0, 5, n)
        yield step, SampleBatch(series, refs, np.repeat(ts, per_instance).astype(np.int64), values)


def histogram_bodies(workload: Workload, encode: Encoder, first_index: int) -> list[Body]:
    import cramjam

    out = []
    for step, batch in histogram_batches(workload, workload.spec.seed):
        data = bytes(cramjam.snappy.compress_raw(encode(batch)))
        out.append(Body(step, first_index, len(batch), data))
    return out


def sample_residues(workload: Workload) -> set[int]:
    """Every sample timestamp modulo the 15 s step (workload and histogram)."""
    seen: set[int] = set()
    for ts, _values in workload.steps():
        seen.update((ts % QUERY_STEP_MS).tolist())
    for _step, batch in histogram_batches(workload, workload.spec.seed):
        seen.update((batch.timestamps % QUERY_STEP_MS).tolist())
    return seen


def pick_phase(taken: set[int]) -> int:
    """An evaluation phase (ms past a 15 s boundary) as far as possible from any sample.

    Every range here (5m, 10m, 30m, the 1m subquery step) is a multiple of 15 s,
    so evaluation times and window starts all share this phase: no sample ever
    sits on a window boundary, where Prometheus 2.42 (closed windows) and 3.x
    (left-open, which kubesight follows) would legitimately differ. The subquery's
    inner steps sit at multiples of 1 m (phase 0); a sample there is reported.
    """
    best, best_gap = 7_500, -1
    occupied = sorted(taken)
    for cand in range(1, QUERY_STEP_MS):
        gap = min(
            (min(abs(cand - t), QUERY_STEP_MS - abs(cand - t)) for t in occupied),
            default=QUERY_STEP_MS,
        )
        if gap > best_gap:
            best, best_gap = cand, gap
    return best


# --- querying ---------------------------------------------------------------------------------------


class QueryClient:
    """One keep-alive connection to a server's Prometheus query API."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.conn = http.client.HTTPConnection(HOST, server.port, timeout=600)
        # VictoriaMetrics caches range-query results between calls; timing the
        # cache would compare a lookup with an evaluation.
        self.extra = {"nocache": "1"} if server.name == "victoriametrics" else {}

    def query_range(
        self, query: str, start_ms: int, end_ms: int, step_ms: int, stats: bool = False
    ) -> tuple[float, bytes, int]:
        """(seconds from request to the last byte, body, HTTP status)."""
        params = {
            "query": query,
            "start": f"{start_ms / 1000:.3f}",
            "end": f"{end_ms / 1000:.3f}",
            "step": f"{step_ms / 1000:g}",
            **self.extra,
        }
        if stats:
            params["stats"] = "all"
        body = urllib.parse.urlencode(params)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for attempt in (1, 2):
            t0 = time.perf_counter()
            try:
                self.conn.request("POST", "/api/v1/query_range", body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # The server closed the idle keep-alive connection (uvicorn does
                # after 5 s, less than a slow query of another server takes):
                # reconnect and time the request again from the start.
                self.conn.close()
                if attempt == 2:
                    raise
                continue
            except (OSError, http.client.HTTPException):
                self.conn.close()  # reconnect on the next call
                raise
            return time.perf_counter() - t0, data, resp.status
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


Matrix = dict[Labels, list[tuple[float, str]]]


def parse_matrix(body: bytes) -> Matrix:
    doc = orjson.loads(body)
    if doc.get("status") != "success":
        raise ValueError(f"{doc.get('errorType')}: {doc.get('error')}")
    data = doc["data"]
    if data["resultType"] != "matrix":
        raise ValueError(f"resultType {data['resultType']}, not matrix")
    out: Matrix = {}
    for s in data["result"]:
        key = tuple(sorted(s["metric"].items()))
        if key in out:
            raise ValueError(f"duplicate series {dict(key)}")
        out[key] = [(float(t), v) for t, v in s.get("values", [])]
    return out


def _same_value(a: str, b: str) -> bool:
    if a == b:
        return True
    fa, fb = float(a), float(b)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb)
    return math.isclose(fa, fb, rel_tol=REL_TOL, abs_tol=0.0)


def compare(got: Matrix, want: Matrix, limit: int = 3) -> list[str]:
    """Why ``got`` is not ``want`` (empty when they agree): series, timestamps, values."""
    problems: list[str] = []
    if len(got) != len(want):
        problems.append(f"{len(got)} series, Prometheus {len(want)}")
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want]
    problems += [f"missing series {dict(k)}" for k in missing[:limit]]
    problems += [f"extra series {dict(k)}" for k in extra[:limit]]
    bad = 0
    for key, points in want.items():
        mine = got.get(key)
        if mine is None:
            continue
        if [t for t, _ in mine] != [t for t, _ in points]:
            bad += 1
            if bad <= limit:
                problems.append(
                    f"{dict(key)}: {len(mine)} points, Prometheus {len(points)} "
                    "(or different timestamps)"
                )
            continue
        for (t, v), (_, w) in zip(mine, points, strict=True):
            if not _same_value(v, w):
                bad += 1
                if bad <= limit:
                    problems.append(f"{dict(key)} at {t}: {v}, Prometheus {w}")
                break
    if bad > limit:
        problems.append(f"... {bad} series differ in all")
    return problems


# --- measuring memory -------------------------------------------------------------------------------


def _status_kib(pid: int, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def rss_bytes(pid: int) -> int:
    return sum(_status_kib(p, "VmRSS:") for p in process_tree(pid)) * 1024


def hwm_bytes(pid: int) -> int:
    return sum(_status_kib(p, "VmHWM:") for p in process_tree(pid)) * 1024


def reset_hwm(pid: int) -> bool:
    """Reset the peak-RSS mark (``VmHWM``) of ``pid``'s tree; see proc(5), clear_refs."""
    ok = True
    for p in process_tree(pid):
        try:
            Path(f"/proc/{p}/clear_refs").write_text("5")
        except OSError:
            ok = False
    return ok


# --- the run ----------------------------------------------------------------------------------------


@dataclass
class Timing:
    server: str
    median_ms: float = 0.0
    runs_ms: list[float] = field(default_factory=list)
    cpu_ms: float = 0.0  # server CPU per run (median)
    series: int = 0
    error: str = ""


@dataclass
class QueryRow:
    name: str
    query: str
    timings: dict[str, Timing] = field(default_factory=dict)
    samples_touched: int | None = None  # Prometheus' totalQueryableSamples
    check: str = ""  # "" = kubesight agrees with Prometheus; else why not
    checked: bool = False
    rss_growth_bytes: int | None = None  # kubesight: peak RSS during the query - RSS before
    other_cpu_s: float = 0.0

    def ratio(self, peer: str) -> float | None:
        k, p = self.timings.get("kubesight"), self.timings.get(peer)
        if not k or not p or k.error or p.error or not p.median_ms:
            return None
        return k.median_ms / p.median_ms


def geomean(xs: Sequence[float]) -> float:
    return float(np.exp(np.mean(np.log(xs)))) if xs else float("nan")


def run_query(
    row: QueryRow,
    clients: Mapping[str, QueryClient],
    start_ms: int,
    end_ms: int,
    repeat: int,
) -> None:
    q = row.query
    answers: dict[str, Matrix] = {}
    # Warm-up, untimed: the answers checked are the ones of the warm-up run.
    for name, client in clients.items():
        t = row.timings[name] = Timing(name)
        try:
            _s, body, status = client.query_range(q, start_ms, end_ms, QUERY_STEP_MS)
            if status != 200:
                raise ValueError(f"HTTP {status}: {body[:300]!r}")
            answers[name] = parse_matrix(body)
            t.series = len(answers[name])
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as exc:
            t.error = str(exc)[:300]
    if "prometheus" in clients and not row.timings["prometheus"].error:
        with contextlib.suppress(Exception):  # stats are decoration
            _s, body, _status = clients["prometheus"].query_range(
                q, start_ms, end_ms, QUERY_STEP_MS, stats=True
            )
            row.samples_touched = int(
                orjson.loads(body)["data"]["stats"]["samples"]["totalQueryableSamples"]
            )
    if "kubesight" in answers and "prometheus" in answers:
        row.checked = True
        row.check = "; ".join(compare(answers["kubesight"], answers["prometheus"]))
    elif "kubesight" in clients and "prometheus" in clients:
        row.checked = True
        row.check = "no answer: " + "; ".join(
            f"{n}: {t.error}" for n, t in row.timings.items() if t.error
        )
    del answers
    names = [n for n in clients if not row.timings[n].error]
    cpu: dict[str, list[float]] = {n: [] for n in names}
    growth: list[int] = []
    busy0 = machine_busy_seconds()
    servers_cpu = client_cpu = 0.0
    for rnd in range(repeat):
        # Rotate the order every round so no server always runs right after another.
        order = names[rnd % len(names) :] + names[: rnd % len(names)] if names else []
        for name in order:
            client = clients[name]
            pid = client.server.pid
            is_k = name == "kubesight"
            if is_k:
                reset_hwm(pid)
                rss0 = rss_bytes(pid)
            c0, p0 = cpu_seconds(pid), time.process_time()
            try:
                secs, body, status = client.query_range(q, start_ms, end_ms, QUERY_STEP_MS)
            except (OSError, http.client.HTTPException) as exc:
                row.timings[name].error = f"round {rnd}: {exc!r}"
                continue
            client_cpu += time.process_time() - p0
            c1 = cpu_seconds(pid)
            servers_cpu += c1 - c0
            if is_k:
                growth.append(max(0, hwm_bytes(pid) - rss0))
            if status != 200:
                row.timings[name].error = f"round {rnd}: HTTP {status}"
                continue
            row.timings[name].runs_ms.append(secs * 1000)
            cpu[name].append((c1 - c0) * 1000)
    row.other_cpu_s = max(0.0, machine_busy_seconds() - busy0 - servers_cpu - client_cpu)
    for name in names:
        t = row.timings[name]
        if t.runs_ms and not t.error:
            t.median_ms = statistics.median(t.runs_ms)
            t.cpu_ms = statistics.median(cpu[name])
    if growth:
        row.rss_growth_bytes = int(statistics.median(growth))


def wait_idle(servers: Sequence[Server], quiet_s: float = 5.0, limit_s: float = 180.0) -> None:
    """Wait until the servers together use under 5% of a core for ``quiet_s``.

    Background merges (VictoriaMetrics' parts, kubesight's compaction) would
    otherwise run during the first queries and be billed to them.
    """
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        c0 = sum(s.cpu_seconds() for s in servers)
        time.sleep(quiet_s)
        if sum(s.cpu_seconds() for s in servers) - c0 < 0.05 * quiet_s:
            return


def load_server(server: Server, bodies: Sequence[Body]) -> dict[str, Any]:
    print(f"== {server.name}: starting (data in {server.data_dir})", file=sys.stderr)
    server.start()
    version = ""
    with contextlib.suppress(Exception):  # decoration; read now, before the tree moves on
        version = server.version()
    time.sleep(1.0)
    sent = send_all(server.port, server.write_path, bodies, SENDERS)
    if sent.failures:
        shout(f"{server.name}: {len(sent.failures)} requests FAILED", sent.failures)
        raise BenchError(f"{server.name}: {len(sent.failures)} remote-write requests failed")
    server.flush()
    print(
        f"== {server.name}: {sent.samples_ok:,} samples in {sent.wall_s:.1f}s, flushed",
        file=sys.stderr,
    )
    return {"samples": sent.samples_ok, "load_s": round(sent.wall_s, 1), "version": version}


# --- report -----------------------------------------------------------------------------------------


def _ms(t: Timing | None) -> str:
    if t is None:
        return "-"
    if t.error:
        return "error"
    return f"{t.median_ms:,.1f}"


def _x(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}x"


def render_table(rows: Sequence[QueryRow], servers: Sequence[str]) -> str:
    head = ["query"]
    head += [f"{s} ms" for s in servers]
    if "kubesight" in servers:
        head += [
            f"÷{p[:4].capitalize() if p == 'prometheus' else 'VM'}"
            for p in servers
            if p != "kubesight"
        ]
    head += [
        "series",
        "samples touched",
        "kubesight RSS growth MiB",
        "matches Prometheus",
        "other CPU s",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [f"`{r.name}`"]
        cells += [_ms(r.timings.get(s)) for s in servers]
        if "kubesight" in servers:
            for p in servers:
                if p == "kubesight":
                    continue
                ratio = r.ratio(p)
                bold = p == "prometheus" and ratio is not None and ratio > 1.5
                cells.append(f"**{_x(ratio)}**" if bold else _x(ratio))
        series = {s: r.timings[s].series for s in servers if s in r.timings}
        cells.append(" / ".join(str(series.get(s, "-")) for s in servers))
        cells.append("-" if r.samples_touched is None else f"{r.samples_touched:,}")
        cells.append("-" if r.rss_growth_bytes is None else f"{r.rss_growth_bytes / 2**20:,.1f}")
        if not r.checked:
            cells.append("not checked")
        else:
            cells.append("yes" if not r.check else f"**NO**: {r.check[:200]}")
        cells.append(f"{r.other_cpu_s:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    geo = ["geometric mean"]
    for s in servers:
        ms = [r.timings[s].median_ms for r in rows if s in r.timings and r.timings[s].median_ms]
        geo.append(f"{geomean(ms):,.1f}" if len(ms) == len(rows) else "-")
    if "kubesight" in servers:
        for p in servers:
            if p == "kubesight":
                continue
            ratios = [r.ratio(p) for r in rows]
            ok = [x for x in ratios if x is not None]
            geo.append(f"**{geomean(ok):.2f}x**" if len(ok) == len(rows) else "-")
    geo += [""] * (len(head) - len(geo))
    lines.append("| " + " | ".join(geo) + " |")
    return "\n".join(lines)


def render_cpu_table(rows: Sequence[QueryRow], servers: Sequence[str]) -> str:
    head = ["query", *(f"{s} CPU ms" for s in servers)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [f"`{r.name}`"]
        for s in servers:
            t = r.timings.get(s)
            cells.append("-" if t is None or t.error else f"{t.cpu_ms:,.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(rows: Sequence[QueryRow]) -> list[str]:
    out = []
    ratios = [r.ratio("prometheus") for r in rows]
    if all(x is not None for x in ratios):
        worst = max(rows, key=lambda r: r.ratio("prometheus") or 0.0)
        geo = geomean([x for x in ratios if x is not None])
        met = all((x or 0.0) <= 1.5 for x in ratios) and geo < 1.0
        out.append(
            f"Target (every query within 1.5x of Prometheus, geometric mean below 1): "
            f"{'MET' if met else 'NOT MET'} — geometric mean {geo:.2f}x, worst "
            f"`{worst.name}` {worst.ratio('prometheus'):.2f}x."
        )
    vm = [r.ratio("victoriametrics") for r in rows]
    if all(x is not None for x in vm):
        out.append(
            f"Against VictoriaMetrics: geometric mean {geomean([x for x in vm if x is not None]):.2f}x; "
            f"faster on {sum(1 for x in vm if x is not None and x < 1)} of {len(vm)} queries."
        )
    return out


def render_report(
    rows: Sequence[QueryRow],
    servers: Sequence[str],
    info: Mapping[str, Any],
    machine: Mapping[str, str],
) -> str:
    out = [
        f"PromQL benchmark, {machine['date']}: {info['workload_samples']:,} workload samples + "
        f"{info['histogram_samples']:,} histogram samples ({info['series']:,} series, "
        f"{info['instances']} instances x {info['steps']} steps of 15 s); range queries over the "
        f"last 50 minutes at a 15 s step ({info['points']} steps), evaluation phase "
        f"{info['phase_ms']} ms past a 15 s boundary; median of {info['repeat']} interleaved runs "
        "after one warm-up run per server.",
        "",
        f"Machine: `nproc` = {machine['nproc']}, CPU: {machine['cpu'] or '?'}, "
        f"Linux {machine['kernel']}, Python {machine['python']}. "
        f"Versions: {info['versions'] or 'n/a'}.",
        "",
        "```",
        "$ free -h",
        machine["memory"] or "(free not available)",
        "```",
        "",
        render_table(rows, servers),
        "",
        "ms: median wall time of one query_range request (sent to the last byte received, "
        "JSON included). ÷Prom / ÷VM: kubesight's median divided by the peer's (lower is "
        "better; bold: over the 1.5x target). series: answered by each server (the warm-up "
        "run). samples touched: Prometheus' `totalQueryableSamples`. kubesight RSS growth: "
        "median over the runs of (peak RSS during the request - RSS before it), peak reset "
        "through /proc/PID/clear_refs. other CPU s: CPU used by processes other than the "
        "servers and the harness during the query's timed runs.",
        "",
        f"kubesight RSS after loading: {info.get('kubesight_rss_mib', '-')} MiB; at the end: "
        f"{info.get('kubesight_rss_end_mib', '-')} MiB. Load (remote write, 4 senders): "
        + "; ".join(f"{s} {v['load_s']} s" for s, v in info.get("loads", {}).items())
        + ".",
        "",
        "Server CPU per query (median of the timed runs; above the wall time means "
        "more than one core worked):",
        "",
        render_cpu_table(rows, servers),
        "",
        *verdict(rows),
    ]
    wrong = [r for r in rows if r.check]
    if wrong:
        out += ["", "**WRONG ANSWERS:** " + "; ".join(f"{r.name}: {r.check}" for r in wrong)]
    return "\n".join(out) + "\n"


# --- main -------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/promql.py",
        description="PromQL range queries on the ingest workload: kubesight vs Prometheus vs "
        "VictoriaMetrics (see --synthetic for the in-process engine benchmark).",
    )
    p.add_argument("--instances", type=int, default=None, help="node_exporter instances (100)")
    p.add_argument("--steps", type=int, default=None, help="15 s steps per series (240 = 1 h)")
    p.add_argument("--seed", type=int, default=WorkloadSpec.seed)
    p.add_argument("--repeat", type=int, default=5, help="timed runs per query and server")
    p.add_argument(
        "--servers",
        default="prometheus,victoriametrics,kubesight",
        help="comma-separated; answers are checked against prometheus when it is one of them",
    )
    p.add_argument("--queries", default="", help="comma-separated query names (default: all)")
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke-test preset: {QUICK['instances']} instances x {QUICK['steps']} steps, 2 runs",
    )
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--markdown-out", type=Path)
    p.add_argument("--json-out", type=Path)
    p.add_argument("--keep-data", action="store_true")
    args = p.parse_args(argv)
    preset = QUICK if args.quick else {"instances": 100, "steps": 240}
    args.instances = args.instances or preset["instances"]
    args.steps = args.steps or preset["steps"]
    if args.quick and "--repeat" not in (argv if argv is not None else sys.argv):
        args.repeat = 2
    args.server_names = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = [s for s in args.server_names if s not in SERVERS]
    if unknown:
        p.error(f"unknown server(s) {', '.join(unknown)}; choose from {', '.join(SERVERS)}")
    names = [q.strip() for q in args.queries.split(",") if q.strip()]
    bad = [q for q in names if q not in QUERIES]
    if bad:
        p.error(f"unknown query name(s) {', '.join(bad)}; choose from {', '.join(QUERIES)}")
    args.query_names = names or list(QUERIES)
    return args


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    workload = Workload(WorkloadSpec(instances=args.instances, steps=args.steps, seed=args.seed))
    # Pin the end so the workers encoding requests and the histogram agree on time.
    workload = Workload(replace(workload.spec, end_ms=workload.end_ms))
    ensure_packages(
        {c.binary: c.binary for c in (Prometheus, VictoriaMetrics) if c.name in args.server_names}
    )
    if "kubesight" in args.server_names:
        ok, why = Kubesight.runnable()
        if not ok:
            raise SystemExit(f"kubesight server is not runnable: {why}")

    encode = load_encoder()
    bodies = encode_workload(workload, encode, jobs=args.jobs)
    hist = histogram_bodies(workload, encode, first_index=workload.requests_per_step)
    bodies = sorted([*bodies, *hist], key=lambda b: (b.step, b.index))
    phase = pick_phase(sample_residues(workload))
    end_ms = workload.end_ms + phase
    start_ms = end_ms - RANGE_MS
    hist_samples = sum(b.samples for b in hist)
    info: dict[str, Any] = {
        "workload_samples": workload.num_samples,
        "histogram_samples": hist_samples,
        "series": workload.num_series + hist_samples // max(args.steps, 1),
        "instances": args.instances,
        "steps": args.steps,
        "points": RANGE_MS // QUERY_STEP_MS + 1,
        "phase_ms": phase,
        "repeat": args.repeat,
        "start_ms": start_ms,
        "end_ms": end_ms,
        "loads": {},
    }
    print(
        f"bench: {workload.num_samples:,} + {hist_samples:,} samples; queries from {start_ms} "
        f"to {end_ms} ms (phase {phase} ms)",
        file=sys.stderr,
    )

    workdir = Path(tempfile.mkdtemp(prefix="kubesight-bench-promql-"))
    servers: list[Server] = []
    clients: dict[str, QueryClient] = {}
    rows: list[QueryRow] = []
    try:
        for name in args.server_names:
            server = SERVERS[name](workdir)
            servers.append(server)
            info["loads"][name] = load_server(server, bodies)
        del bodies, hist
        print("== waiting for the servers to go idle", file=sys.stderr)
        wait_idle(servers)
        for s in servers:
            clients[s.name] = QueryClient(s)
        info["versions"] = ", ".join(
            f"{name} {load['version']}".strip() for name, load in info["loads"].items()
        )
        kube = next((s for s in servers if s.name == "kubesight"), None)
        if kube is not None:
            info["kubesight_rss_mib"] = round(rss_bytes(kube.pid) / 2**20)
        for qname in args.query_names:
            row = QueryRow(qname, QUERIES[qname])
            run_query(row, clients, start_ms, end_ms, args.repeat)
            rows.append(row)
            print(
                f"  {qname:<20} "
                + "  ".join(f"{n} {_ms(t)} ms" for n, t in row.timings.items())
                + (f"  MISMATCH: {row.check}" if row.check else ""),
                file=sys.stderr,
            )
        if kube is not None:
            info["kubesight_rss_end_mib"] = round(rss_bytes(kube.pid) / 2**20)
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped", file=sys.stderr)
        return 130
    except BenchError as exc:
        shout(str(exc).splitlines()[0], str(exc).splitlines()[1:])
        return 1
    finally:
        for c in clients.values():
            c.close()
        for s in servers:
            s.stop()
        if args.keep_data:
            print(f"bench: data kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    report = render_report(rows, args.server_names, info, machine_info())
    print(report)
    if args.markdown_out:
        args.markdown_out.write_text(report)
    if args.json_out:
        args.json_out.write_text(
            json.dumps({"info": info, "rows": [asdict(r) for r in rows]}, indent=2)
        )
    failed = [r for r in rows if r.check or any(t.error for t in r.timings.values())]
    if failed:
        shout("queries failed or disagree with Prometheus: " + ", ".join(r.name for r in failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
