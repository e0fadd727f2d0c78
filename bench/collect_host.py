"""Host collector benchmark: CPU of one kubesight host collection vs one node_exporter scrape.

    python bench/collect_host.py                 # 3 rounds x 200 scrapes/collections (~1 min)
    python bench/collect_host.py --quick         # 1 round x 20: a smoke test
    python bench/collect_host.py --markdown-out /tmp/host.md --json-out /tmp/host.json

Debian's ``prometheus-node-exporter`` runs twice on 127.0.0.1: with its
default collectors (what a DaemonSet runs), and restricted to the collectors
kubesight has (``--collector.disable-defaults`` plus one ``--collector.X``
each), so the comparison is like for like. Its CPU per scrape is the delta of
its own ``process_cpu_seconds_total`` over N scrapes (the scrape that reads
the last value included, so N+1 scrapes), divided by N+1; the harness'
``/proc/<pid>/stat`` reading is shown beside it as a check. kubesight's CPU
per collection is ``time.process_time()`` over N calls of
``HostCollector.collect()`` in this process (nothing else runs in it), and
again with ``encode()`` of the result, which is what serving ``/metrics``
would add. Rounds alternate node_exporter and kubesight; figures are medians.

The target (issue #5): one kubesight collection costs less CPU than one
node_exporter scrape. The exit code is 1 when it does not, or when a peer
could not start.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script (python bench/collect_host.py): make `bench` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import HOST, BenchError, cpu_seconds, debian_version, ensure_packages, free_port
from kubesight.collect.family import encode
from kubesight.collect.host import COLLECTORS, HostCollector

BINARY = "prometheus-node-exporter"


@contextmanager
def node_exporter(flags: list[str], log: Path) -> Iterator[tuple[int, http.client.HTTPConnection]]:
    """A node_exporter on a free port; yields (pid, a keep-alive connection to it)."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([BINARY, f"--web.listen-address={HOST}:{port}", *flags],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise BenchError(f"node_exporter exited: {log.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                scrape(conn)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError("node_exporter did not answer within 30 s") from None
                time.sleep(0.1)
        yield proc.pid, conn
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def scrape(conn: http.client.HTTPConnection) -> bytes:
    conn.request("GET", "/metrics")
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        raise BenchError(f"node_exporter answered {resp.status}")
    return body


def own_cpu(body: bytes) -> float:
    for line in body.split(b"\n"):
        if line.startswith(b"process_cpu_seconds_total "):
            return float(line.split()[1])
    raise BenchError("node_exporter exposes no process_cpu_seconds_total")


def series_count(body: bytes) -> int:
    return sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))


def measure_node_exporter(pid: int, conn: http.client.HTTPConnection, n: int) -> dict[str, float]:
    first = scrape(conn)
    proc0 = cpu_seconds(pid)
    for _ in range(n - 1):
        scrape(conn)
    last = scrape(conn)  # its process_cpu_seconds_total was read during this scrape
    proc1 = cpu_seconds(pid)
    return {
        "ms_own": (own_cpu(last) - own_cpu(first)) / n * 1000,
        "ms_proc": (proc1 - proc0) / n * 1000,
        "series": series_count(last),
    }


def measure_kubesight(collector: HostCollector, n: int) -> dict[str, float]:
    t0 = time.process_time()
    for _ in range(n):
        fams = collector.collect()
    t1 = time.process_time()
    for _ in range(n):
        body = encode(collector.collect())
    t2 = time.process_time()
    return {"ms_collect": (t1 - t0) / n * 1000, "ms_collect_encode": (t2 - t1) / n * 1000,
            "series": sum(len(f.samples) for f in fams), "bytes": len(body)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scrapes", type=int, default=200, help="scrapes and collections per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 round of 20: a smoke test")
    ap.add_argument("--markdown-out", type=Path)
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    if args.quick:
        args.scrapes, args.rounds = 20, 1
    try:
        ensure_packages({BINARY: BINARY})
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1

    collector = HostCollector()
    for _ in range(5):  # warm-up: first reads, regex filters filled
        collector.collect()
    failed = dict(collector.errors)
    configs = {
        "node_exporter (default collectors)": [],
        "node_exporter (kubesight's collectors)": ["--collector.disable-defaults",
                                                   *(f"--collector.{c}" for c in COLLECTORS)],
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in configs}
    results["kubesight HostCollector"] = []
    with tempfile.TemporaryDirectory(prefix="bench-host-") as tmp:
        try:
            for r in range(args.rounds):
                for name, flags in configs.items():
                    with node_exporter(flags, Path(tmp) / f"ne{r}.log") as (pid, conn):
                        for _ in range(5):
                            scrape(conn)  # warm-up
                        results[name].append(measure_node_exporter(pid, conn, args.scrapes))
                results["kubesight HostCollector"].append(measure_kubesight(collector, args.scrapes))
                print(f"bench: round {r + 1}/{args.rounds} done", file=sys.stderr)
        except BenchError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1

    def med(name: str, key: str) -> float:
        return statistics.median(x[key] for x in results[name])

    ours = med("kubesight HostCollector", "ms_collect")
    rows: list[dict[str, float | str]] = []
    for name in configs:
        rows.append({"what": name, "cpu_ms": med(name, "ms_own"), "cpu_ms_proc": med(name, "ms_proc"),
                     "series": med(name, "series")})
    rows.append({"what": "kubesight HostCollector.collect()", "cpu_ms": ours, "cpu_ms_proc": ours,
                 "series": med("kubesight HostCollector", "series")})
    rows.append({"what": "kubesight collect() + encode()", "cpu_ms": med("kubesight HostCollector", "ms_collect_encode"),
                 "cpu_ms_proc": med("kubesight HostCollector", "ms_collect_encode"),
                 "series": med("kubesight HostCollector", "series")})
    default_ne = float(rows[0]["cpu_ms"])
    lines = [
        f"node_exporter {debian_version(BINARY) or '?'} (Debian), {args.rounds} rounds x {args.scrapes} "
        f"scrapes/collections, medians; CPU per scrape or collection.",
        "",
        "| what | CPU ms (own counter) | CPU ms (/proc) | series | vs node_exporter default |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row['what']} | {row['cpu_ms']:.2f} | {row['cpu_ms_proc']:.2f} | {row['series']:.0f} | "
                     f"{float(row['cpu_ms']) / default_ne:.2f}x |")
    if failed:
        lines += ["", "Collectors that failed on this host: " + "; ".join(f"{k}: {v}" for k, v in failed.items())]
    report = "\n".join(lines)
    print(report)
    if args.markdown_out:
        args.markdown_out.write_text(report + "\n")
    if args.json_out:
        args.json_out.write_text(json.dumps({"rows": rows, "rounds": results}, indent=1))
    ok = ours < default_ne
    print(f"target (one collection < one node_exporter scrape): {'met' if ok else 'NOT met'} "
          f"({ours:.2f} ms vs {default_ne:.2f} ms)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
