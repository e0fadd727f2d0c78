"""The textfile collector: ``*.prom`` files in a directory, as node_exporter reads them.

A file that cannot be read or parsed, or that carries client-side timestamps,
is skipped whole and sets ``node_textfile_scrape_error`` to 1; the other
files still count. ``node_textfile_mtime_seconds{file}`` is the modification
time of each file read.
"""

from __future__ import annotations

import glob
import os

from kubesight.collect.family import Family
from kubesight.collect.host._files import HostReadError, read_bytes
from kubesight.errors import DecodeError
from kubesight.model.labels import METRIC_NAME
from kubesight.wire.exposition import Format, parse

_NO_TS = -(2**62)  # the default timestamp given to samples without one, so any real one stands out
_COMPOUND = (("_bucket", "histogram"), ("_sum", "histogram"), ("_count", "histogram"),
             ("_sum", "summary"), ("_count", "summary"))


def parse_textfile(data: bytes, path: str) -> list[Family]:
    """The families of one ``.prom`` file; raises :class:`HostReadError` naming the file and line."""
    try:
        parsed = parse(data, Format.TEXT_004, default_timestamp_ms=_NO_TS, strict=True)
    except DecodeError as exc:
        raise HostReadError(f"{path}: {exc}") from exc
    if (parsed.batch.timestamps != _NO_TS).any():
        raise HostReadError(f"{path}: contains client-side timestamps, which node_exporter refuses; "
                            "file skipped")
    meta = {m.metric_family: m for m in parsed.metadata}
    fams: dict[str, Family] = {}
    for labels, value in zip(parsed.batch.series, parsed.batch.values.tolist(), strict=True):
        name = next(v for k, v in labels if k == METRIC_NAME)
        fam_name, typ, help_ = name, "unknown", ""
        m = meta.get(name)
        if m is not None:
            typ, help_ = m.type, m.help
        else:
            for suffix, t in _COMPOUND:
                base = name.removesuffix(suffix)
                mb = meta.get(base)
                if base != name and mb is not None and mb.type == t:
                    fam_name, typ, help_ = base, t, mb.help
                    break
            else:
                mc = meta.get(name.removesuffix("_total"))
                if mc is not None and mc.type == "counter":
                    typ, help_ = "counter", mc.help
        f = fams.get(fam_name)
        if f is None:
            f = fams[fam_name] = Family(fam_name, typ, help_)
        f.samples.append((labels, value))
    return list(fams.values())


def collect_textfile(directory: str, out: list[Family]) -> list[str]:
    """Families of every readable ``*.prom`` file under ``directory`` (a glob allowed); returns the errors."""
    errors: list[str] = []
    dirs = sorted(glob.glob(directory)) if directory else []
    if directory and not dirs:
        dirs = [directory]
    merged: dict[str, Family] = {}
    sources: dict[str, list[str]] = {}
    mtimes: list[tuple[str, float]] = []
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError as exc:
            errors.append(f"{d}: cannot list the textfile directory: {exc.strerror or exc}")
            continue
        for fname in names:
            if not fname.endswith(".prom"):
                continue
            path = os.path.join(d, fname)
            try:
                fams = parse_textfile(read_bytes(path), path)
                mtime = os.stat(path).st_mtime_ns // 1_000_000_000  # whole seconds, as node_exporter
            except HostReadError as exc:
                errors.append(str(exc))
                continue
            except OSError as exc:
                errors.append(f"{path}: cannot stat: {exc.strerror or exc}")
                continue
            for f in fams:
                sources.setdefault(f.name, []).append(path)
                have = merged.get(f.name)
                if have is None:
                    merged[f.name] = f
                else:
                    have.samples.extend(f.samples)
            mtimes.append((path, float(mtime)))
    for f in merged.values():
        if not f.help:
            f.help = "Metric read from " + ", ".join(sources[f.name])
        out.append(f)
    if mtimes:
        mt = Family("node_textfile_mtime_seconds", "gauge", "Unixtime mtime of textfiles successfully read.")
        for path, t in sorted(mtimes):
            mt.add(t, [("file", path)])
        out.append(mt)
    err = Family("node_textfile_scrape_error", "gauge",
                 "1 if there was an error opening or reading a file, 0 otherwise")
    err.add(1.0 if errors else 0.0)
    out.append(err)
    return errors
