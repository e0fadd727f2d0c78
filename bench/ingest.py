"""Remote-write ingest benchmark: kubesight against Prometheus and VictoriaMetrics.

    python bench/ingest.py                      # 100 instances x 240 steps (~14.6M samples)
    python bench/ingest.py --quick              # 10 x 40, a smoke test (about a minute)
    python bench/ingest.py --servers prometheus,victoriametrics --markdown-out out.md

One run, one data set: the workload (bench/workload.py) is generated and every
request body encoded and snappy-compressed *before* any server starts, so the
same bytes go to every server and the client's encoding cost is not measured.
Servers run one after another, never side by side, so they do not share CPUs.

See bench/README.md for what each column means and how it is measured.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

if __package__ in (None, ""):
    # Run as a script (python bench/ingest.py): make `bench` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import (
    HOST,
    SERVERS,
    BenchError,
    Kubesight,
    Prometheus,
    Server,
    VictoriaMetrics,
    ensure_packages,
)
from bench.workload import STEP_MS, Workload, WorkloadSpec
from kubesight.model import SampleBatch

PEERS = ("prometheus", "victoriametrics")
QUICK = {"instances": 10, "steps": 40}
STEP_S = STEP_MS // 1000
# Senders may run ahead of the slowest one by this many steps. Each series always
# goes through the same sender (as in Prometheus' sharded queues), so per-series
# order holds anyway; the bound keeps the time front narrow, as live traffic is,
# without a barrier stall at every step.
MAX_LAG_STEPS = 2
REMOTE_WRITE_HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "kubesight-bench/0.1",
}


# --- encoding -------------------------------------------------------------------------------------

Encoder = Callable[[SampleBatch], bytes]


def load_encoder(wait_s: float = 0.0) -> Encoder:
    """kubesight's remote-write 1.0 encoder, waiting up to ``wait_s`` for it to appear.

    The benchmark never carries its own protobuf encoder: the bytes sent are
    the ones kubesight's wire layer produces, which is also what its agent sends.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            from kubesight.wire.remote_write import encode_write_v1
        except ImportError as exc:
            if time.monotonic() >= deadline:
                raise BenchError(
                    "kubesight.wire.remote_write.encode_write_v1 is not available "
                    f"({exc}); the benchmark needs it to encode requests"
                ) from exc
            time.sleep(30)
            continue
        return encode_write_v1


@dataclass
class Body:
    step: int
    index: int
    samples: int
    data: bytes  # snappy block of a prometheus.WriteRequest


def _encode_share(
    spec: WorkloadSpec, encode: Encoder, worker: int, workers: int, progress: bool
) -> tuple[list[Body], int]:
    """Encode every ``workers``-th request, starting at ``worker``.

    Each worker regenerates the whole workload (about a second) rather than
    receiving batches, because pickling 2,000 label sets per request would cost
    as much as encoding them.
    """
    import cramjam

    workload = Workload(spec)
    bodies: list[Body] = []
    raw_bytes = 0
    t0 = time.monotonic()
    every = max(1, spec.steps // 10)
    for seq, req in enumerate(workload.requests()):
        if progress and req.index == 0 and req.step % every == 0:
            print(
                f"  encoding: step {req.step}/{spec.steps} ({time.monotonic() - t0:.0f}s)",
                file=sys.stderr,
            )
        if seq % workers != worker:
            continue
        raw = encode(req.batch)
        raw_bytes += len(raw)
        data = bytes(cramjam.snappy.compress_raw(raw))
        bodies.append(Body(req.step, req.index, len(req.batch), data))
    return bodies, raw_bytes


def encode_workload(
    workload: Workload, encode: Encoder, jobs: int = 1, progress: bool = True
) -> list[Body]:
    """Every request body of the run, in time order, encoded and snappy-compressed."""
    t0 = time.monotonic()
    # Pin the end time so every worker generates the very same timestamps.
    spec = replace(workload.spec, end_ms=workload.end_ms)
    if jobs <= 1:
        shares = [_encode_share(spec, encode, 0, 1, progress)]
    else:
        # fork: the encoder may live in __main__ (tests, scratch runs) and must not be re-imported.
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
            futures = [
                pool.submit(_encode_share, spec, encode, w, jobs, progress and w == 0)
                for w in range(jobs)
            ]
            shares = [f.result() for f in futures]
    bodies = sorted((b for share, _ in shares for b in share), key=lambda b: (b.step, b.index))
    raw_bytes = sum(n for _, n in shares)
    wire = sum(len(b.data) for b in bodies)
    if progress:
        print(
            f"  encoded {len(bodies)} requests in {time.monotonic() - t0:.1f}s with {jobs} "
            f"process(es): {raw_bytes / 1e6:.0f} MB protobuf, {wire / 1e6:.0f} MB snappy",
            file=sys.stderr,
        )
    return bodies


# --- sending --------------------------------------------------------------------------------------


@dataclass
class SendResult:
    wall_s: float
    samples_ok: int
    requests_ok: int
    failures: list[str] = field(default_factory=list)
    client_cpu_s: float = 0.0


def send_all(port: int, path: str, bodies: Sequence[Body], senders: int) -> SendResult:
    """POST every body to ``HOST:port`` with ``senders`` keep-alive connections.

    Request ``index`` of every step goes to sender ``index % senders``: the
    requests of a step are split among the senders and a series always travels
    through the same one, so its samples arrive in time order.
    """
    queues: list[list[Body]] = [[] for _ in range(senders)]
    for b in bodies:
        queues[b.index % senders].append(b)
    done_step = [-1] * senders  # last step each sender finished
    cond = threading.Condition()
    go = threading.Event()
    lock = threading.Lock()
    result = SendResult(0.0, 0, 0)

    def run(me: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        ok_samples = ok_requests = 0
        current = -1
        go.wait()
        try:
            for b in queues[me]:
                if b.step != current:
                    with cond:
                        done_step[me] = current
                        cond.notify_all()
                        oldest_allowed = b.step - 1 - MAX_LAG_STEPS
                        while min(done_step) < oldest_allowed:
                            cond.wait()
                    current = b.step
                try:
                    conn.request("POST", path, body=b.data, headers=REMOTE_WRITE_HEADERS)
                    resp = conn.getresponse()
                    answer = resp.read()
                    status = resp.status
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()  # the next request reconnects
                    with lock:
                        result.failures.append(f"step {b.step} request {b.index}: {exc!r}")
                    continue
                if 200 <= status < 300:
                    ok_samples += b.samples
                    ok_requests += 1
                else:
                    with lock:
                        result.failures.append(
                            f"step {b.step} request {b.index}: HTTP {status} {answer[:300]!r}"
                        )
        finally:
            conn.close()
            with cond:
                done_step[me] = 1 << 62  # finished: never hold anyone back
                cond.notify_all()
            with lock:
                result.samples_ok += ok_samples
                result.requests_ok += ok_requests

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(senders)]
    for t in threads:
        t.start()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    go.set()
    for t in threads:
        t.join()
    result.wall_s = time.perf_counter() - t0
    result.client_cpu_s = time.process_time() - cpu0
    return result


# --- one server -----------------------------------------------------------------------------------


@dataclass
class Row:
    server: str
    version: str = ""
    samples_sent: int = 0
    samples_ok: int = 0
    requests: int = 0
    failed_requests: int = 0
    wall_s: float = 0.0
    samples_per_s: float = 0.0
    cpu_us_per_sample: float = 0.0
    cpu_flush_us_per_sample: float = 0.0  # send phase + flush: work a server defers counts too
    peak_rss_bytes: int = 0
    disk_bytes: int = 0
    disk_bytes_per_sample: float = 0.0
    disk_note: str = ""
    samples_stored: int | None = None  # None: the server has no query API to ask
    client_cpu_s: float = 0.0
    other_cpu_s: float = 0.0  # CPU used by neither the server nor the client during the send
    error: str = ""
    rounds: int = 1
    failures: list[str] = field(default_factory=list)

    @property
    def problem(self) -> str:
        if self.error:
            return self.error
        if self.failed_requests:
            return f"{self.failed_requests} failed requests"
        if self.samples_stored is not None and self.samples_stored != self.samples_ok:
            return f"stores {self.samples_stored:,} of {self.samples_ok:,} acknowledged samples"
        return ""

    @property
    def ok(self) -> bool:
        return not self.problem


def bench_server(server: Server, bodies: Sequence[Body], senders: int, workload: Workload) -> Row:
    row = Row(server.name, disk_note=server.disk_note)
    row.samples_sent = sum(b.samples for b in bodies)
    row.requests = len(bodies)
    print(f"== {server.name}: starting (data in {server.data_dir})", file=sys.stderr)
    server.start()
    with contextlib.suppress(Exception):  # version is decoration
        row.version = server.version()
    # Let start-up work (WAL replay, cache warm-up, GC of the start) finish
    # so it is not billed to ingestion.
    time.sleep(2.0)
    busy0 = machine_busy_seconds()
    cpu0 = server.cpu_seconds()
    print(
        f"== {server.name}: sending {len(bodies)} requests with {senders} senders", file=sys.stderr
    )
    sent = send_all(server.port, server.write_path, bodies, senders)
    cpu1 = server.cpu_seconds()
    busy1 = machine_busy_seconds()
    # Whatever else ran on the machine meanwhile (other jobs, services) competed
    # with the server; the report says how much, so a skewed run is visible.
    row.other_cpu_s = max(0.0, (busy1 - busy0) - (cpu1 - cpu0) - sent.client_cpu_s)
    capacity = sent.wall_s * (os.cpu_count() or 1)
    if capacity and row.other_cpu_s > 0.1 * capacity:
        shout(
            f"{server.name}: other processes used {row.other_cpu_s:.1f} CPU-s "
            f"({100 * row.other_cpu_s / capacity:.0f}% of the machine) during the send phase; "
            "this run's figures are skewed"
        )
    m = server.measure_after_flush()
    row.samples_ok = sent.samples_ok
    row.failed_requests = len(bodies) - sent.requests_ok
    row.failures = sent.failures
    row.wall_s = sent.wall_s
    row.client_cpu_s = sent.client_cpu_s
    row.samples_per_s = sent.samples_ok / sent.wall_s if sent.wall_s else 0.0
    row.cpu_us_per_sample = (cpu1 - cpu0) * 1e6 / sent.samples_ok if sent.samples_ok else 0.0
    row.cpu_flush_us_per_sample = (
        (m.cpu_s - cpu0) * 1e6 / sent.samples_ok if sent.samples_ok else 0.0
    )
    row.peak_rss_bytes = m.peak_rss
    row.disk_bytes = m.disk
    row.disk_bytes_per_sample = m.disk / sent.samples_ok if sent.samples_ok else 0.0
    if row.failed_requests:
        shout(
            f"{server.name}: {row.failed_requests} of {len(bodies)} requests FAILED", sent.failures
        )
    # After every measurement: the query must not be billed to ingestion.
    # The window reaches from before the first step to past the last sample
    # (which sits up to one step of per-instance offset after the last step).
    at_s = workload.end_ms / 1000 + 30
    range_s = workload.spec.steps * STEP_S + 60
    names = sorted({d.name for d in workload.catalog})
    row.samples_stored = server.count_samples(names, at_s, range_s)
    if row.samples_stored is not None and row.samples_stored != row.samples_ok:
        shout(
            f"{server.name}: acknowledged {row.samples_ok:,} samples but stores "
            f"{row.samples_stored:,}"
        )
    print(
        f"== {server.name}: {row.samples_per_s:,.0f} samples/s, "
        f"{row.cpu_us_per_sample:.2f} CPU us/sample, {row.disk_bytes_per_sample:.2f} B/sample",
        file=sys.stderr,
    )
    return row


MEDIAN_FIELDS = (
    "wall_s",
    "samples_per_s",
    "cpu_us_per_sample",
    "cpu_flush_us_per_sample",
    "peak_rss_bytes",
    "disk_bytes",
    "disk_bytes_per_sample",
    "client_cpu_s",
    "other_cpu_s",
)


def median_row(rounds: Sequence[Row]) -> Row:
    """One row from several rounds: each figure's median; any failure of any round kept."""
    errored = [r for r in rounds if r.error]
    if errored:
        return errored[0]
    by_speed = sorted(rounds, key=lambda r: r.samples_per_s)
    row = replace(by_speed[len(by_speed) // 2], rounds=len(rounds))
    for f in MEDIAN_FIELDS:
        value = statistics.median(getattr(r, f) for r in rounds)
        setattr(row, f, type(getattr(row, f))(value))
    row.failed_requests = sum(r.failed_requests for r in rounds)
    row.failures = [f for r in rounds for f in r.failures]
    for r in rounds:
        if r.samples_stored is not None and r.samples_stored != r.samples_ok:
            row.samples_ok, row.samples_stored = r.samples_ok, r.samples_stored
    return row


def shout(headline: str, details: Sequence[str] = ()) -> None:
    bar = "!" * 78
    print(f"\n{bar}\n!!! {headline}", file=sys.stderr)
    for d in details[:10]:
        print(f"!!!   {d}", file=sys.stderr)
    if len(details) > 10:
        print(f"!!!   ... and {len(details) - 10} more", file=sys.stderr)
    print(bar + "\n", file=sys.stderr)


# --- report ---------------------------------------------------------------------------------------


def machine_busy_seconds() -> float:
    """CPU-seconds all CPUs have spent not idle since boot (first line of /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    # user nice system idle iowait irq softirq steal (guest is already in user)
    v = [int(x) for x in fields[:8]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


def machine_info() -> dict[str, str]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        mem = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip("\n")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def _ratio(value: float, peer: Row | None, attr: str) -> str:
    if peer is None or peer.error or not getattr(peer, attr) or not value:
        return "-"
    return f"{value / getattr(peer, attr):.2f}x"


def render_table(rows: Sequence[Row]) -> str:
    peers = {r.server: r for r in rows if r.server in PEERS and not r.error}
    prom, vm = peers.get("prometheus"), peers.get("victoriametrics")
    head = [
        "server",
        "samples ok",
        "stored",
        "failed req",
        "samples/s",
        "÷Prom",
        "÷VM",
        "CPU µs/sample",
        "÷Prom",
        "÷VM",
        "+flush µs/sample",
        "÷Prom",
        "÷VM",
        "peak RSS MiB",
        "÷Prom",
        "÷VM",
        "disk B/sample",
        "÷Prom",
        "÷VM",
        "disk measured",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if r.error:
            short = r.error.split(";")[0]
            lines.append(f"| {r.server} | " + " | ".join(["-"] * 18) + f" | not run: {short} |")
            continue
        failed = f"**{r.failed_requests}**" if r.failed_requests else "0"
        if r.samples_stored is None:
            stored = "n/a"
        elif r.samples_stored == r.samples_ok:
            stored = "all"
        else:
            stored = f"**{r.samples_stored:,}**"
        cells = [r.server, f"{r.samples_ok:,}", stored, failed]
        for attr, fmt in (
            ("samples_per_s", "{:,.0f}"),
            ("cpu_us_per_sample", "{:.2f}"),
            ("cpu_flush_us_per_sample", "{:.2f}"),
            ("peak_rss_bytes", "MiB"),
            ("disk_bytes_per_sample", "{:.2f}"),
        ):
            v = float(getattr(r, attr))
            cells.append(f"{v / 2**20:,.0f}" if fmt == "MiB" else fmt.format(v))
            cells += [_ratio(v, prom, attr), _ratio(v, vm, attr)]
        cells.append(r.disk_note)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_report(
    rows: Sequence[Row],
    workload: Workload,
    args: argparse.Namespace,
    machine: dict[str, str],
    wire_bytes: int,
) -> str:
    spec = workload.spec
    versions = ", ".join(f"{r.server} {r.version}".strip() for r in rows if r.version)
    out = [
        f"Ingest benchmark, {machine['date']}: {spec.instances} instances x {spec.steps} steps x "
        f"{workload.series_per_instance} series = {workload.num_samples:,} samples in "
        f"{workload.requests_per_step * spec.steps:,} remote-write 1.0 requests of "
        f"<= {spec.series_per_request} series ({wire_bytes / 1e6:.0f} MB snappy), "
        f"{args.senders} senders, seed {spec.seed}."
        + (
            f" Each figure is the median of {args.repeat} interleaved rounds."
            if args.repeat > 1
            else ""
        ),
        "",
        f"Machine: `nproc` = {machine['nproc']}, CPU: {machine['cpu'] or '?'}, "
        f"Linux {machine['kernel']}, Python {machine['python']}. "
        f"Versions: {versions or 'n/a'}.",
        "",
        "```",
        "$ free -h",
        machine["memory"] or "(free not available)",
        "```",
        "",
        render_table(rows),
        "",
        "÷Prom / ÷VM: this server's figure divided by the peer's. samples/s: higher is better; "
        "CPU, RSS, disk: lower is better. CPU is the server's utime+stime over the send phase; "
        "+flush also counts the flush and the wait for background merges, so deferred work is billed.",
    ]
    timed = [r for r in rows if not r.error]
    if timed:
        # The client shares the machine: say how much CPU it took, so a reader
        # can tell whether a fast server was limited by the sender.
        out += [
            "",
            "Send phase (wall), and the CPU used in it by the benchmark client and by "
            "other processes on the machine: "
            + "; ".join(
                f"{r.server} {r.wall_s:.1f} s wall, client {r.client_cpu_s:.1f} s, "
                f"other {r.other_cpu_s:.1f} s"
                for r in timed
            )
            + ".",
        ]
    failed = [r for r in rows if not r.ok]
    if failed:
        out += ["", "**FAILURES:** " + "; ".join(f"{r.server}: {r.problem}" for r in failed)]
    return "\n".join(out) + "\n"


# --- main -----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/ingest.py",
        description="Remote-write ingest: kubesight vs Prometheus vs VictoriaMetrics, same data.",
    )
    p.add_argument("--instances", type=int, default=None, help="node_exporter instances (100)")
    p.add_argument("--steps", type=int, default=None, help="15 s steps per series (240 = 1 h)")
    p.add_argument("--senders", type=int, default=4, help="concurrent remote-write connections")
    p.add_argument("--series-per-request", type=int, default=2000)
    p.add_argument("--seed", type=int, default=WorkloadSpec.seed)
    p.add_argument(
        "--servers",
        default="prometheus,victoriametrics,kubesight",
        help="comma-separated, run in this order (default: all three)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke-test preset: {QUICK['instances']} instances x {QUICK['steps']} steps",
    )
    p.add_argument("--markdown-out", type=Path, help="also write the report to this file")
    p.add_argument("--json-out", type=Path, help="write the rows as JSON (for tests and CI)")
    p.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes encoding the requests before the timed phase",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run every server N times, interleaved, and report each figure's median",
    )
    p.add_argument("--keep-data", action="store_true", help="keep the servers' data directories")
    p.add_argument(
        "--wait-encoder",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for kubesight's remote-write encoder to exist",
    )
    args = p.parse_args(argv)
    preset = QUICK if args.quick else {"instances": 100, "steps": 240}
    args.instances = args.instances or preset["instances"]
    args.steps = args.steps or preset["steps"]
    args.server_names = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = [s for s in args.server_names if s not in SERVERS]
    if unknown:
        p.error(f"unknown server(s) {', '.join(unknown)}; choose from {', '.join(SERVERS)}")
    return args


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM (CI cancelling a job) takes the same path as Ctrl-C: the finally
    # blocks stop the servers and remove their data.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)

    workload = Workload(
        WorkloadSpec(
            instances=args.instances,
            steps=args.steps,
            series_per_request=args.series_per_request,
            seed=args.seed,
        )
    )
    print(
        f"bench: {workload.num_samples:,} samples, {workload.num_series:,} series, "
        f"{workload.requests_per_step * args.steps:,} requests",
        file=sys.stderr,
    )

    binaries = {
        c.binary: c.binary for c in (Prometheus, VictoriaMetrics) if c.name in args.server_names
    }
    ensure_packages(binaries)
    kubesight_error = ""
    if "kubesight" in args.server_names:
        ok, why = Kubesight.runnable()
        if not ok:
            kubesight_error = f"kubesight server is not runnable: {why}"
            shout(kubesight_error)

    bodies = encode_workload(workload, load_encoder(args.wait_encoder), jobs=args.jobs)
    wire_bytes = sum(len(b.data) for b in bodies)

    workdir = Path(tempfile.mkdtemp(prefix="kubesight-bench-"))
    runs: dict[str, list[Row]] = {name: [] for name in args.server_names}
    try:
        # Rounds interleave the servers (P, VM, K, P, VM, K...) so that load
        # from elsewhere on the machine spreads over all of them alike.
        for rnd in range(args.repeat):
            for name in args.server_names:
                if name == "kubesight" and kubesight_error:
                    runs[name].append(Row(name, error=kubesight_error))
                    continue
                if any(r.error for r in runs[name]):
                    continue  # it failed to start once; it will again
                server = SERVERS[name](workdir / f"round-{rnd}")
                try:
                    runs[name].append(bench_server(server, bodies, args.senders, workload))
                except BenchError as exc:
                    shout(f"{name}: {exc}")
                    runs[name].append(Row(name, error=str(exc).splitlines()[0]))
                finally:
                    server.stop()
                    if not args.keep_data:
                        shutil.rmtree(server.workdir, ignore_errors=True)
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep_data:
            print(f"bench: data kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    rows = [median_row(runs[name]) for name in args.server_names]

    report = render_report(rows, workload, args, machine_info(), wire_bytes)
    print(report)
    if args.markdown_out:
        args.markdown_out.write_text(report)
    if args.json_out:
        args.json_out.write_text(
            json.dumps(
                {
                    "workload": asdict(workload.spec) | {"samples": workload.num_samples},
                    "rows": [asdict(r) for r in rows],
                },
                indent=2,
            )
        )
    bad = [r for r in rows if not r.ok]
    if bad:
        shout("some servers failed: " + ", ".join(r.server for r in bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
