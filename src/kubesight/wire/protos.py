"""Protobuf message classes for Prometheus remote write 1.0/2.0 and remote read.

The classes are built at import time from ``FileDescriptorProto``s written out
below, so no ``protoc`` run and no generated code live in the repository. Field
names, numbers and types follow Prometheus' ``prompb/types.proto``,
``prompb/remote.proto`` and ``prompb/io/prometheus/write/v2/types.proto``; the
wire format is all that matters to peers, and it is fixed by those numbers.

The descriptors live in a private pool so they can never clash with another
copy of the same ``.proto`` files (e.g. a generated ``prompb`` a user installs).

Besides the canonical messages, a few *views* re-declare the same field numbers
with cheaper types for the decode hot path (see :data:`SplitWriteRequest`).
Protobuf allows this: a length-delimited field can be read as ``bytes`` whatever
message it carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

_F = descriptor_pb2.FieldDescriptorProto

DOUBLE = _F.TYPE_DOUBLE
INT64 = _F.TYPE_INT64
UINT64 = _F.TYPE_UINT64
UINT32 = _F.TYPE_UINT32
SINT32 = _F.TYPE_SINT32
SINT64 = _F.TYPE_SINT64
BOOL = _F.TYPE_BOOL
STRING = _F.TYPE_STRING
BYTES = _F.TYPE_BYTES
MESSAGE = _F.TYPE_MESSAGE
ENUM = _F.TYPE_ENUM

# (name, number, type, repeated, type_name or "", oneof name or "")
_Field = tuple[str, int, int, bool, str, str]


def _f(
    name: str, number: int, ftype: int, repeated: bool = False, type_name: str = "", oneof: str = ""
) -> _Field:
    return (name, number, ftype, repeated, type_name, oneof)


def _message(
    name: str,
    fields: Sequence[_Field],
    enums: Sequence[tuple[str, Sequence[tuple[str, int]]]] = (),
    reserved: Sequence[tuple[int, int]] = (),
) -> descriptor_pb2.DescriptorProto:
    msg = descriptor_pb2.DescriptorProto(name=name)
    oneofs: list[str] = []
    for fname, number, ftype, repeated, type_name, oneof in fields:
        fd = msg.field.add(
            name=fname,
            number=number,
            type=ftype,
            label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
            json_name=_json_name(fname),
        )
        if type_name:
            fd.type_name = type_name
        if oneof:
            if oneof not in oneofs:
                oneofs.append(oneof)
                msg.oneof_decl.add(name=oneof)
            fd.oneof_index = oneofs.index(oneof)
    for ename, values in enums:
        ed = msg.enum_type.add(name=ename)
        for vname, vnum in values:
            ed.value.add(name=vname, number=vnum)
    for start, end in reserved:
        # DescriptorProto ranges are end-exclusive; .proto "reserved a to b" is inclusive.
        msg.reserved_range.add(start=start, end=end + 1)
    return msg


def _json_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _file(
    name: str,
    package: str,
    messages: Sequence[descriptor_pb2.DescriptorProto],
    deps: Sequence[str] = (),
) -> descriptor_pb2.FileDescriptorProto:
    fdp = descriptor_pb2.FileDescriptorProto(name=name, package=package, syntax="proto3")
    fdp.dependency.extend(deps)
    fdp.message_type.extend(messages)
    return fdp


_METRIC_TYPES = (
    ("UNKNOWN", 0),
    ("COUNTER", 1),
    ("GAUGE", 2),
    ("HISTOGRAM", 3),
    ("GAUGEHISTOGRAM", 4),
    ("SUMMARY", 5),
    ("INFO", 6),
    ("STATESET", 7),
)


def _histogram(
    prefix: str, reset_hints: Sequence[tuple[str, int]]
) -> descriptor_pb2.DescriptorProto:
    # Identical field layout in 1.0 and 2.0; only the package (and enum names) differ.
    span = f".{prefix}.BucketSpan"
    fields = [
        _f("count_int", 1, UINT64, oneof="count"),
        _f("count_float", 2, DOUBLE, oneof="count"),
        _f("sum", 3, DOUBLE),
        _f("schema", 4, SINT32),
        _f("zero_threshold", 5, DOUBLE),
        _f("zero_count_int", 6, UINT64, oneof="zero_count"),
        _f("zero_count_float", 7, DOUBLE, oneof="zero_count"),
        _f("negative_spans", 8, MESSAGE, True, span),
        _f("negative_deltas", 9, SINT64, True),
        _f("negative_counts", 10, DOUBLE, True),
        _f("positive_spans", 11, MESSAGE, True, span),
        _f("positive_deltas", 12, SINT64, True),
        _f("positive_counts", 13, DOUBLE, True),
        _f("reset_hint", 14, ENUM, type_name=f".{prefix}.Histogram.ResetHint"),
        _f("timestamp", 15, INT64),
        _f("custom_values", 16, DOUBLE, True),
    ]
    if prefix != "prometheus":
        fields.append(_f("start_timestamp", 17, INT64))
    return _message("Histogram", fields, enums=[("ResetHint", reset_hints)])


def _bucket_span() -> descriptor_pb2.DescriptorProto:
    return _message("BucketSpan", [_f("offset", 1, SINT32), _f("length", 2, UINT32)])


_P = ".prometheus."

_TYPES_V1 = _file(
    "kubesight/prompb/types.proto",
    "prometheus",
    [
        _message(
            "MetricMetadata",
            [
                _f("type", 1, ENUM, type_name=_P + "MetricMetadata.MetricType"),
                _f("metric_family_name", 2, STRING),
                _f("help", 4, STRING),
                _f("unit", 5, STRING),
            ],
            enums=[("MetricType", _METRIC_TYPES)],
        ),
        _message("Sample", [_f("value", 1, DOUBLE), _f("timestamp", 2, INT64)]),
        _message(
            "Exemplar",
            [
                _f("labels", 1, MESSAGE, True, _P + "Label"),
                _f("value", 2, DOUBLE),
                _f("timestamp", 3, INT64),
            ],
        ),
        _histogram("prometheus", (("UNKNOWN", 0), ("YES", 1), ("NO", 2), ("GAUGE", 3))),
        _bucket_span(),
        _message(
            "TimeSeries",
            [
                _f("labels", 1, MESSAGE, True, _P + "Label"),
                _f("samples", 2, MESSAGE, True, _P + "Sample"),
                _f("exemplars", 3, MESSAGE, True, _P + "Exemplar"),
                _f("histograms", 4, MESSAGE, True, _P + "Histogram"),
            ],
        ),
        _message("Label", [_f("name", 1, STRING), _f("value", 2, STRING)]),
        _message("Labels", [_f("labels", 1, MESSAGE, True, _P + "Label")]),
        _message(
            "LabelMatcher",
            [
                _f("type", 1, ENUM, type_name=_P + "LabelMatcher.Type"),
                _f("name", 2, STRING),
                _f("value", 3, STRING),
            ],
            enums=[("Type", (("EQ", 0), ("NEQ", 1), ("RE", 2), ("NRE", 3)))],
        ),
        _message(
            "ReadHints",
            [
                _f("step_ms", 1, INT64),
                _f("func", 2, STRING),
                _f("start_ms", 3, INT64),
                _f("end_ms", 4, INT64),
                _f("grouping", 5, STRING, True),
                _f("by", 6, BOOL),
                _f("range_ms", 7, INT64),
            ],
        ),
    ],
)

_REMOTE_V1 = _file(
    "kubesight/prompb/remote.proto",
    "prometheus",
    [
        _message(
            "WriteRequest",
            [
                _f("timeseries", 1, MESSAGE, True, _P + "TimeSeries"),
                _f("metadata", 3, MESSAGE, True, _P + "MetricMetadata"),
            ],
            # 2: Cortex' "source" field, reserved by Prometheus.
            reserved=[(2, 2)],
        ),
        _message(
            "ReadRequest",
            [
                _f("queries", 1, MESSAGE, True, _P + "Query"),
                _f(
                    "accepted_response_types",
                    2,
                    ENUM,
                    True,
                    _P + "ReadRequest.ResponseType",
                ),
            ],
            enums=[("ResponseType", (("SAMPLES", 0), ("STREAMED_XOR_CHUNKS", 1)))],
        ),
        _message("ReadResponse", [_f("results", 1, MESSAGE, True, _P + "QueryResult")]),
        _message(
            "Query",
            [
                _f("start_timestamp_ms", 1, INT64),
                _f("end_timestamp_ms", 2, INT64),
                _f("matchers", 3, MESSAGE, True, _P + "LabelMatcher"),
                _f("hints", 4, MESSAGE, type_name=_P + "ReadHints"),
            ],
        ),
        _message("QueryResult", [_f("timeseries", 1, MESSAGE, True, _P + "TimeSeries")]),
    ],
    deps=["kubesight/prompb/types.proto"],
)

_V2 = ".io.prometheus.write.v2."

_WRITE_V2 = _file(
    "kubesight/prompb/io/prometheus/write/v2/types.proto",
    "io.prometheus.write.v2",
    [
        _message(
            "Request",
            [
                _f("symbols", 4, STRING, True),
                _f("timeseries", 5, MESSAGE, True, _V2 + "TimeSeries"),
            ],
            # 1-3 are reserved so a 1.0 WriteRequest read as 2.0 decodes as empty.
            reserved=[(1, 3)],
        ),
        _message(
            "TimeSeries",
            [
                _f("labels_refs", 1, UINT32, True),
                _f("samples", 2, MESSAGE, True, _V2 + "Sample"),
                _f("histograms", 3, MESSAGE, True, _V2 + "Histogram"),
                _f("exemplars", 4, MESSAGE, True, _V2 + "Exemplar"),
                _f("metadata", 5, MESSAGE, type_name=_V2 + "Metadata"),
            ],
            # 6 was created_timestamp in 2.0-rc; it moved to Sample.start_timestamp.
            reserved=[(6, 6)],
        ),
        _message(
            "Exemplar",
            [_f("labels_refs", 1, UINT32, True), _f("value", 2, DOUBLE), _f("timestamp", 3, INT64)],
        ),
        _message(
            "Sample",
            [_f("value", 1, DOUBLE), _f("timestamp", 2, INT64), _f("start_timestamp", 3, INT64)],
        ),
        _message(
            "Metadata",
            [
                _f("type", 1, ENUM, type_name=_V2 + "Metadata.MetricType"),
                _f("help_ref", 3, UINT32),
                _f("unit_ref", 4, UINT32),
            ],
            enums=[
                (
                    "MetricType",
                    tuple(
                        ("METRIC_TYPE_" + ("UNSPECIFIED" if n == "UNKNOWN" else n), v)
                        for n, v in _METRIC_TYPES
                    ),
                )
            ],
        ),
        _histogram(
            "io.prometheus.write.v2",
            (
                ("RESET_HINT_UNSPECIFIED", 0),
                ("RESET_HINT_YES", 1),
                ("RESET_HINT_NO", 2),
                ("RESET_HINT_GAUGE", 3),
            ),
        ),
        _bucket_span(),
    ],
)

_K = ".kubesight.wire.fast."

# Views for the decode hot path: the same field numbers read with cheaper types,
# so the decoder gets one bytes object per series instead of a tree of Python
# wrappers, and scans those bytes with numpy (see pbscan.py and remote_write.py). The fields
# of the *other* remote write version are declared too, only to recognise a
# body sent with the wrong Content-Type.
_FAST = _file(
    "kubesight/wire/fast.proto",
    "kubesight.wire.fast",
    [
        _message(
            "SplitWriteRequest",
            [
                _f("timeseries", 1, BYTES, True),
                _f("metadata", 3, MESSAGE, True, _P + "MetricMetadata"),
                _f("v2_symbols", 4, BYTES, True),
                _f("v2_timeseries", 5, BYTES, True),
            ],
        ),
        _message(
            "SplitWriteV2Request",
            [
                _f("v1_timeseries", 1, BYTES, True),
                _f("v1_metadata", 3, BYTES, True),
                _f("symbols", 4, STRING, True),
                _f("timeseries", 5, BYTES, True),
            ],
        ),
        # A singular message field that occurs many times is merged, and merging
        # appends repeated fields: parsing a run of Label records as MergedLabels
        # yields every name and every value of the run as two flat lists.
        _message("LabelColumns", [_f("name", 1, STRING, True), _f("value", 2, STRING, True)]),
        _message("MergedLabels", [_f("labels", 1, MESSAGE, type_name=_K + "LabelColumns")]),
    ],
    deps=["kubesight/prompb/types.proto"],
)

_TWIN = "kubesight.utf8"


def _bytes_twin(fdp: descriptor_pb2.FileDescriptorProto) -> descriptor_pb2.FileDescriptorProto:
    """The same file with every string field read as bytes, in its own package.

    upb rejects a message whose string holds invalid UTF-8 without saying
    which; parsing the same bytes with the twin finds the field (utf8_error).
    """
    twin = descriptor_pb2.FileDescriptorProto()
    twin.CopyFrom(fdp)
    twin.name = f"{_TWIN}/{fdp.name}"
    twin.package = f"{_TWIN}.{fdp.package}"
    del twin.dependency[:]
    twin.dependency.extend(f"{_TWIN}/{d}" for d in fdp.dependency)
    for msg in twin.message_type:
        for fd in msg.field:
            if fd.type == STRING:
                fd.type = BYTES
            if fd.type_name:
                fd.type_name = f".{_TWIN}{fd.type_name}"
    return twin


_POOL = descriptor_pool.DescriptorPool()
for _fdp in (_TYPES_V1, _REMOTE_V1, _WRITE_V2, _FAST):
    _POOL.Add(_fdp)
for _fdp in (_TYPES_V1, _REMOTE_V1, _WRITE_V2):
    _POOL.Add(_bytes_twin(_fdp))


def _cls(full_name: str) -> Any:
    # Any: the classes are made at runtime, so mypy cannot know their fields.
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(full_name))


def utf8_error(cls: Any, raw: bytes) -> str | None:
    """Where ``raw``, read as message ``cls``, holds a string that is not UTF-8.

    Returns e.g. ``"timeseries[2].labels[0].value is not valid UTF-8:
    b'caf\\xe9'"``, or None when the bytes do not parse even as the twin (so
    the problem is elsewhere) or every string is fine.
    """
    name = f"{_TWIN}.{cls.DESCRIPTOR.full_name}"
    try:
        twin = _cls(name).FromString(raw)
    except (KeyError, DecodeError):
        return None
    return _find_bad_utf8(twin, "")


def _find_bad_utf8(msg: Any, path: str) -> str | None:
    for fd, value in msg.ListFields():
        where = f"{path}.{fd.name}" if path else fd.name
        items = value if fd.is_repeated else [value]
        for i, item in enumerate(items):
            here = f"{where}[{i}]" if fd.is_repeated else where
            if fd.type == BYTES:
                try:
                    item.decode("utf-8")
                except UnicodeDecodeError:
                    return f"{here} is not valid UTF-8: {item[:64]!r}"
            elif fd.type == MESSAGE:
                found = _find_bad_utf8(item, here)
                if found:
                    return found
    return None


# prometheus (remote write 1.0 and remote read)
WriteRequest: Any = _cls("prometheus.WriteRequest")
TimeSeries: Any = _cls("prometheus.TimeSeries")
Label: Any = _cls("prometheus.Label")
Labels: Any = _cls("prometheus.Labels")
Sample: Any = _cls("prometheus.Sample")
Exemplar: Any = _cls("prometheus.Exemplar")
Histogram: Any = _cls("prometheus.Histogram")
BucketSpan: Any = _cls("prometheus.BucketSpan")
MetricMetadata: Any = _cls("prometheus.MetricMetadata")
LabelMatcher: Any = _cls("prometheus.LabelMatcher")
ReadHints: Any = _cls("prometheus.ReadHints")
ReadRequest: Any = _cls("prometheus.ReadRequest")
ReadResponse: Any = _cls("prometheus.ReadResponse")
Query: Any = _cls("prometheus.Query")
QueryResult: Any = _cls("prometheus.QueryResult")

# io.prometheus.write.v2 (remote write 2.0)
WriteV2Request: Any = _cls("io.prometheus.write.v2.Request")
WriteV2TimeSeries: Any = _cls("io.prometheus.write.v2.TimeSeries")
WriteV2Sample: Any = _cls("io.prometheus.write.v2.Sample")
WriteV2Exemplar: Any = _cls("io.prometheus.write.v2.Exemplar")
WriteV2Histogram: Any = _cls("io.prometheus.write.v2.Histogram")
WriteV2Metadata: Any = _cls("io.prometheus.write.v2.Metadata")

# hot-path views
SplitWriteRequest: Any = _cls("kubesight.wire.fast.SplitWriteRequest")
SplitWriteV2Request: Any = _cls("kubesight.wire.fast.SplitWriteV2Request")
MergedLabels: Any = _cls("kubesight.wire.fast.MergedLabels")

__all__ = [
    "BucketSpan",
    "Exemplar",
    "Histogram",
    "Label",
    "LabelMatcher",
    "Labels",
    "MergedLabels",
    "MetricMetadata",
    "Query",
    "QueryResult",
    "ReadHints",
    "ReadRequest",
    "ReadResponse",
    "Sample",
    "SplitWriteRequest",
    "SplitWriteV2Request",
    "TimeSeries",
    "WriteRequest",
    "WriteV2Exemplar",
    "WriteV2Histogram",
    "WriteV2Metadata",
    "WriteV2Request",
    "WriteV2Sample",
    "WriteV2TimeSeries",
    "encode_label_run",
    "encode_sample_records",
    "encode_varint",
    "len_field",
    "utf8_error",
]


# ---------------------------------------------------------------------------
# Hand-written encoding of the hot shapes (1.0 TimeSeries, read QueryResult).
# Building these through message objects costs a wrapper per label and per
# sample; writing the bytes directly keeps encoding near decoding speed.
# ---------------------------------------------------------------------------

_SAMPLE_TAG = 0x12  # TimeSeries.samples: field 2, length-delimited
_MAX_SAMPLE = 2 + 1 + 8 + 1 + 10  # tag, length, value field, timestamp field (10-byte varint max)


def encode_varint(n: int) -> bytes:
    """Protobuf varint of a non-negative int (negative int64s: pass ``n & (2**64 - 1)``)."""
    return _VARINTS[n] if n < _SMALL else _slow_varint(n)


def _slow_varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# Lengths of labels and series are almost always below 2**14 (two varint bytes).
_SMALL = 1 << 14
_VARINTS = [_slow_varint(i) for i in range(_SMALL)]


def len_field(tag: int, payload: bytes) -> bytes:
    """One length-delimited field: tag byte, varint length, payload."""
    return b"".join((_TAGS[tag], encode_varint(len(payload)), payload))


_TAGS = [bytes((t,)) for t in range(128)]


def encode_label_run(
    labels: Sequence[tuple[str, str]], memo: dict[tuple[str, str], bytes]
) -> bytes:
    """The ``labels`` records of a TimeSeries (field 1), one Label message each.

    ``memo`` keeps each distinct pair's bytes for the caller's batch, since the
    same pairs (job, instance, ...) recur across series.
    """
    parts = list(map(memo.get, labels))
    if None in parts:
        for i, b in enumerate(parts):
            if b is None:
                name, value = pair = labels[i]
                body = (len_field(0x0A, name.encode()) if name else b"") + (
                    len_field(0x12, value.encode()) if value else b""
                )
                parts[i] = memo[pair] = len_field(0x0A, body)
    return b"".join(parts)  # type: ignore[arg-type]


def encode_sample_records(timestamps: Any, values: Any) -> tuple[bytes, list[int]]:
    """``samples`` records (field 2) for many samples at once, with numpy.

    Returns the concatenated records and the byte offset where each sample's
    record starts (plus a final end offset), so a series takes a slice. Both
    fields are always written (a parser treats an explicit zero like an absent
    one), which keeps every record the same shape as Prometheus' usual one.
    """
    ts = np.asarray(timestamps, np.int64).view(np.uint64)
    n = len(ts)
    vlen = np.ones(n, np.int64)
    rest = ts >> np.uint64(7)
    while rest.any():
        vlen += rest > 0
        rest >>= np.uint64(7)
    rec_len = 12 + vlen
    out = np.zeros((n, _MAX_SAMPLE), np.uint8)
    out[:, 0] = _SAMPLE_TAG
    out[:, 1] = rec_len - 2
    out[:, 2] = 0x09
    out[:, 3:11] = np.asarray(values, "<f8").reshape(n, 1).view(np.uint8)
    out[:, 11] = 0x10
    shifts = (7 * np.arange(10)).astype(np.uint64)
    groups = ((ts[:, None] >> shifts[None, :]) & np.uint64(0x7F)).astype(np.uint8)
    k = np.arange(10)[None, :]
    groups[k < (vlen - 1)[:, None]] |= 0x80
    out[:, 12:22] = groups
    mask = np.arange(_MAX_SAMPLE)[None, :] < rec_len[:, None]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(rec_len, out=offsets[1:])
    return out[mask].tobytes(), offsets.tolist()
