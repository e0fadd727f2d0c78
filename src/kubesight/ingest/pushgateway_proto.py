"""The Pushgateway's protobuf push format: varint-delimited ``io.prometheus.client.MetricFamily``.

client_golang's ``push`` package sends this format by default (Content-Type
``application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
encoding=delimited``), so Go batch jobs need it. Pure: bytes in, the same
``(samples, metadata)`` shape the text parser gives, so the rest of the push
path cannot tell the formats apart. Summaries and histograms are flattened into
their ``_sum``/``_count``/``quantile``/``_bucket`` series (a sum and a count
are always there, as in the message); ``le`` and ``quantile`` are written in the form
Prometheus stores (``1.0``, ``+Inf``), like the text parser does.

The message classes are built at import time from a descriptor written out
below (field numbers from client_model's ``metrics.proto``), in a private pool.
Native histograms are refused: the store does not keep them yet.
"""

from __future__ import annotations

from typing import Any, Final

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError as ProtoDecodeError

from kubesight.errors import DecodeError, UnsupportedError, ValidationError
from kubesight.model.labels import METRIC_NAME, Labels, format_labels
from kubesight.model.samples import MetricMetadata
from kubesight.wire.exposition import format_openmetrics_float

__all__ = ["PROTOBUF_MEDIA_TYPE", "parse_delimited"]

PROTOBUF_MEDIA_TYPE: Final = "application/vnd.google.protobuf"

_F = descriptor_pb2.FieldDescriptorProto
_PKG = "kubesight.pushgateway.client"

# (message, [(field, number, type, repeated, message type)])
_MESSAGES: list[tuple[str, list[tuple[str, int, int, bool, str]]]] = [
    ("LabelPair", [("name", 1, _F.TYPE_STRING, False, ""), ("value", 2, _F.TYPE_STRING, False, "")]),
    ("Gauge", [("value", 1, _F.TYPE_DOUBLE, False, "")]),
    ("Counter", [("value", 1, _F.TYPE_DOUBLE, False, "")]),
    ("Untyped", [("value", 1, _F.TYPE_DOUBLE, False, "")]),
    ("Quantile", [("quantile", 1, _F.TYPE_DOUBLE, False, ""), ("value", 2, _F.TYPE_DOUBLE, False, "")]),
    ("Summary", [
        ("sample_count", 1, _F.TYPE_UINT64, False, ""),
        ("sample_sum", 2, _F.TYPE_DOUBLE, False, ""),
        ("quantile", 3, _F.TYPE_MESSAGE, True, "Quantile"),
    ]),
    ("Bucket", [
        ("cumulative_count", 1, _F.TYPE_UINT64, False, ""),
        ("upper_bound", 2, _F.TYPE_DOUBLE, False, ""),
        ("cumulative_count_float", 4, _F.TYPE_DOUBLE, False, ""),
    ]),
    ("Histogram", [
        ("sample_count", 1, _F.TYPE_UINT64, False, ""),
        ("sample_sum", 2, _F.TYPE_DOUBLE, False, ""),
        ("bucket", 3, _F.TYPE_MESSAGE, True, "Bucket"),
        ("sample_count_float", 4, _F.TYPE_DOUBLE, False, ""),
        ("zero_count", 7, _F.TYPE_UINT64, False, ""),
        ("zero_count_float", 8, _F.TYPE_DOUBLE, False, ""),
        # Spans only tell a native histogram apart; their content is not read.
        ("negative_span", 9, _F.TYPE_BYTES, True, ""),
        ("positive_span", 12, _F.TYPE_BYTES, True, ""),
    ]),
    ("Metric", [
        ("label", 1, _F.TYPE_MESSAGE, True, "LabelPair"),
        ("gauge", 2, _F.TYPE_MESSAGE, False, "Gauge"),
        ("counter", 3, _F.TYPE_MESSAGE, False, "Counter"),
        ("summary", 4, _F.TYPE_MESSAGE, False, "Summary"),
        ("untyped", 5, _F.TYPE_MESSAGE, False, "Untyped"),
        ("timestamp_ms", 6, _F.TYPE_INT64, False, ""),
        ("histogram", 7, _F.TYPE_MESSAGE, False, "Histogram"),
    ]),
    ("MetricFamily", [
        ("name", 1, _F.TYPE_STRING, False, ""),
        ("help", 2, _F.TYPE_STRING, False, ""),
        ("type", 3, _F.TYPE_INT32, False, ""),  # the enum read as its number
        ("metric", 4, _F.TYPE_MESSAGE, True, "Metric"),
        ("unit", 5, _F.TYPE_STRING, False, ""),
    ]),
]


def _build() -> Any:
    fdp = descriptor_pb2.FileDescriptorProto(name="kubesight/pushgateway/metrics.proto", package=_PKG, syntax="proto2")
    for mname, fields in _MESSAGES:
        msg = fdp.message_type.add(name=mname)
        for fname, number, ftype, repeated, tname in fields:
            fd = msg.field.add(name=fname, number=number, type=ftype)
            fd.label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
            if tname:
                fd.type_name = f".{_PKG}.{tname}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PKG}.MetricFamily"))


_MetricFamily: Any = _build()  # Any: a runtime class mypy cannot know

# client_model's MetricType numbers.
_TYPES: Final = {0: "counter", 1: "gauge", 2: "summary", 3: "unknown", 4: "histogram", 5: "gaugehistogram"}
_MAX_VARINT_BYTES: Final = 10  # a 64-bit varint takes at most 10 bytes


def _messages(body: bytes) -> list[bytes]:
    out: list[bytes] = []
    i, n = 0, len(body)
    while i < n:
        size = shift = 0
        start = i
        while True:
            if i >= n or i - start >= _MAX_VARINT_BYTES:
                raise DecodeError(f"byte {start}: truncated or invalid length prefix of a delimited message")
            b = body[i]
            i += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        if i + size > n:
            raise DecodeError(f"byte {start}: message of {size} bytes is cut off after {n - i}")
        out.append(body[i:i + size])
        i += size
    return out


def _text(v: object, what: str) -> str:
    # upb hands out a proto2 string that is not UTF-8 as bytes instead of str.
    if isinstance(v, str):
        return v
    raise DecodeError(f"{what} is not valid UTF-8: {v!r}")


def _labels(name: str, m: Any, extra: tuple[tuple[str, str], ...] = ()) -> Labels:
    pairs = [
        (_text(lp.name, f"a label name of {name!r}"), _text(lp.value, f"a label value of {name!r}"))
        for lp in m.label
        if lp.value != ""
    ]
    pairs.extend(extra)
    labels = tuple(sorted(((METRIC_NAME, name), *pairs)))
    names = [k for k, _ in labels]
    if "" in names or len(set(names)) != len(names):
        raise ValidationError(f"metric {format_labels(labels)}: empty or duplicate label name")
    return labels


def _family_samples(mf: Any, ftype: str) -> list[tuple[Labels, float]]:
    name = mf.name
    out: list[tuple[Labels, float]] = []
    field = {"counter": "counter", "gauge": "gauge", "unknown": "untyped",
             "summary": "summary", "histogram": "histogram"}.get(ftype)
    if field is None:
        raise UnsupportedError(f"metric family {name!r}: type {ftype} cannot be pushed (not supported yet)")
    for m in mf.metric:
        if m.HasField("timestamp_ms"):
            raise ValidationError(
                f"pushed metrics must not have timestamps: sample {format_labels(_labels(name, m))} "
                f"has timestamp {m.timestamp_ms} (the time of a pushed sample is the time it is read)"
            )
        if not m.HasField(field):
            raise ValidationError(f"metric {format_labels(_labels(name, m))} of family {name!r} is not a {ftype}")
        if ftype == "summary":
            s = m.summary
            for q in s.quantile:
                out.append((_labels(name, m, (("quantile", format_openmetrics_float(q.quantile)),)), q.value))
            out.append((_labels(name + "_sum", m), s.sample_sum))
            out.append((_labels(name + "_count", m), float(s.sample_count)))
        elif ftype == "histogram":
            h = m.histogram
            if len(h.positive_span) or len(h.negative_span) or h.zero_count or h.zero_count_float:
                raise UnsupportedError(
                    f"metric {format_labels(_labels(name, m))}: native histograms cannot be pushed yet; "
                    "push a classic histogram (with buckets)"
                )
            count = h.sample_count_float if h.HasField("sample_count_float") else float(h.sample_count)
            # Only the buckets pushed: the exporter adds a missing +Inf bucket,
            # as client_golang's exposition does, and the JSON API does not.
            for b in h.bucket:
                v = b.cumulative_count_float if b.HasField("cumulative_count_float") else float(b.cumulative_count)
                out.append((_labels(name + "_bucket", m, (("le", format_openmetrics_float(b.upper_bound)),)), v))
            out.append((_labels(name + "_sum", m), h.sample_sum))
            out.append((_labels(name + "_count", m), count))
        else:
            out.append((_labels(name, m), getattr(m, field).value))
    return out


def parse_delimited(body: bytes) -> tuple[list[tuple[Labels, float]], list[MetricMetadata]]:
    """Samples and family metadata of a delimited MetricFamily stream.

    Raises :class:`DecodeError` for bytes that are not such a stream,
    :class:`UnsupportedError` for what kubesight cannot store, and
    :class:`ValidationError` for what the Pushgateway refuses (timestamps, a
    metric of the wrong type). A family sent twice counts once, the last, as
    in the Pushgateway.
    """
    families: dict[str, Any] = {}
    for i, raw in enumerate(_messages(body)):
        try:
            mf = _MetricFamily.FromString(raw)
        except ProtoDecodeError as exc:
            raise DecodeError(f"message {i}: not a valid io.prometheus.client.MetricFamily: {exc}") from None
        if not mf.name:
            raise DecodeError(f"message {i}: metric family without a name")
        name = _text(mf.name, f"message {i}: the metric family name")
        _text(mf.help, f"the help of {name!r}")
        _text(mf.unit, f"the unit of {name!r}")
        families[name] = mf
    samples: list[tuple[Labels, float]] = []
    metadata: list[MetricMetadata] = []
    for name, mf in families.items():
        ftype = _TYPES.get(mf.type)
        if ftype is None:
            raise DecodeError(f"metric family {name!r}: unknown metric type {mf.type}")
        samples.extend(_family_samples(mf, ftype))
        metadata.append(MetricMetadata(name, ftype, mf.help, mf.unit))
    return samples, metadata
