"""Remote write 1.0/2.0 codecs: negotiation, snappy, and protobuf both ways.

Protobuf inputs are written out byte by byte with the helpers below, so each
case reads like the spec (field number, wire type, payload). Every decode is
also checked against a plain upb parse of the canonical messages (``ref_v1``,
``ref_v2``): the vectorised decoder must give exactly what a full parse gives.
"""

from __future__ import annotations

import math
import struct
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cramjam
import numpy as np
import pytest
from google.protobuf.message import DecodeError as ProtobufDecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubesight.errors import DecodeError, UnsupportedError
from kubesight.model import STALE_NAN_BITS, MetricMetadata, SampleBatch
from kubesight.wire import protos
from kubesight.wire.remote_write import (
    CONTENT_TYPE_V2,
    LabelCache,
    TooLargeError,
    WriteDecoded,
    WriteVersion,
    decode_write_v1,
    decode_write_v1_counted,
    decode_write_v2,
    decompress,
    encode_write_v1,
    encode_write_v2,
    negotiate_content_type,
)
from tests.conftest import free_port, require_peer

# --- protobuf by hand -------------------------------------------------------


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def f_len(num: int, payload: bytes | str) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def f_varint(num: int, v: int) -> bytes:
    return varint(num << 3) + varint(v)


def f_double(num: int, x: float) -> bytes:
    return varint(num << 3 | 1) + struct.pack("<d", x)


def label(name: str | bytes, value: str | bytes) -> bytes:
    """A TimeSeries.labels record (field 1) holding a Label{name=1, value=2}."""
    nb = name.encode() if isinstance(name, str) else name
    vb = value.encode() if isinstance(value, str) else value
    body = (f_len(1, nb) if nb else b"") + (f_len(2, vb) if vb else b"")
    return f_len(1, body)


def sample(value: float | None, ts: int | None, num: int = 2) -> bytes:
    """A samples record: Sample{value=1 double, timestamp=2 int64}; None omits a field."""
    body = (f_double(1, value) if value is not None else b"") + (
        f_varint(2, ts) if ts is not None else b""
    )
    return f_len(num, body)


def series_v1(*parts: bytes) -> bytes:
    """A WriteRequest.timeseries record (field 1)."""
    return f_len(1, b"".join(parts))


def v2_series(refs: list[int], *parts: bytes) -> bytes:
    """A v2 Request.timeseries record (field 5) with packed labels_refs (field 1)."""
    packed = f_len(1, b"".join(varint(r) for r in refs)) if refs else b""
    return f_len(5, packed + b"".join(parts))


def v2_request(symbols: list[str], *series: bytes) -> bytes:
    return b"".join(f_len(4, s) for s in symbols) + b"".join(series)


def v2_meta(mtype: int, help_ref: int = 0, unit_ref: int = 0) -> bytes:
    body = (f_varint(1, mtype) if mtype else b"") + (f_varint(3, help_ref) if help_ref else b"")
    return f_len(5, body + (f_varint(4, unit_ref) if unit_ref else b""))


TS = 1_700_000_000_000  # a real timestamp: a 6-byte varint, like every live sample

# --- reference decoders: plain upb parses of the canonical messages ----------

Rows = list[tuple[int, int, int]]  # (series index, timestamp, value bits)


def bits(x: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", x))[0])


def view(batch: SampleBatch) -> tuple[list[Any], Rows]:
    vb = batch.values.view(np.uint64).tolist()
    rows = list(zip(batch.series_ref.tolist(), batch.timestamps.tolist(), vb, strict=True))
    return list(batch.series), rows


def ref_v1(raw: bytes) -> tuple[list[Any], Rows, int, int]:
    req = protos.WriteRequest.FromString(raw)
    series: list[Any] = []
    rows: Rows = []
    for ts in req.timeseries:
        if not ts.samples:
            continue
        series.append(tuple((lb.name, lb.value) for lb in ts.labels))
        rows += [(len(series) - 1, s.timestamp, bits(s.value)) for s in ts.samples]
    hist = sum(len(ts.histograms) for ts in req.timeseries)
    exem = sum(len(ts.exemplars) for ts in req.timeseries)
    return series, rows, hist, exem


class RefError(Exception):
    pass


def ref_v2(raw: bytes) -> tuple[list[Any], Rows, int, int]:
    req = protos.WriteV2Request.FromString(raw)
    sym = list(req.symbols)
    if req.timeseries and (not sym or sym[0] != ""):
        raise RefError("symbols[0]")
    series: list[Any] = []
    rows: Rows = []
    for ts in req.timeseries:
        refs = list(ts.labels_refs)
        if len(refs) % 2 or any(r >= len(sym) for r in refs):
            raise RefError("refs")
        md = ts.metadata
        if md.help_ref >= len(sym) or md.unit_ref >= len(sym):
            raise RefError("metadata refs")
        if not ts.samples:
            continue
        series.append(tuple(zip(refs[0::2], refs[1::2], strict=True)))
        series[-1] = tuple((sym[a], sym[b]) for a, b in series[-1])
        rows += [(len(series) - 1, s.timestamp, bits(s.value)) for s in ts.samples]
    hist = sum(len(ts.histograms) for ts in req.timeseries)
    exem = sum(len(ts.exemplars) for ts in req.timeseries)
    return series, rows, hist, exem


def check_v1(raw: bytes) -> WriteDecoded:
    """Decode cold, warm (label cache hits) and compare both with the reference."""
    want = ref_v1(raw)
    cache = LabelCache()
    for _ in range(2):
        got = decode_write_v1_counted(raw, cache)
        assert (*view(got.batch), got.histograms, got.exemplars) == want
    assert view(decode_write_v1(raw)) == want[:2]
    return got


def check_v2(raw: bytes) -> WriteDecoded:
    """Decode without a cache, then cold and warm with one; compare with the reference."""
    want = ref_v2(raw)
    got = decode_write_v2(raw)
    assert (*view(got.batch), got.histograms, got.exemplars) == want
    cache = LabelCache()
    for _ in range(2):
        got = decode_write_v2(raw, cache)
        assert (*view(got.batch), got.histograms, got.exemplars) == want
    return got


# --- content negotiation ------------------------------------------------------

V1, V2 = WriteVersion.V1, WriteVersion.V2


@pytest.mark.parametrize(
    ("header", "version"),
    [
        (None, V1),  # Prometheus' receiver treats a missing header as 1.0 as well
        ("", V1),
        ("application/x-protobuf", V1),
        ("Application/X-Protobuf", V1),  # media types are case-insensitive
        ("application/x-protobuf;proto=prometheus.WriteRequest", V1),
        ("application/x-protobuf; proto=prometheus.WriteRequest", V1),
        ("application/x-protobuf;proto=io.prometheus.write.v2.Request", V2),
        (CONTENT_TYPE_V2, V2),
        ("application/x-protobuf ; PROTO=io.prometheus.write.v2.Request", V2),
        ('application/x-protobuf;proto="io.prometheus.write.v2.Request"', V2),
        ("application/x-protobuf;charset=utf-8;proto=io.prometheus.write.v2.Request", V2),
        ('application/x-protobuf;x="a;b";proto=io.prometheus.write.v2.Request', V2),
        ("application/x-protobuf;", V1),
    ],
)
def test_negotiate_content_type(header: str | None, version: WriteVersion) -> None:
    assert negotiate_content_type(header) is version


@pytest.mark.parametrize(
    "header",
    [
        "application/json",
        "text/plain",
        "application/x-protobuf-foo",
        "application/x-protobuf;proto=io.prometheus.write.v3.Request",
        "application/x-protobuf;proto=io.prometheus.write.v2.request",  # values are case-sensitive
        "application/x-protobuf;proto=",
        "application/x-protobuf;proto",
        'application/x-protobuf;proto="io.prometheus.write.v2.Request',
        "application/x-protobuf;proto=prometheus.ReadRequest",
    ],
)
def test_negotiate_content_type_rejects(header: str) -> None:
    with pytest.raises(UnsupportedError) as err:
        negotiate_content_type(header)
    # the message says what would have been accepted
    assert "io.prometheus.write.v2.Request" in str(err.value)
    assert isinstance(err.value, DecodeError)


# --- snappy ------------------------------------------------------------------


def snappy(raw: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(raw))


@pytest.mark.parametrize("encoding", [None, "snappy", "SNAPPY", " snappy "])
def test_decompress_snappy_block(encoding: str | None) -> None:
    raw = b"remote write " * 100
    assert decompress(snappy(raw), encoding, 10_000) == raw


@pytest.mark.parametrize("encoding", ["gzip", "zstd", "identity", "snappy-framed", "deflate"])
def test_decompress_rejects_other_encodings(encoding: str) -> None:
    with pytest.raises(UnsupportedError, match="snappy"):
        decompress(snappy(b"x"), encoding, 100)


def test_decompress_checks_declared_size_before_decompressing() -> None:
    # a 2 GiB preamble followed by garbage: the size check must come first
    body = varint(2**31) + b"\xff" * 10
    with pytest.raises(TooLargeError, match="2147483648 bytes"):
        decompress(body, "snappy", 1 << 20)
    assert issubclass(TooLargeError, DecodeError)


def test_decompress_limit_is_inclusive() -> None:
    raw = bytes(1000)
    assert decompress(snappy(raw), None, 1000) == raw
    with pytest.raises(TooLargeError):
        decompress(snappy(raw), None, 999)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "truncated"),
        (b"\x80\x80", "truncated"),
        (b"\xff\xff\xff\xff\xff\x01", "preamble"),
        (b"\x10garbage", "snappy"),
        (snappy(b"hello world, hello world")[:-3], "snappy"),
        (bytes(cramjam.snappy.compress(b"framed format")), "snappy"),  # framed, not block
    ],
)
def test_decompress_garbage(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decompress(body, "snappy", 1 << 20)


# --- remote write 1.0 ----------------------------------------------------------

# WriteRequest{timeseries=[{labels=[__name__="up", job="node"], samples=[{1.0, 1000}]}],
#              metadata=[{type=COUNTER, metric_family_name="up", help="h"}]}
HAND_V1 = bytes.fromhex(
    "0a2b"  # field 1 (timeseries), 43 bytes
    "0a0e"
    "0a085f5f6e616d655f5f"
    "12027570"  # labels: name "__name__", value "up"
    "0a0b"
    "0a036a6f62"
    "12046e6f6465"  # labels: name "job", value "node"
    "120c"
    "09000000000000f03f"
    "10e807"  # samples: value 1.0 (double), timestamp 1000
    "1a09"
    "0801"
    "12027570"
    "220168"  # field 3 (metadata): type 1, family "up", help "h"
)


def test_v1_hand_built_bytes_both_ways() -> None:
    batch = decode_write_v1(HAND_V1)
    assert batch.series == [(("__name__", "up"), ("job", "node"))]
    assert batch.series_ref.tolist() == [0]
    assert batch.timestamps.tolist() == [1000]
    assert batch.values.tolist() == [1.0]
    assert batch.metadata == [MetricMetadata("up", "counter", "h", "")]
    assert encode_write_v1(batch) == HAND_V1
    assert batch.series_ref.dtype == np.int32
    assert batch.timestamps.dtype == np.int64
    assert batch.values.dtype == np.float64


NODE = (label("__name__", "node_cpu_seconds_total"), label("cpu", "0"), label("job", "node"))

V1_CASES: list[tuple[str, bytes, list[Any], list[tuple[int, int, float]]]] = [
    (
        "plain, as Prometheus sends it",
        series_v1(*NODE, sample(12.5, TS)),
        [(("__name__", "node_cpu_seconds_total"), ("cpu", "0"), ("job", "node"))],
        [(0, TS, 12.5)],
    ),
    (
        "value 0.0 omitted by proto3",
        series_v1(label("a", "b"), sample(None, TS)),
        [(("a", "b"),)],
        [(0, TS, 0.0)],
    ),
    (
        "timestamp 0 omitted",
        series_v1(label("a", "b"), sample(2.0, None)),
        [(("a", "b"),)],
        [(0, 0, 2.0)],
    ),
    (
        "empty sample",
        series_v1(label("a", "b"), sample(None, None)),
        [(("a", "b"),)],
        [(0, 0, 0.0)],
    ),
    (
        "timestamp before 1970: a 10-byte varint",
        series_v1(label("a", "b"), sample(1.0, -1)),
        [(("a", "b"),)],
        [(0, -1, 1.0)],
    ),
    (
        "extreme int64 timestamps",
        series_v1(label("a", "b"), sample(1.0, -(2**63)), sample(2.0, 2**63 - 1)),
        [(("a", "b"),)],
        [(0, -(2**63), 1.0), (0, 2**63 - 1, 2.0)],
    ),
    (
        "samples before labels",
        series_v1(sample(1.0, TS), label("a", "b"), label("c", "d")),
        [(("a", "b"), ("c", "d"))],
        [(0, TS, 1.0)],
    ),
    (
        "labels interleaved with samples",
        series_v1(label("a", "b"), sample(1.0, TS), label("c", "d")),
        [(("a", "b"), ("c", "d"))],
        [(0, TS, 1.0)],
    ),
    (
        "labels kept as sent: unsorted, duplicate names",
        series_v1(label("z", "1"), label("a", "2"), label("a", "3"), sample(1.0, TS)),
        [(("z", "1"), ("a", "2"), ("a", "3"))],
        [(0, TS, 1.0)],
    ),
    (
        "many samples, in order",
        series_v1(label("a", "b"), *(sample(float(i), TS + i) for i in range(40))),
        [(("a", "b"),)],
        [(0, TS + i, float(i)) for i in range(40)],
    ),
    (
        "series without samples are left out",
        series_v1(label("a", "1")) + series_v1(label("a", "2"), sample(5.0, TS)),
        [(("a", "2"),)],
        [(0, TS, 5.0)],
    ),
    (
        "empty label value: proto3 omits the field",
        series_v1(label("a", ""), sample(1.0, TS)),
        [(("a", ""),)],
        [(0, TS, 1.0)],
    ),
    ("no labels at all", series_v1(sample(1.0, TS)), [()], [(0, TS, 1.0)]),
    (
        "unknown fields are skipped",
        series_v1(f_varint(9, 7), label("a", "b"), f_len(15, b"xyz"), sample(1.0, TS)),
        [(("a", "b"),)],
        [(0, TS, 1.0)],
    ),
    (
        "unknown field inside a sample",
        series_v1(label("a", "b"), f_len(2, f_double(1, 3.0) + f_varint(2, TS) + f_varint(7, 1))),
        [(("a", "b"),)],
        [(0, TS, 3.0)],
    ),
    (
        "a sample's fields in reverse order",
        series_v1(label("a", "b"), f_len(2, f_varint(2, TS) + f_double(1, 3.0))),
        [(("a", "b"),)],
        [(0, TS, 3.0)],
    ),
    (
        "a repeated scalar field: the last one wins",
        series_v1(label("a", "b"), f_len(2, f_double(1, 1.0) + f_double(1, 2.0) + f_varint(2, 5))),
        [(("a", "b"),)],
        [(0, 5, 2.0)],
    ),
    (
        "a value with the wrong wire type is an unknown field",
        series_v1(label("a", "b"), f_len(2, f_varint(1, 1) + f_varint(2, 5))),
        [(("a", "b"),)],
        [(0, 5, 0.0)],
    ),
    (
        "the same series twice stays twice",
        series_v1(label("a", "b"), sample(1.0, TS))
        + series_v1(label("a", "b"), sample(2.0, TS + 1)),
        [(("a", "b"),), (("a", "b"),)],
        [(0, TS, 1.0), (1, TS + 1, 2.0)],
    ),
    (
        "Cortex' source field 2 at the top level is ignored",
        f_varint(2, 1) + series_v1(label("a", "b"), sample(1.0, TS)),
        [(("a", "b"),)],
        [(0, TS, 1.0)],
    ),
    (
        "unicode names and values",
        series_v1(label("__name__", "temp_°C"), label("città", "Zürich 🌍"), sample(1.0, TS)),
        [(("__name__", "temp_°C"), ("città", "Zürich 🌍"))],
        [(0, TS, 1.0)],
    ),
    (
        "special floats",
        series_v1(
            label("a", "b"),
            sample(math.inf, 1),
            sample(-math.inf, 2),
            sample(-0.0, 3),
            sample(5e-324, 4),
        ),
        [(("a", "b"),)],
        [(0, 1, math.inf), (0, 2, -math.inf), (0, 3, -0.0), (0, 4, 5e-324)],
    ),
    (
        "a long label value (2-byte lengths)",
        series_v1(label("a", "x" * 300), sample(1.0, TS)),
        [(("a", "x" * 300),)],
        [(0, TS, 1.0)],
    ),
]


@pytest.mark.parametrize(
    ("raw", "series", "rows"), [c[1:] for c in V1_CASES], ids=[c[0] for c in V1_CASES]
)
def test_v1_decode_cases(raw: bytes, series: list[Any], rows: list[tuple[int, int, float]]) -> None:
    got = check_v1(raw)
    assert got.batch.series == series
    assert view(got.batch)[1] == [(i, t, bits(v)) for i, t, v in rows]


def test_v1_all_cases_in_one_request() -> None:
    check_v1(b"".join(c[1] for c in V1_CASES))


def test_v1_stale_nan_keeps_its_bits() -> None:
    stale = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]
    got = check_v1(series_v1(label("a", "b"), sample(stale, TS), sample(math.nan, TS + 1)))
    vb = got.batch.values.view(np.uint64)
    assert int(vb[0]) == STALE_NAN_BITS
    assert int(vb[1]) != STALE_NAN_BITS


def test_v1_histograms_and_exemplars_are_counted_not_written() -> None:
    exemplar = f_len(3, label("trace_id", "abc") + f_double(2, 1.0) + f_varint(3, TS))
    histogram = f_len(4, f_varint(1, 3) + f_double(3, 2.5) + f_varint(15, TS))
    raw = (
        series_v1(label("a", "1"), sample(1.0, TS), exemplar, exemplar)
        + series_v1(label("a", "2"), histogram)
        + series_v1(label("a", "3"), sample(2.0, TS))
    )
    got = check_v1(raw)
    assert (got.histograms, got.exemplars) == (1, 2)
    assert got.batch.series == [(("a", "1"),), (("a", "3"),)]  # histogram-only series left out
    assert got.batch.series_ref.tolist() == [0, 1]


def test_v1_metadata_types() -> None:
    types = [
        "unknown",
        "counter",
        "gauge",
        "histogram",
        "gaugehistogram",
        "summary",
        "info",
        "stateset",
    ]
    raw = b"".join(
        f_len(3, f_varint(1, i) + f_len(2, f"m{i}") + f_len(4, "help") + f_len(5, "seconds"))
        for i in range(8)
    )
    batch = decode_write_v1(raw)
    assert len(batch) == 0
    assert batch.metadata == [
        MetricMetadata(f"m{i}", t, "help", "seconds") for i, t in enumerate(types)
    ]


def test_v1_empty_request() -> None:
    assert len(decode_write_v1(b"")) == 0
    assert decode_write_v1(b"").series == []


def test_v1_label_cache_reuses_tuples_and_stays_bounded() -> None:
    raw1 = series_v1(*NODE, sample(1.0, TS)) + series_v1(label("a", "b"), sample(2.0, TS))
    raw2 = series_v1(*NODE, sample(3.0, TS + 15_000)) + series_v1(label("a", "b"), sample(None, TS))
    cache = LabelCache()
    first = decode_write_v1(raw1, cache)
    second = decode_write_v1(raw2, cache)
    assert len(cache) == 2
    assert all(a is b for a, b in zip(first.series, second.series, strict=True))
    assert second.values.tolist() == [3.0, 0.0]
    assert second.timestamps.tolist() == [TS + 15_000, TS]
    small = LabelCache(max_entries=1)
    decode_write_v1(raw1, small)
    assert len(small) <= 1


def test_v1_many_series_and_samples_mixed_shapes() -> None:
    parts = []
    for i in range(300):
        lbls = [label("__name__", f"m{i % 7}"), label("i", str(i))]
        if i % 5 == 0:
            parts.append(series_v1(*lbls, *(sample(float(j), TS + j) for j in range(i % 40))))
        elif i % 5 == 1:
            parts.append(series_v1(sample(float(i), TS), *lbls))
        else:
            parts.append(series_v1(*lbls, sample(float(i) if i % 3 else None, TS + i)))
    raw = b"".join(parts)
    check_v1(raw)
    # the same request again, through a warm cache
    cache = LabelCache()
    decode_write_v1(raw, cache)
    assert view(decode_write_v1(raw, cache)) == ref_v1(raw)[:2]


def test_v1_one_very_long_series_among_short_ones() -> None:
    raw = b"".join(series_v1(label("i", str(i)), sample(1.0, TS)) for i in range(100))
    raw += series_v1(label("long", "1"), *(sample(float(j), TS + j) for j in range(2000)))
    check_v1(raw)


# --- bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xff\xff", "prometheus.WriteRequest"),
        (b"\x0a\x05abc", "prometheus.WriteRequest"),  # length past the end
        (series_v1(label(b"\xff\xfe", "v"), sample(1.0, TS)), "UTF-8"),
        (series_v1(label("n", b"caf\xe9"), sample(1.0, TS)), "UTF-8"),
        (series_v1(sample(1.0, TS), label("n", b"\xc3"), label("a", "b")), "UTF-8"),
        (f_len(3, f_len(4, b"\xff")), r"metadata\[0\]\.help is not valid UTF-8: b'\\xff'"),
        (series_v1(label("a", "b"), f_len(2, b"\x09\x00")), r"timeseries\[0\]"),  # truncated double
        (
            series_v1(label("a", "b"), sample(1.0, TS))
            + series_v1(label("a", "b"), b"\x12\x03\x10"),
            r"timeseries\[1\]",
        ),
    ],
)
def test_v1_bad_input(raw: bytes, message: str) -> None:
    for cache in (None, LabelCache()):
        with pytest.raises(DecodeError, match=message):
            decode_write_v1(raw, cache)


def test_v1_invalid_utf8_names_the_series() -> None:
    raw = series_v1(label("a", "ok"), sample(1.0, TS)) + series_v1(
        label("a", b"\xff"), sample(1.0, TS)
    )
    for cache in (None, LabelCache()):
        with pytest.raises(
            DecodeError, match=r"timeseries\[1\]: labels\[0\]\.value is not valid UTF-8: b'\\xff'"
        ):
            decode_write_v1(raw, cache)
    # the same where upb reads the whole series (labels after the sample)
    raw = series_v1(sample(1.0, TS), label("a", "ok"), label(b"\xc3", "v"))
    with pytest.raises(DecodeError, match=r"timeseries\[0\]: labels\[1\]\.name is not valid"):
        decode_write_v1(raw)


def test_v2_body_sent_as_v1_is_an_error() -> None:
    raw = v2_request(["", "a", "b"], v2_series([1, 2], sample(1.0, TS)))
    with pytest.raises(DecodeError, match=r"io\.prometheus\.write\.v2\.Request"):
        decode_write_v1(raw)


def test_other_message_sent_as_v1() -> None:
    # only unknown fields: not an empty WriteRequest but something else
    with pytest.raises(DecodeError, match="unknown field numbers"):
        decode_write_v1(f_varint(7, 1) + f_len(9, b"x"))
    # a ReadRequest is valid protobuf for WriteRequest's schema: protobuf rules
    # make its query an empty series, which yields no samples
    read = f_len(1, f_varint(1, 5) + f_varint(2, 10) + f_len(3, f_len(2, "job") + f_len(3, "x")))
    assert len(decode_write_v1(read)) == 0


def _truncations(raw: bytes, decode: Any, ref: Any) -> None:
    """Every prefix must decode as upb decodes it, or raise DecodeError."""
    for cut in range(len(raw) + 1):
        prefix = raw[:cut]
        try:
            want = ref(prefix)
        except (ProtobufDecodeError, RefError):
            want = None
        try:
            got = decode(prefix)
        except DecodeError:
            got = None
        if want is None:
            assert got is None, cut
        elif got is not None:
            assert got == want, cut


def test_v1_truncated_at_every_offset() -> None:
    raw = HAND_V1 + series_v1(label("b", "c"), sample(None, TS), sample(2.0, TS + 1))
    cache = LabelCache()
    decode_write_v1(raw, cache)

    def ours(b: bytes) -> Any:
        got = decode_write_v1_counted(b, cache)
        return (*view(got.batch), got.histograms, got.exemplars)

    _truncations(raw, ours, ref_v1)


# --- remote write 2.0 ------------------------------------------------------------------

SYMBOLS = ["", "__name__", "up", "job", "node", "Whether the target is up.", "seconds"]

# Request{symbols=SYMBOLS, timeseries=[{labels_refs=[1,2,3,4], samples=[{1.0, 1000}],
#                                       metadata={type=GAUGE, help_ref=5, unit_ref=6}}]}
HAND_V2 = (
    b"".join(f_len(4, s) for s in SYMBOLS)  # field 4 (symbols), one string each
    + bytes.fromhex(
        "2a1c"  # field 5 (timeseries), 28 bytes
        "0a0401020304"  # field 1 (labels_refs), packed: 1 2 3 4
        "120c"
        "09000000000000f03f"
        "10e807"  # field 2 (samples): 1.0 at 1000
        "2a06"
        "0802"
        "1805"
        "2006"  # field 5 (metadata): type 2, help_ref 5, unit_ref 6
    )
)


def test_v2_hand_built_bytes() -> None:
    got = check_v2(HAND_V2)
    assert got.batch.series == [(("__name__", "up"), ("job", "node"))]
    assert got.batch.values.tolist() == [1.0]
    assert got.batch.timestamps.tolist() == [1000]
    assert got.batch.metadata == [
        MetricMetadata("up", "gauge", "Whether the target is up.", "seconds")
    ]
    assert (got.histograms, got.exemplars) == (0, 0)
    # the hand-built bytes are what the canonical schema reads
    msg = protos.WriteV2Request.FromString(HAND_V2)
    assert list(msg.symbols) == SYMBOLS
    assert list(msg.timeseries[0].labels_refs) == [1, 2, 3, 4]
    assert msg.timeseries[0].metadata.help_ref == 5


S = ["", "__name__", "m", "a", "b", "c", "d"]

V2_CASES: list[tuple[str, bytes, list[Any], list[tuple[int, int, float]]]] = [
    (
        "plain",
        v2_request(S, v2_series([1, 2, 3, 4], sample(1.5, TS))),
        [(("__name__", "m"), ("a", "b"))],
        [(0, TS, 1.5)],
    ),
    (
        "metadata first, samples last",
        v2_request(S, v2_series([1, 2], v2_meta(1), sample(1.5, TS))),
        [(("__name__", "m"),)],
        [(0, TS, 1.5)],
    ),
    (
        "unpacked labels_refs (legal protobuf)",
        v2_request(S, f_len(5, f_varint(1, 1) + f_varint(1, 2) + sample(2.0, TS))),
        [(("__name__", "m"),)],
        [(0, TS, 2.0)],
    ),
    (
        "start_timestamp in a sample (field 3) is read past",
        v2_request(
            S, v2_series([1, 2], f_len(2, f_double(1, 1.0) + f_varint(2, TS) + f_varint(3, 5)))
        ),
        [(("__name__", "m"),)],
        [(0, TS, 1.0)],
    ),
    (
        "refs over 127 (2-byte varints)",
        v2_request(
            [*S, *(f"s{i}" for i in range(300))], v2_series([1, 2, 200, 306], sample(1.0, TS))
        ),
        [(("__name__", "m"), ("s193", "s299"))],
        [(0, TS, 1.0)],
    ),
    (
        "no labels_refs",
        v2_request(S, v2_series([], sample(1.0, TS))),
        [()],
        [(0, TS, 1.0)],
    ),
    (
        "an empty labels_refs record, then a series with refs",
        v2_request(
            S, f_len(5, f_len(1, b"") + sample(1.0, TS)), v2_series([3, 4], sample(2.0, TS))
        ),
        [(), (("a", "b"),)],
        [(0, TS, 1.0), (1, TS, 2.0)],
    ),
    (
        "two series, several samples",
        v2_request(
            S,
            v2_series([1, 2, 3, 4], sample(1.0, TS), sample(2.0, TS + 1)),
            v2_series([1, 2, 5, 6], sample(None, TS)),
        ),
        [(("__name__", "m"), ("a", "b")), (("__name__", "m"), ("c", "d"))],
        [(0, TS, 1.0), (0, TS + 1, 2.0), (1, TS, 0.0)],
    ),
    (
        "labels_refs listed twice are merged (protobuf appends repeated fields)",
        v2_request(S, f_len(5, f_len(1, b"\x01\x02") + sample(1.0, TS) + f_len(1, b"\x03\x04"))),
        [(("__name__", "m"), ("a", "b"))],
        [(0, TS, 1.0)],
    ),
    (
        "unknown top-level and series fields are skipped",
        f_varint(15, 3) + v2_request(S, v2_series([1, 2], f_len(9, b"zz"), sample(1.0, TS))),
        [(("__name__", "m"),)],
        [(0, TS, 1.0)],
    ),
]


@pytest.mark.parametrize(
    ("raw", "series", "rows"), [c[1:] for c in V2_CASES], ids=[c[0] for c in V2_CASES]
)
def test_v2_decode_cases(raw: bytes, series: list[Any], rows: list[tuple[int, int, float]]) -> None:
    got = check_v2(raw)
    assert got.batch.series == series
    assert view(got.batch)[1] == [(i, t, bits(v)) for i, t, v in rows]


def test_v2_metadata_is_deduplicated_and_named_after_the_series() -> None:
    sym = ["", "__name__", "http_requests_total", "code", "200", "500", "Requests.", "x"]
    raw = v2_request(
        sym,
        v2_series([1, 2, 3, 4], sample(1.0, TS), v2_meta(1, 6)),
        v2_series([1, 2, 3, 5], sample(2.0, TS), v2_meta(1, 6)),
        v2_series([3, 4], sample(2.0, TS), v2_meta(0)),  # unspecified: nothing to say
        v2_series([1, 7], sample(2.0, TS), v2_meta(2, 0, 4)),
    )
    got = check_v2(raw)
    assert got.batch.metadata == [
        MetricMetadata("http_requests_total", "counter", "Requests.", ""),
        MetricMetadata("x", "gauge", "", "200"),
    ]


def test_v2_histograms_and_exemplars_are_counted() -> None:
    histogram = f_len(3, f_varint(1, 3) + f_double(3, 2.5) + f_varint(15, TS))
    exemplar = f_len(4, f_len(1, b"\x03\x04") + f_double(2, 1.0) + f_varint(3, TS))
    raw = v2_request(
        S,
        v2_series([1, 2], histogram, histogram),
        v2_series([1, 2, 3, 4], sample(1.0, TS), exemplar),
    )
    got = check_v2(raw)
    assert (got.histograms, got.exemplars) == (2, 1)
    assert got.batch.series == [(("__name__", "m"), ("a", "b"))]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            v2_request(S, v2_series([1, 2], sample(1.0, TS)), v2_series([1, 99], sample(1.0, TS))),
            r"timeseries\[1\]: labels_refs points at symbol 99, but the symbols table has 7",
        ),
        (
            v2_request(S, v2_series([1, 2, 3], sample(1.0, TS))),
            r"timeseries\[0\]: labels_refs has odd length 3",
        ),
        (
            v2_request(
                S, f_len(5, f_varint(1, 1) + f_varint(1, 2) + f_varint(1, 3) + sample(1.0, TS))
            ),
            r"timeseries\[0\]: labels_refs has odd length 3",
        ),
        (
            v2_request(["x", "a"], v2_series([1, 1], sample(1.0, TS))),
            "must start with the empty string",
        ),
        (v2_request([], v2_series([], sample(1.0, TS))), "must start with the empty string"),
        (
            v2_request(S, v2_series([1, 2], sample(1.0, TS), v2_meta(1, 50))),
            r"timeseries\[0\]: metadata help_ref points at symbol 50",
        ),
        (
            v2_request(S, v2_series([1, 2], sample(1.0, TS), v2_meta(1, 0, 8))),
            r"timeseries\[0\]: metadata unit_ref points at symbol 8",
        ),
        (f_len(4, b"") + f_len(4, b"\xff\xfe"), r"symbols\[1\] is not valid UTF-8"),
        (
            v2_request(S) + f_len(5, f_len(1, b"\x81")),
            "timeseries\\[0\\]",
        ),  # truncated packed varint
        (b"\x2a\x10\x0a", "io.prometheus.write.v2.Request"),
    ],
)
def test_v2_bad_input(raw: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_write_v2(raw)


def test_v1_body_sent_as_v2_is_an_error() -> None:
    with pytest.raises(DecodeError, match=r"prometheus\.WriteRequest"):
        decode_write_v2(HAND_V1)


def test_other_message_sent_as_v2() -> None:
    with pytest.raises(DecodeError, match="unknown field numbers"):
        decode_write_v2(f_varint(7, 1))
    assert len(decode_write_v2(b"").batch) == 0
    assert len(decode_write_v2(f_len(4, b"")).batch) == 0  # symbols only: valid, empty


def test_v2_label_cache_survives_renumbered_symbols() -> None:
    # two requests with the same series but different symbol tables, as a 2.0
    # sender builds a new table per request
    first = v2_request(["", "__name__", "up", "job", "a"], v2_series([1, 2, 3, 4], sample(1.0, TS)))
    second = v2_request(
        ["", "job", "a", "x", "__name__", "up"],
        v2_series([3, 3], sample(5.0, TS)),
        v2_series([4, 5, 1, 2], sample(2.0, TS + 1)),
    )
    cache = LabelCache()
    one = decode_write_v2(first, cache).batch
    two = decode_write_v2(second, cache).batch
    assert two.series == [(("x", "x"),), (("__name__", "up"), ("job", "a"))]
    assert two.series[1] is one.series[0]
    assert view(two)[1] == [(0, TS, bits(5.0)), (1, TS + 1, bits(2.0))]
    small = LabelCache(max_entries=2)
    decode_write_v2(second, small)
    assert small.size() <= 2


def test_label_cache_shared_between_threads() -> None:
    # small enough to be cleared while other threads decode with it
    cache = LabelCache(max_entries=50)
    names = [f"n{i}" for i in range(40)]
    requests = []
    for r in range(8):
        sym = ["", "__name__", *names[r:], *names[:r]]  # the same strings, renumbered
        series = [
            v2_series([1, 2 + i, 2 + (i + r) % 40, 2 + (i * 7) % 40], sample(float(i), TS))
            for i in range(30)
        ]
        requests.append(v2_request(sym, *series))
    v1_requests = [
        series_v1(label("a", n), label("r", str(r)), sample(1.0, TS))
        for r in range(8)
        for n in names
    ]
    want2 = [ref_v2(raw)[:2] for raw in requests]
    want1 = [ref_v1(raw)[:2] for raw in v1_requests]
    errors: list[str] = []

    def work(k: int) -> None:
        for _ in range(20):
            for raw, want in zip(requests, want2, strict=True):
                if view(decode_write_v2(raw, cache).batch) != want:
                    errors.append(f"v2 thread {k}")
            for raw, want in zip(v1_requests[k::4], want1[k::4], strict=True):
                if view(decode_write_v1(raw, cache)) != want:
                    errors.append(f"v1 thread {k}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_v2_truncated_at_every_offset() -> None:
    raw = HAND_V2 + v2_series([1, 2], sample(None, TS), sample(3.0, TS + 1))

    def ours(b: bytes) -> Any:
        got = decode_write_v2(b)
        return (*view(got.batch), got.histograms, got.exemplars)

    _truncations(raw, ours, ref_v2)


# --- round trips ----------------------------------------------------------------------

names = st.text(st.characters(codec="utf-8"), max_size=12)
label_sets = st.lists(st.tuples(names, names), max_size=6).map(tuple)
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]),
)
int64s = st.integers(-(2**63), 2**63 - 1)


@st.composite
def batches(draw: st.DrawFn) -> SampleBatch:
    series = draw(st.lists(label_sets, min_size=0, max_size=8))
    rows = []
    for i in range(len(series)):
        for _ in range(draw(st.integers(1, 4))):
            rows.append((i, draw(int64s), draw(floats)))
    order = draw(st.permutations(range(len(rows))))
    rows = [rows[k] for k in order]
    return SampleBatch(
        series,
        np.asarray([r[0] for r in rows], np.int32),
        np.asarray([r[1] for r in rows], np.int64),
        np.asarray([r[2] for r in rows], np.float64),
    )


def grouped(batch: SampleBatch) -> tuple[list[Any], Rows]:
    order = np.argsort(batch.series_ref, kind="stable")
    vb = batch.values[order].view(np.uint64).tolist()
    return list(batch.series), list(
        zip(batch.series_ref[order].tolist(), batch.timestamps[order].tolist(), vb, strict=True)
    )


@settings(max_examples=200, deadline=None)
@given(batches())
def test_v1_round_trip(batch: SampleBatch) -> None:
    raw = encode_write_v1(batch)
    assert view(decode_write_v1(raw)) == grouped(batch)
    assert ref_v1(raw)[:2] == grouped(batch)
    cache = LabelCache()
    decode_write_v1(raw, cache)
    assert view(decode_write_v1(raw, cache)) == grouped(batch)


@settings(max_examples=200, deadline=None)
@given(batches())
def test_v2_round_trip(batch: SampleBatch) -> None:
    raw = encode_write_v2(batch)
    assert view(decode_write_v2(raw).batch) == grouped(batch)


def test_v2_round_trip_with_metadata() -> None:
    batch = SampleBatch.from_series([((("__name__", "up"), ("job", "a")), [(TS, 1.0)])])
    batch.metadata = [MetricMetadata("up", "gauge", "Is it up?", "")]
    got = decode_write_v2(encode_write_v2(batch)).batch
    assert got.series == batch.series
    assert got.metadata == batch.metadata


def test_encode_skips_series_without_samples() -> None:
    batch = SampleBatch.from_series([((("a", "1"),), []), ((("a", "2"),), [(5, 1.0)])])
    assert decode_write_v1(encode_write_v1(batch)).series == [(("a", "2"),)]
    assert decode_write_v2(encode_write_v2(batch)).batch.series == [(("a", "2"),)]


# --- fuzzing: only DecodeError may escape; successes match a full parse ------------

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_decode_write_v1(raw: bytes) -> None:
    _differential(raw, decode_v1_view, ref_v1)


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_decode_write_v2(raw: bytes) -> None:
    _differential(raw, decode_v2_view, ref_v2)


@FUZZ
@given(st.binary(max_size=300), st.integers(0, 1000))
def test_fuzz_decompress(body: bytes, limit: int) -> None:
    try:
        out = decompress(body, "snappy", limit)
    except DecodeError:
        return
    assert len(out) <= limit


def _mutate(raw: bytes, edits: list[tuple[int, int]]) -> bytes:
    b = bytearray(raw)
    for pos, byte in edits:
        if b:
            b[pos % len(b)] = byte
    return bytes(b)


MUTANTS_V1 = HAND_V1 + b"".join(c[1] for c in V1_CASES[:6])
MUTANTS_V2 = HAND_V2 + b"".join(c[1] for c in V2_CASES[:3])
edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4)


def decode_v1_view(raw: bytes) -> Any:
    got = decode_write_v1_counted(raw, _FUZZ_CACHE)
    return (*view(got.batch), got.histograms, got.exemplars)


def decode_v2_view(raw: bytes) -> Any:
    got = decode_write_v2(raw, _FUZZ_CACHE)
    return (*view(got.batch), got.histograms, got.exemplars)


_FUZZ_CACHE = LabelCache()
decode_v1_view(MUTANTS_V1)  # warm: mutants of these bytes also take the cached paths
decode_v2_view(MUTANTS_V2)


def _differential(raw: bytes, ours: Any, ref: Any) -> None:
    try:
        got = ours(raw)
    except DecodeError as exc:
        got, why = None, str(exc)
    try:
        want = ref(raw)
    except (ProtobufDecodeError, RefError):
        want = None
    if want is None:
        assert got is None
    elif got is None:
        # stricter than protobuf only where a wrong message type is recognised
        assert "looks like" in why or "unknown field numbers" in why, why
    else:
        assert got == want


@FUZZ
@given(edits)
def test_fuzz_mutated_v1(e: list[tuple[int, int]]) -> None:
    _differential(_mutate(MUTANTS_V1, e), decode_v1_view, ref_v1)


@FUZZ
@given(edits)
def test_fuzz_mutated_v2(e: list[tuple[int, int]]) -> None:
    _differential(_mutate(MUTANTS_V2, e), decode_v2_view, ref_v2)


# --- the real thing: bytes a real Prometheus sends ---------------------------------


@pytest.mark.peer
def test_real_prometheus_requests(tmp_path: Path) -> None:
    """Decode what Debian's Prometheus remote-writes, and compare with a full parse."""
    binary = require_peer("prometheus", "prometheus")
    bodies: list[tuple[str | None, str | None, bytes]] = []

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ctype, enc = self.headers.get("Content-Type"), self.headers.get("Content-Encoding")
            bodies.append((ctype, enc, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    sink = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    port = free_port()
    (tmp_path / "prometheus.yml").write_text(
        f"""
global: {{scrape_interval: 1s}}
scrape_configs:
  - job_name: prometheus
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
remote_write:
  - url: http://127.0.0.1:{sink.server_address[1]}/api/v1/write
    queue_config: {{batch_send_deadline: 1s}}
    metadata_config: {{send_interval: 1s}}
"""
    )
    with open(tmp_path / "prometheus.log", "wb") as log:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while not (
                sum(1 for *_, b in bodies if b) >= 4
                and any(decode_write_v1(decompress(b, e, 1 << 26)).metadata for _, e, b in bodies)
            ):
                assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()
                assert time.monotonic() < deadline, f"only {len(bodies)} requests arrived"
                time.sleep(0.5)
        finally:
            proc.terminate()
            proc.wait(30)
            sink.shutdown()
    cache = LabelCache()
    samples = 0
    for ctype, enc, body in bodies:
        assert negotiate_content_type(ctype) is WriteVersion.V1
        raw = decompress(body, enc, 1 << 26)
        want = ref_v1(raw)
        for _ in range(2):  # cold, then every label run from the cache
            got = decode_write_v1_counted(raw, cache)
            assert (*view(got.batch), got.histograms, got.exemplars) == want
        samples += len(got.batch)
    assert samples > 100
    metadata = [
        m for _, e, b in bodies for m in decode_write_v1(decompress(b, e, 1 << 26)).metadata
    ]
    assert (
        MetricMetadata("go_goroutines", "gauge", "Number of goroutines that currently exist.", "")
        in metadata
    )
