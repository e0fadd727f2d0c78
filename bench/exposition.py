"""CPU cost per line of the exposition parsers (text 0.0.4 and OpenMetrics).

Run from the repository root::

    python -m bench.exposition [--repeat 30]

Bodies:

- ``node_exporter capture``: one real response of Debian's node_exporter
  (``tests/wire/testdata/node_exporter.prom``, and its OpenMetrics form
  ``node_exporter.om``). Captured in a container, so few devices: about half of
  its lines are comments.
- ``node_exporter-shaped``: one host of :mod:`bench.workload` (609 series with
  node_exporter's names and labels, 8 CPUs, 6 disks...), written with
  ``encode_text`` with HELP and TYPE per family, about 20 % comment lines. The
  warm rows parse the *next* step's body, so values differ from the body that
  filled the cache, as between two real scrapes.
- ``shaped, timestamped``: the same with an explicit timestamp on every sample
  line, as cAdvisor (the kubelet's ``/metrics/cadvisor``) writes them.

Rows: ``warm`` is the steady state of a scrape loop (the target's
:class:`~kubesight.wire.exposition.ExpositionCache` already holds every series
text, and the last body's shape, so only values are read); ``loop`` is a warm
cache without that shape, as for a target whose lines change from scrape to
scrape (each line is looked up); ``cold`` uses a new cache per parse (first
scrape of a target). Each
figure is the best of ``--repeat`` passes in CPU time of this thread, divided
by the body's lines and by its sample lines. ``encode_text`` is per sample.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make "bench" importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.workload import Workload, WorkloadSpec
from kubesight.model import MetricMetadata
from kubesight.wire.exposition import (
    EncodeSample,
    ExpositionCache,
    Format,
    encode_text,
    parse,
)

TESTDATA = Path(__file__).resolve().parent.parent / "tests" / "wire" / "testdata"


def best_cpu(fn: Callable[[], object], repeat: int) -> float:
    """Seconds of this thread's CPU time for the fastest of ``repeat`` calls."""
    for _ in range(5):  # warm up: allocator arenas, caches, CPU frequency
        fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.thread_time()
        fn()
        best = min(best, time.thread_time() - t0)
    return best


def shaped_families(step: int) -> list[tuple[MetricMetadata, list[EncodeSample]]]:
    """One host of the workload at ``step``, grouped into families as node_exporter writes them."""
    wl = Workload(WorkloadSpec(instances=1, steps=2, end_ms=1_700_000_000_000))
    _, values = list(wl.steps())[step]
    families: dict[str, tuple[MetricMetadata, list[EncodeSample]]] = {}
    for d, labels, v in zip(wl.catalog, wl.series, values.tolist(), strict=True):
        fam = families.get(d.name)
        if fam is None:
            typ = "counter" if d.name.endswith("_total") else "gauge"
            md = MetricMetadata(d.name, typ, f"node_exporter metric {d.name}.", "")
            fam = families[d.name] = (md, [])
        target = tuple((k, x) for k, x in labels if k not in ("instance", "job"))
        fam[1].append((target, float(v), None))
    return list(families.values())


def to_openmetrics(text: bytes) -> bytes:
    """Text 0.0.4 of a Go exporter as its OpenMetrics form (see tests/wire/testdata/README.md)."""
    counters = {line.split()[2] for line in text.decode().split("\n") if line.endswith(" counter")}
    out = []
    for line in text.decode().split("\n"):
        if line.startswith(("# HELP ", "# TYPE ")):
            kw, name, rest = line[2:6], line.split(" ")[2], line.split(" ", 3)[3:]
            if name in counters and name.endswith("_total"):
                name = name[: -len("_total")]
            rest_s = rest[0] if rest else ""
            if kw == "TYPE" and rest_s == "untyped":
                rest_s = "unknown"
            line = f"# {kw} {name} {rest_s}"
        out.append(line)
    return ("\n".join(out).rstrip("\n") + "\n# EOF\n").encode()


def stamped(text: bytes, ms: int) -> bytes:
    """Every sample line with an explicit timestamp, as cAdvisor writes them."""
    out = []
    for line in text.decode().split("\n"):
        out.append(f"{line} {1_700_000_000_000 + ms}" if line and line[0] != "#" else line)
    return "\n".join(out).encode()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=30, help="passes; the best one counts")
    args = ap.parse_args(argv)

    capture = (TESTDATA / "node_exporter.prom").read_bytes()
    capture_om = (TESTDATA / "node_exporter.om").read_bytes()
    fams0, fams1 = shaped_families(0), shaped_families(1)
    shaped0, shaped1 = encode_text(fams0), encode_text(fams1)
    bodies = [
        ("node_exporter capture", Format.TEXT_004, capture, capture),
        ("node_exporter capture", Format.OPENMETRICS_1, capture_om, capture_om),
        ("node_exporter-shaped", Format.TEXT_004, shaped0, shaped1),
        (
            "node_exporter-shaped",
            Format.OPENMETRICS_1,
            to_openmetrics(shaped0),
            to_openmetrics(shaped1),
        ),
        ("shaped, timestamped", Format.TEXT_004, stamped(shaped0, 0), stamped(shaped1, 15_000)),
    ]
    print(
        f"{'body':<24}{'format':<13}{'lines':>6}{'samples':>8}{'comments':>9}  "
        f"{'cache':<5}{'us/line':>9}{'us/sample':>10}"
    )
    for title, fmt, first, body in bodies:
        lines = body.count(b"\n")
        samples = sum(1 for x in body.split(b"\n") if x and not x.startswith(b"#"))
        warm = ExpositionCache()
        parse(first, fmt, default_timestamp_ms=0, cache=warm)

        def run_warm(body: bytes = body, fmt: Format = fmt, warm: ExpositionCache = warm) -> None:
            parse(body, fmt, default_timestamp_ms=0, cache=warm)

        loop = ExpositionCache(use_templates=False)
        parse(first, fmt, default_timestamp_ms=0, cache=loop)

        def run_loop(body: bytes = body, fmt: Format = fmt, loop: ExpositionCache = loop) -> None:
            parse(body, fmt, default_timestamp_ms=0, cache=loop)

        def run_cold(body: bytes = body, fmt: Format = fmt) -> None:
            parse(body, fmt, default_timestamp_ms=0, cache=ExpositionCache())

        for name, fn in (("warm", run_warm), ("loop", run_loop), ("cold", run_cold)):
            t = best_cpu(fn, args.repeat)
            fname = "text 0.0.4" if fmt is Format.TEXT_004 else "OpenMetrics"
            print(
                f"{title:<24}{fname:<13}{lines:>6}{samples:>8}{(lines - samples) / lines:>8.0%}  "
                f"{name:<5}{t / lines * 1e6:>9.3f}{t / samples * 1e6:>10.3f}"
            )
    n = sum(len(s) for _, s in fams1)
    t = best_cpu(lambda: encode_text(fams1), args.repeat)
    print(f"encode_text: {t / n * 1e6:.3f} us/sample ({n} samples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
