"""How fast the series index resolves matchers over 100k series.

Builds node_exporter-shaped label sets (the ingest benchmark's catalog) for N
instances and times SeriesIndex.select for typical dashboard selectors.
Prometheus' own index does the same job; this prints absolute times, which
the issue states as a target ("milliseconds over 100k series").

    python bench/index.py --instances 200
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.workload import Workload, WorkloadSpec
from kubesight.model import Matcher
from kubesight.model.labels import validate_labels
from kubesight.store.index import SeriesIndex

SELECTORS: dict[str, list[tuple[str, str, str]]] = {
    'node_cpu_seconds_total{mode="idle"}': [("__name__", "=", "node_cpu_seconds_total"), ("mode", "=", "idle")],
    'node_cpu_seconds_total{mode!="idle"}': [("__name__", "=", "node_cpu_seconds_total"), ("mode", "!=", "idle")],
    '{__name__=~"node_network_.*"}': [("__name__", "=~", "node_network_.*")],
    '{__name__=~"node_.*", instance="host-007:9100"}': [("__name__", "=~", "node_.*"), ("instance", "=", "host-007:9100")],
    'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay", mountpoint!=""}': [
        ("__name__", "=", "node_filesystem_avail_bytes"), ("fstype", "!~", "tmpfs|overlay"), ("mountpoint", "!=", "")],
    '{instance=~"host-0[0-4].*"}': [("instance", "=~", "host-0[0-4].*")],
    '{job="node"} (every series)': [("job", "=", "node")],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    wl = Workload(WorkloadSpec(instances=args.instances, steps=1))
    idx = SeriesIndex()
    t0 = time.perf_counter()
    for lbls in wl.series:
        idx.add(validate_labels(lbls))
    build = time.perf_counter() - t0
    print(f"{len(idx):,} series indexed in {build:.2f} s ({1e6 * build / len(idx):.1f} us/series)\n")
    print("| selector | series matched | median ms | first call ms |")
    print("|---|---|---|---|")
    for name, spec in SELECTORS.items():
        ms = [Matcher.of(*m) for m in spec]
        idx._arrays.clear()  # the first call builds postings arrays; later ones reuse them
        t0 = time.perf_counter()
        n = len(idx.select(ms))
        first = time.perf_counter() - t0
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            idx.select(ms)
            times.append(time.perf_counter() - t0)
        shown = name.replace("|", "\\|")  # a bare | would split the markdown cell
        print(f"| `{shown}` | {n:,} | {1000 * statistics.median(times):.2f} | {1000 * first:.2f} |")


if __name__ == "__main__":
    main()
