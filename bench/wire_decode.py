"""CPU cost per sample of the remote write codecs, on node_exporter-shaped requests.

Run from the repository root::

    python -m bench.wire_decode [--requests 20] [--repeat 15]

Requests come from :mod:`bench.workload` (2000 series each, node_exporter's
label sets, 6-10 labels per series, one sample per series), so the figures
match what the ingest benchmark sends. Each figure is the best of ``--repeat``
passes over ``--requests`` requests, in CPU time of this thread (other work on
the machine barely moves it), divided by the number of samples.

Rows:

- ``decode v1 (warm cache)``: the steady state of a receiver: every series was
  seen in an earlier request, so its labels come from the label cache.
- ``decode v1 (cold cache)``: first sight of every series.
- ``decode v2 (warm cache)``: the same steady state for 2.0 (symbols are mapped
  to receiver-wide numbers first, as each request has its own table).
- ``decode v2 (no cache)``: every label tuple built from the symbols table.
- ``encode v1`` / ``encode v2``: uncompressed protobuf from a SampleBatch.
- ``snappy decompress``: the v1 body, block format, through cramjam.

``--kube-labels`` adds the target labels kube-prometheus attaches to every
node_exporter series (container, endpoint, namespace, pod, service): about 9
labels per series instead of 4.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cramjam

if __package__ in (None, ""):  # run as a script: make "bench" importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from google.protobuf.internal import api_implementation

from bench.workload import Workload, WorkloadSpec
from kubesight.model import SampleBatch
from kubesight.wire.remote_write import (
    LabelCache,
    decode_write_v1,
    decode_write_v2,
    decompress,
    encode_write_v1,
    encode_write_v2,
)


def best_cpu(fn: Callable[[], object], repeat: int) -> float:
    """Seconds of this thread's CPU time for the fastest of ``repeat`` calls."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.thread_time()
        fn()
        best = min(best, time.thread_time() - t0)
    return best


def with_kube_labels(batch: SampleBatch) -> SampleBatch:
    series = []
    for labels in batch.series:
        host = dict(labels)["instance"].split(":")[0]
        extra = (
            ("container", "node-exporter"),
            ("endpoint", "https"),
            ("namespace", "monitoring"),
            ("pod", f"node-exporter-{host}"),
            ("service", "node-exporter"),
        )
        series.append(tuple(sorted(labels + extra)))
    return SampleBatch(series, batch.series_ref, batch.timestamps, batch.values)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=20, help="requests per pass")
    ap.add_argument("--repeat", type=int, default=15, help="passes; the best one counts")
    ap.add_argument("--series-per-request", type=int, default=2000)
    ap.add_argument("--kube-labels", action="store_true", help="add kube-prometheus target labels")
    args = ap.parse_args(argv)

    spec = WorkloadSpec(instances=100, steps=2, series_per_request=args.series_per_request)
    wl = Workload(spec)
    per_step = wl.requests_per_step
    n = min(args.requests, per_step)
    reqs = list(wl.requests())
    first: list[SampleBatch] = [r.batch for r in reqs[:per_step]][:n]
    second: list[SampleBatch] = [r.batch for r in reqs[per_step:]][:n]
    if args.kube_labels:
        first = [with_kube_labels(b) for b in first]
        second = [with_kube_labels(b) for b in second]
    samples = sum(len(b) for b in second)
    v1_first = [encode_write_v1(b) for b in first]
    v1 = [encode_write_v1(b) for b in second]
    v2 = [encode_write_v2(b) for b in second]
    snappy = [bytes(cramjam.snappy.compress_raw(r)) for r in v1]
    labels = sum(len(s) for b in second for s in b.series) / sum(len(b.series) for b in second)

    warm = LabelCache()
    for raw in v1_first:
        decode_write_v1(raw, warm)

    def v1_warm() -> None:
        for raw in v1:
            decode_write_v1(raw, warm)

    def v1_cold() -> None:
        cold = LabelCache()
        for raw in v1:
            decode_write_v1(raw, cold)

    v2_first = [encode_write_v2(b) for b in first]
    warm2 = LabelCache()
    for raw in v2_first:
        decode_write_v2(raw, warm2)

    def v2_warm() -> None:
        for raw in v2:
            decode_write_v2(raw, warm2)

    def v2_nocache() -> None:
        for raw in v2:
            decode_write_v2(raw)

    def v1_encode() -> None:
        for b in second:
            encode_write_v1(b)

    def v2_encode() -> None:
        for b in second:
            encode_write_v2(b)

    def unsnappy() -> None:
        for body in snappy:
            decompress(body, "snappy", 64 << 20)

    print(
        f"protobuf backend: {api_implementation.Type()}; {n} requests x "
        f"{samples // n} samples, {labels:.1f} labels/series, "
        f"{sum(map(len, v1)) / samples:.0f} B/sample v1, {sum(map(len, v2)) / samples:.0f} B/sample v2, "
        f"{sum(map(len, snappy)) / samples:.0f} B/sample snappy"
    )
    rows = [
        ("decode v1 (warm cache)", v1_warm),
        ("decode v1 (cold cache)", v1_cold),
        ("decode v2 (warm cache)", v2_warm),
        ("decode v2 (no cache)", v2_nocache),
        ("encode v1", v1_encode),
        ("encode v2", v2_encode),
        ("snappy decompress (v1 body)", unsnappy),
    ]
    for name, fn in rows:
        us = best_cpu(fn, args.repeat) / samples * 1e6
        print(f"{name:30s} {us:7.3f} us/sample")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
