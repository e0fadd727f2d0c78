"""Text exposition 0.0.4, byte for byte as client_golang writes it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from kubesight.model.labels import METRIC_NAME, Labels
from kubesight.model.samples import MetricMetadata
from kubesight.wire.exposition.floats import format_go_float

EncodeSample = tuple[Labels, float, int | None]
"""``(labels, value, timestamp_ms or None)``; ``__name__`` in labels names the sample."""

_ENCODE_TYPES: Final = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
}
_CLASSIC_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_CLASSIC_LNAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _esc_value(v: str) -> str:
    if "\\" in v or '"' in v or "\n" in v:
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return v


def _esc_help(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n")


def _encode_value(f: float) -> str:
    # client_golang's writeFloat: 1, 0, -1 without decimals, else Go's %g,
    # which writes integers below 1e6 plainly (the common case, done quickly).
    if f == 0:
        return "0"
    if f.is_integer() and -1e6 < f < 1e6:
        return str(int(f))
    return format_go_float(f)


def _meta_name_text(name: str) -> str:
    return name if _CLASSIC_NAME_RE.fullmatch(name) else f'"{_esc_value(name)}"'


def encode_text(
    families: Iterable[tuple[MetricMetadata, Iterable[EncodeSample]]],
) -> bytes:
    """Render families as text 0.0.4, byte for byte as client_golang writes them.

    Each family is its metadata and its samples. ``# HELP`` is written when the
    help is not empty, ``# TYPE`` always (types the text format lacks, such as
    info, stateset and gaugehistogram, become ``untyped``). A sample's name is
    its ``__name__`` label, or the family name when it has none. Names outside
    the classic charset are written quoted (``{"my.metric",a="b"}``), label
    values and help escaped, labels with empty values left out.
    """
    out: list[str] = []
    # Label and metric names repeat on every sample: render each once per call.
    label_names: dict[str, str] = {}
    classic: dict[str, bool] = {}
    for md, samples in families:
        fname = _meta_name_text(md.metric_family)
        if md.help:
            out.append(f"# HELP {fname} {_esc_help(md.help)}\n")
        out.append(f"# TYPE {fname} {_ENCODE_TYPES.get(md.type, 'untyped')}\n")
        for labels, value, ts in samples:
            name = md.metric_family
            parts: list[str] = []
            for k, v in labels:
                if k == METRIC_NAME:
                    name = v
                elif v != "":
                    kk = label_names.get(k)
                    if kk is None:
                        kk = k if _CLASSIC_LNAME_RE.fullmatch(k) else f'"{_esc_value(k)}"'
                        label_names[k] = kk
                    parts.append(f'{kk}="{_esc_value(v)}"')
            ok = classic.get(name)
            if ok is None:
                ok = classic[name] = _CLASSIC_NAME_RE.fullmatch(name) is not None
            if ok:
                series = f"{name}{{{','.join(parts)}}}" if parts else name
            else:
                series = "{" + ",".join([f'"{_esc_value(name)}"', *parts]) + "}"
            if ts is None:
                out.append(f"{series} {_encode_value(value)}\n")
            else:
                out.append(f"{series} {_encode_value(value)} {ts}\n")
    return "".join(out).encode("utf-8")
