"""Prometheus remote write 1.0 and 2.0: content negotiation, snappy, protobuf.

Pure functions from request bytes to :class:`~kubesight.model.SampleBatch` and
back. The HTTP layer calls, in order::

    version = negotiate_content_type(headers.get("content-type"))
    raw = decompress(body, headers.get("content-encoding"), max_bytes)
    if version is WriteVersion.V1:
        batch = decode_write_v1(raw, cache)  # one LabelCache per receiver
    else:
        decoded = decode_write_v2(raw)  # .batch, .histograms, .exemplars

Errors (all :class:`~kubesight.errors.DecodeError`, so one ``except`` suffices)::

    DecodeError              malformed body (HTTP 400)
    ├── TooLargeError        declared decompressed size over the limit (HTTP 413)
    └── UnsupportedError     content type or encoding we do not accept (HTTP 415)

How decoding stays fast
-----------------------
Walking a parsed protobuf tree from Python costs a wrapper object per label and
per sample, several microseconds per series. Instead upb splits the request into
one ``bytes`` object per series (a *view* schema, see ``protos.py``), and the
fields inside every series are then located with numpy, all series in lockstep
(:mod:`kubesight.wire.pbscan`): round *k* reads the *k*-th field of every
series at once. Samples are decoded the same way. With a :class:`LabelCache` (one per receiver), a series seen
before costs one dictionary lookup: for 1.0 its label bytes are the key, and a
series shaped as Prometheus sends it (labels, then one sample) skips the field
walk entirely. Any series whose bytes are unusual (fields out of the usual
order, unpacked repeated fields, duplicate fields, histograms, exemplars,
malformed data, very many samples) is handed whole to upb instead, so the
result is always what a full protobuf parse would give; the tests check this
against upb on mutated requests.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import cramjam
import numpy as np
from google.protobuf import unknown_fields
from google.protobuf.message import DecodeError as ProtobufDecodeError
from numpy.lib.stride_tricks import as_strided

from kubesight.errors import DecodeError, UnsupportedError
from kubesight.model.labels import METRIC_NAME, Labels
from kubesight.model.samples import MetricMetadata, SampleBatch
from kubesight.wire import protos
from kubesight.wire.pbscan import (
    F64,
    I64,
    U8,
    WT_I64,
    WT_LEN,
    WT_VARINT,
    Bool,
    Records,
    concat,
    packed_varints,
    varint_size,
    walk,
)

__all__ = [
    "CONTENT_TYPE_V1",
    "CONTENT_TYPE_V2",
    "LabelCache",
    "TooLargeError",
    "WriteDecoded",
    "WriteV2Decoded",
    "WriteVersion",
    "decode_write_v1",
    "decode_write_v1_counted",
    "decode_write_v2",
    "decompress",
    "encode_write_v1",
    "encode_write_v2",
    "negotiate_content_type",
]


class TooLargeError(DecodeError):
    """The body would decompress to more bytes than the receiver accepts."""


# ---------------------------------------------------------------------------
# Content negotiation and decompression
# ---------------------------------------------------------------------------


class WriteVersion(enum.Enum):
    V1 = "prometheus.WriteRequest"
    V2 = "io.prometheus.write.v2.Request"


_MEDIA_TYPE = "application/x-protobuf"
CONTENT_TYPE_V1: Final = _MEDIA_TYPE
CONTENT_TYPE_V2: Final = f"{_MEDIA_TYPE};proto={WriteVersion.V2.value}"
_ACCEPTED = (
    f"accepted: {_MEDIA_TYPE!r}, '{_MEDIA_TYPE};proto={WriteVersion.V1.value}' "
    f"(remote write 1.0) or {CONTENT_TYPE_V2!r} (remote write 2.0)"
)


def negotiate_content_type(content_type: str | None) -> WriteVersion:
    """Which remote write message a request carries, from its Content-Type.

    Parsed as RFC 9110 says (the 2.0 spec requires it): the media type and
    parameter names are case-insensitive, whitespace may surround ``;``, and a
    parameter value may be a quoted string. ``proto`` names the message; without
    it the body is a 1.0 ``prometheus.WriteRequest``. Other parameters (e.g.
    ``charset``) are ignored. A missing header also means 1.0, as in
    Prometheus' own receiver, because early 1.0 senders did not always send it.
    """
    if content_type is None or not content_type.strip():
        return WriteVersion.V1
    media, _, params = content_type.partition(";")
    if media.strip().lower() != _MEDIA_TYPE:
        raise UnsupportedError(f"unsupported Content-Type {content_type!r}; {_ACCEPTED}")
    proto = _media_param(params, "proto", content_type)
    if proto is None or proto == WriteVersion.V1.value:
        return WriteVersion.V1
    if proto == WriteVersion.V2.value:
        return WriteVersion.V2
    raise UnsupportedError(f"unsupported protobuf message {proto!r} in Content-Type; {_ACCEPTED}")


def _media_param(params: str, wanted: str, header: str) -> str | None:
    found: str | None = None
    rest = params
    while rest.strip():
        part, rest = _split_param(rest)
        name, eq, value = part.partition("=")
        name = name.strip().lower()
        if not name and not eq:
            continue  # "a/b;" or "a/b; ;c=d": empty parameters are allowed
        if not eq or not name:
            raise UnsupportedError(
                f"malformed parameter {part.strip()!r} in Content-Type {header!r}; {_ACCEPTED}"
            )
        value = value.strip()
        if value.startswith('"'):
            if len(value) < 2 or not value.endswith('"'):
                raise UnsupportedError(
                    f"unterminated quoted value in Content-Type {header!r}; {_ACCEPTED}"
                )
            value = _unquote(value[1:-1])
        if name == wanted:
            found = value
    return found


def _split_param(s: str) -> tuple[str, str]:
    # A ';' inside a quoted string does not end the parameter.
    in_quotes = escaped = False
    for i, ch in enumerate(s):
        if escaped:
            escaped = False
        elif ch == "\\" and in_quotes:
            escaped = True
        elif ch == '"':
            in_quotes = not in_quotes
        elif ch == ";" and not in_quotes:
            return s[:i], s[i + 1 :]
    return s, ""


def _unquote(s: str) -> str:
    out: list[str] = []
    it = iter(s)
    for ch in it:
        out.append(next(it, "") if ch == "\\" else ch)
    return "".join(out)


def decompress(body: bytes, encoding: str | None, max_bytes: int) -> bytes:
    """Undo the Content-Encoding of a remote write (or read) body.

    Only snappy's *block* format exists in both specs, and it is the default
    when no encoding is given. The declared length (the varint preamble of the
    block format) is checked against ``max_bytes`` before any memory is
    allocated, so a small hostile body cannot make us allocate gigabytes.
    """
    enc = (encoding or "snappy").strip().lower()
    if enc != "snappy":
        raise UnsupportedError(
            f"unsupported Content-Encoding {encoding!r}; accepted: 'snappy' (block format)"
        )
    declared = _snappy_declared_length(body)
    if declared > max_bytes:
        raise TooLargeError(
            f"snappy body declares {declared} bytes uncompressed, over the limit of {max_bytes}"
        )
    try:
        out = cramjam.snappy.decompress_raw(body)
    except Exception as exc:  # cramjam raises its own DecompressionError or ValueError
        raise DecodeError(f"body is not valid snappy block-format data: {exc}") from exc
    data = bytes(out)
    if len(data) != declared:
        raise DecodeError(f"snappy body declares {declared} bytes but decompresses to {len(data)}")
    return data


def _snappy_declared_length(body: bytes) -> int:
    value = 0
    # 5 bytes: snappy's preamble is a varint of at most 32 bits.
    for i, byte in enumerate(body[:5]):
        value |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            return value
    if len(body) < 5:
        raise DecodeError(
            f"snappy body is truncated inside its length preamble ({len(body)} bytes)"
        )
    raise DecodeError("snappy body has an invalid length preamble (longer than 32 bits)")


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass
class WriteDecoded:
    """A decoded write request: float samples, and what was left out of them.

    The store does not take native histograms or exemplars yet; the counts let
    the HTTP layer report them as not written (2.0's ``*-Written`` headers).
    """

    batch: SampleBatch
    histograms: int = 0
    exemplars: int = 0


WriteV2Decoded = WriteDecoded


class LabelCache:
    """Label sets of recently seen series, keyed by their encoded bytes.

    A 1.0 sender repeats every series' labels byte for byte in every request,
    so a hit skips all string decoding and returns the very same tuple the
    store saw last time (2.0 gets the same through its symbols, see
    ``_v2_label_runs``). The caller owns one cache per receiver (wire code keeps
    no globals). When full it is simply emptied: a working set larger than
    ``max_entries`` then costs one cold request, not unbounded memory. An entry
    costs roughly its label bytes plus the tuple, about 0.3 KiB for 5 labels.
    Decodes in several threads may share one cache: every entry is a pure
    function of its key, so a race can only cost a repeated decode.
    """

    def __init__(self, max_entries: int = 1_000_000) -> None:
        self.max_entries = max_entries
        self.entries: dict[bytes, Labels] = {}
        # 2.0: symbol -> receiver-wide number, and series keyed by those numbers.
        # Numbers are never reused, not even after clear(), so a key made by a
        # concurrent decode can never name a different series.
        self.symbol_ids: dict[str, int] = {}
        self.symbol_counter = itertools.count()
        self.v2_entries: dict[bytes, Labels] = {}

    def __len__(self) -> int:
        return len(self.entries) + len(self.v2_entries)

    def size(self) -> int:
        """Entries of every kind, the figure ``max_entries`` bounds."""
        return len(self.entries) + len(self.v2_entries) + len(self.symbol_ids)

    def clear(self) -> None:
        self.entries.clear()
        self.symbol_ids.clear()
        self.v2_entries.clear()


# ---------------------------------------------------------------------------
# Samples
# ---------------------------------------------------------------------------

_U = np.uint64
_AR8 = np.arange(8, dtype=np.int64)  # byte offsets of a double's 8 bytes
# Sample timestamps of live data: 6-byte varints, decoded as 7-bit groups.
_TS_WEIGHTS = np.left_shift(1, 7 * np.arange(6, dtype=np.int64))


def _decode_samples(buf: U8, owner: I64, start: I64, end: I64, bad: Bool) -> tuple[I64, F64]:
    """Sample messages (value = 1 double, timestamp = 2 int64) at [start, end).

    Marks in ``bad`` the owners of samples that need upb (wrong wire types,
    repeated fields); their rows are garbage and are dropped by the caller.
    """
    n = len(start)
    ts = np.zeros(n, np.int64)
    vals = np.zeros(n, np.float64)
    if not n:
        return ts, vals
    # As live senders write them: "09 <double> 10 <6-byte varint>" (16 bytes),
    # or "10 <6-byte varint>" (7 bytes) when the value is 0.0, which proto3
    # omits; read as little-endian words of a 24-byte window, like _v1_hot.
    size = end - start
    windows = as_strided(buf, shape=(len(buf) - 23, 24), strides=(1, 1), writeable=False)
    w = windows[start]
    word = w.view("<u8")  # little-endian words whatever the CPU
    full = (size == 16) & ((word[:, 0] & _U(0xFF)) == _U(0x09))
    full &= (word[:, 1] & _U(0x808080808080FF00)) == _U(0x0080808080801000)
    zero = (size == 7) & ((word[:, 0] & _U(0x00808080808080FF)) == _U(0x0000808080808010))
    if full.all():
        vals = w[:, 1:9].copy().view("<f8").ravel()
        ts = (w[:, 10:16] & 0x7F).astype(np.int64) @ _TS_WEIGHTS
        return ts, vals
    i = np.flatnonzero(full)
    vals[i] = w[i, 1:9].copy().view("<f8").ravel()
    ts[i] = (w[i, 10:16] & 0x7F).astype(np.int64) @ _TS_WEIGHTS
    i = np.flatnonzero(zero)
    ts[i] = (w[i, 1:7] & 0x7F).astype(np.int64) @ _TS_WEIGHTS
    fast = full | zero
    if fast.all():
        return ts, vals
    other = np.flatnonzero(~fast)
    rec = walk(buf, start[other], end[other], limit_rounds=False)
    if rec.bad.any():
        bad[owner[other[rec.bad]]] = True
    m = len(other)
    is_v = rec.field == 1
    is_t = rec.field == 2
    wrong = (is_v & (rec.wire_type != WT_I64)) | (is_t & (rec.wire_type != WT_VARINT))
    twice = (np.bincount(rec.owner[is_v], minlength=m) > 1) | (
        np.bincount(rec.owner[is_t], minlength=m) > 1
    )
    if wrong.any() or twice.any():
        bad[owner[other[rec.owner[wrong]]]] = True
        bad[owner[other[twice]]] = True
    iv = np.flatnonzero(is_v & ~wrong)
    if iv.size:
        raw = buf[rec.start[iv, None] + _AR8]
        vals[other[rec.owner[iv]]] = raw.view("<f8").ravel()
    it = np.flatnonzero(is_t & ~wrong)
    if it.size:
        ts[other[rec.owner[it]]] = rec.value[it].view(np.int64)
    return ts, vals


# ---------------------------------------------------------------------------
# Assembly shared by 1.0 and 2.0
# ---------------------------------------------------------------------------


def _assemble(
    nseries: int,
    labels: list[Labels | None],
    owner: I64,
    ts: I64,
    vals: F64,
    metadata: list[MetricMetadata],
) -> SampleBatch:
    """The batch from rows already ordered by series (request order)."""
    # Series without float samples (histogram-only, or empty) are left out, so
    # the store never creates a series for data it did not take.
    has = np.zeros(nseries, np.bool_)
    has[owner] = True
    if has.all():
        return SampleBatch(labels, owner.astype(np.int32), ts, vals, metadata)  # type: ignore[arg-type]
    remap = np.cumsum(has) - 1
    series = [labels[i] for i in np.flatnonzero(has).tolist()]
    return SampleBatch(series, remap[owner].astype(np.int32), ts, vals, metadata)  # type: ignore[arg-type]


def _parse(cls: Any, raw: bytes, what: str, canonical: Any = None) -> Any:
    """``cls.FromString``, with upb's error turned into one that says where.

    ``canonical`` is the real message a view class reads, used to name the
    field that holds invalid UTF-8 (upb only says the wire format is corrupt).
    """
    try:
        return cls.FromString(raw)
    except ProtobufDecodeError as exc:
        bad_utf8 = protos.utf8_error(canonical or cls, raw)
        detail = bad_utf8 or f"malformed protobuf ({exc})"
        raise DecodeError(f"{what}: {detail}") from exc


def _unknown_top_level(msg: Any) -> list[int]:
    fields = unknown_fields.UnknownFieldSet(msg)
    return sorted({fields[i].field_number for i in range(len(fields))})


_V1_METRIC_TYPES = {
    0: "unknown",
    1: "counter",
    2: "gauge",
    3: "histogram",
    4: "gaugehistogram",
    5: "summary",
    6: "info",
    7: "stateset",
}
_TYPE_NUMBERS = {v: k for k, v in _V1_METRIC_TYPES.items()}


# ---------------------------------------------------------------------------
# Remote write 1.0
# ---------------------------------------------------------------------------


def decode_write_v1(raw: bytes, cache: LabelCache | None = None) -> SampleBatch:
    """Decode an uncompressed ``prometheus.WriteRequest``.

    Label sets come back as sent (unsorted, unvalidated). ``cache`` maps the
    encoded labels of series seen before to their tuples; pass the same cache
    for every request of a receiver.
    """
    return decode_write_v1_counted(raw, cache).batch


def decode_write_v1_counted(raw: bytes, cache: LabelCache | None = None) -> WriteDecoded:
    """:func:`decode_write_v1`, plus the histogram and exemplar counts it skipped."""
    req = _parse(
        protos.SplitWriteRequest,
        raw,
        "remote write 1.0 body (prometheus.WriteRequest)",
        protos.WriteRequest,
    )
    chunks = req.timeseries
    if req.v2_symbols or req.v2_timeseries:
        raise DecodeError(
            "body looks like a remote write 2.0 io.prometheus.write.v2.Request but was sent as "
            f"prometheus.WriteRequest; send Content-Type: {CONTENT_TYPE_V2}"
        )
    if not chunks and not req.metadata and raw:
        unknown = _unknown_top_level(req)
        if unknown:
            raise DecodeError(
                "body is not a prometheus.WriteRequest: it has no timeseries and only "
                f"unknown field numbers {unknown}"
            )
    metadata = [_v1_metadata(m) for m in req.metadata]
    n = len(chunks)
    if not n:
        empty = SampleBatch.empty()
        empty.metadata = metadata
        return WriteDecoded(empty)
    entries: dict[bytes, Labels] = cache.entries if cache is not None else {}
    labels: list[Labels | None] = [None] * n
    blob, buf, starts, ends = concat(chunks)
    if entries:
        hit, hit_labels, hit_ts, hit_vals = _v1_hot(blob, buf, starts, ends, entries)
    else:
        hit, hit_labels = np.empty(0, np.int64), []
        hit_ts, hit_vals = np.empty(0, np.int64), np.empty(0, np.float64)
    if len(hit) == n:
        return WriteDecoded(
            SampleBatch(hit_labels, np.arange(n, dtype=np.int32), hit_ts, hit_vals, metadata)
        )
    for i, lbl in zip(hit.tolist(), hit_labels, strict=True):
        labels[i] = lbl
    if len(hit):
        rest = np.ones(n, np.bool_)
        rest[hit] = False
        rest_idx = np.flatnonzero(rest)
        sub = [chunks[i] for i in rest_idx.tolist()]
        blob, buf, starts, ends = concat(sub)
    else:
        rest_idx = np.arange(n)
        sub = chunks
    part = _v1_general(sub, blob, buf, starts, ends, entries, rest_idx)
    if cache is not None and cache.size() > cache.max_entries:
        cache.clear()
    for i, got in zip(rest_idx.tolist(), part.labels, strict=True):
        labels[i] = got
    owner = rest_idx[part.owner]
    ts, vals = part.ts, part.vals
    if len(hit):
        owner = np.concatenate([hit, owner])
        order = np.argsort(owner, kind="stable")
        owner = owner[order]
        ts = np.concatenate([hit_ts, ts])[order]
        vals = np.concatenate([hit_vals, vals])[order]
    batch = _assemble(n, labels, owner, ts, vals, metadata)
    return WriteDecoded(batch, part.histograms, part.exemplars)


# A series as Prometheus sends it: its labels, then one sample whose timestamp,
# milliseconds since 1970, takes a 6-byte varint (2^35..2^42 ms: 1971 to 2109).
# "12 10 | 09 <8-byte double> | 10 <6-byte varint>" and, for the value 0.0 that
# proto3 leaves out, "12 07 | 10 <6-byte varint>". The checks below read the
# last 18 bytes of every series as three little-endian uint64 words (the window
# is 24 bytes wide; pbscan.PAD keeps it inside the buffer).
_TAIL = 18
_TAIL_ZERO = 9
_TS_MASK, _TS_WANT = _U(0x80808080FF000000), _U(0x8080808010000000)  # word 1: 10, 4 varint bytes
_TS_END_MASK, _TS_END_WANT = _U(0x8080), _U(0x0080)  # word 2: 5th byte continues, 6th ends
_FULL_MASK, _FULL_WANT = _U(0xFFFFFF), _U(0x091012)  # word 0: 12 10 09
_ZERO_MASK, _ZERO_WANT = _U(0xFFFF00), _U(0x071200)  # word 1: 12 07 (then 10)


def _v1_hot(
    blob: bytes, buf: U8, starts: I64, ends: I64, entries: dict[bytes, Labels]
) -> tuple[I64, list[Labels], I64, F64]:
    """Series whose bytes are a cached label run followed by one plain sample.

    The cache only ever holds byte runs that were parsed as complete label
    records, so when the bytes before a well-formed sample tail are a key, the
    series can only parse as those labels plus that sample: no field walk needed.
    """
    size = ends - starts
    windows = as_strided(buf, shape=(len(buf) - 23, 24), strides=(1, 1), writeable=False)
    w = windows[np.maximum(ends - _TAIL, 0)]
    word = w.view("<u8")  # little-endian words whatever the CPU
    ts_ok = ((word[:, 1] & _TS_MASK) == _TS_WANT) & ((word[:, 2] & _TS_END_MASK) == _TS_END_WANT)
    full = ts_ok & ((word[:, 0] & _FULL_MASK) == _FULL_WANT) & (size >= _TAIL)
    zero = ts_ok & ((word[:, 1] & _ZERO_MASK) == _ZERO_WANT) & ~full & (size >= _TAIL_ZERO)
    cut = np.where(full, ends - _TAIL, ends - _TAIL_ZERO)
    cand = np.flatnonzero(full | zero)
    get = entries.get
    found = [get(blob[a:b]) for a, b in zip(starts[cand].tolist(), cut[cand].tolist(), strict=True)]
    hit_labels: list[Labels]
    if None in found:
        hit = cand[np.asarray([f is not None for f in found], np.bool_)]
        hit_labels = [f for f in found if f is not None]
    else:
        hit = cand
        hit_labels = found  # type: ignore[assignment]
    wh = w[hit]
    vals = wh[:, 3:11].copy().view("<f8").ravel()
    vals[zero[hit]] = 0.0
    ts = (wh[:, 12:18] & 0x7F).astype(np.int64) @ _TS_WEIGHTS
    return hit, hit_labels, ts, vals


@dataclass
class _Part:
    """Decoded series with local indices: labels per series, rows per sample."""

    labels: list[Labels | None]
    owner: I64
    ts: I64
    vals: F64
    histograms: int
    exemplars: int


def _v1_general(
    chunks: Sequence[bytes],
    blob: bytes,
    buf: U8,
    starts: I64,
    ends: I64,
    entries: dict[bytes, Labels],
    index: I64,
) -> _Part:
    """Decode series of any shape: numpy field walk, upb for the unusual ones.

    ``index`` maps local series numbers to the request's, for error messages.
    """
    n = len(chunks)
    rec = walk(buf, starts, ends)
    bad = rec.bad
    is_label = rec.field == 1
    # Known fields with a wrong wire type are skipped by protobuf as unknown; upb
    # gets those series so the result matches it exactly.
    # Exemplars and histograms go there too, so they are checked (and counted)
    # exactly as a full parse would; they are rare next to float samples.
    f = rec.field
    rare = ((f >= 1) & (f <= 4) & (rec.wire_type != WT_LEN)) | (f == 3) | (f == 4)
    if rare.any():
        bad[rec.owner[rare]] = True

    # Labels must form one contiguous run per series to be keyed by their bytes.
    # Records are ordered by series and position, so the first and last label
    # record of a series bound its run.
    lo = starts.copy()
    hi = starts.copy()
    li = np.flatnonzero(is_label)
    nlab = np.bincount(rec.owner[li], minlength=n)
    if li.size:
        lown = rec.owner[li]
        head = rec.start[li] - 1 - varint_size(rec.end[li] - rec.start[li])
        first = np.ones(li.size, np.bool_)
        first[1:] = lown[1:] != lown[:-1]
        last = np.ones(li.size, np.bool_)
        last[:-1] = first[1:]
        lo[lown[first]] = head[first]
        hi[lown[last]] = rec.end[li][last]
        span = np.bincount(lown, weights=rec.end[li] - head, minlength=n).astype(np.int64)
        bad |= (nlab > 0) & (span != hi - lo)
    si = np.flatnonzero(rec.field == 2)
    s_owner = rec.owner[si]
    ts, vals = _decode_samples(buf, s_owner, rec.start[si], rec.end[si], bad)
    hist = exem = 0
    labels: list[Labels | None] = [None] * n
    bad_idx = np.flatnonzero(bad).tolist()
    if bad_idx:
        ok = ~bad[s_owner]
        s_owner, ts, vals = s_owner[ok], ts[ok], vals[ok]

    good = np.flatnonzero(~bad)
    get = entries.get
    keys = [blob[a:b] for a, b in zip(lo[good].tolist(), hi[good].tolist(), strict=True)]
    found = [get(k) for k in keys]
    miss = [j for j, lbl in enumerate(found) if lbl is None]
    if miss:
        _fill_misses(keys, found, miss, nlab[good], entries, index[good])
    for j, i in enumerate(good.tolist()):
        labels[i] = found[j]  # every miss was filled above

    if bad_idx:
        slow_owner: list[int] = []
        slow_ts: list[int] = []
        slow_vals: list[float] = []
        for i in bad_idx:
            s = _parse(protos.TimeSeries, chunks[i], f"timeseries[{int(index[i])}]")
            labels[i] = tuple((lb.name, lb.value) for lb in s.labels)
            samples = s.samples
            slow_owner.extend([i] * len(samples))
            slow_ts.extend([x.timestamp for x in samples])
            slow_vals.extend([x.value for x in samples])
            hist += len(s.histograms)
            exem += len(s.exemplars)
        s_owner, ts, vals = _merge_rows(s_owner, ts, vals, slow_owner, slow_ts, slow_vals)
    return _Part(labels, s_owner, ts, vals, hist, exem)


def _merge_rows(
    owner: I64, ts: I64, vals: F64, o2: list[int], t2: list[int], v2: list[float]
) -> tuple[I64, I64, F64]:
    all_owner = np.concatenate([owner, np.asarray(o2, np.int64)])
    order = np.argsort(all_owner, kind="stable")
    return (
        all_owner[order],
        np.concatenate([ts, np.asarray(t2, np.int64)])[order],
        np.concatenate([vals, np.asarray(v2, np.float64)])[order],
    )


def _fill_misses(
    keys: list[bytes],
    found: list[Labels | None],
    miss: list[int],
    nlab: I64,
    entries: dict[bytes, Labels],
    good: I64,
) -> None:
    """Decode the label runs not in the cache, all with one upb parse."""
    miss_keys = [keys[j] for j in miss]
    try:
        cols = protos.MergedLabels.FromString(b"".join(miss_keys)).labels
    except ProtobufDecodeError:
        cols = None
    counts = nlab[miss]
    if cols is not None and len(cols.name) == len(cols.value) == int(counts.sum()):
        # one tuple of all pairs; each run is a slice of it, hence a tuple too
        pairs = tuple(zip(cols.name, cols.value, strict=True))
        bounds = np.zeros(len(miss) + 1, np.int64)
        np.cumsum(counts, out=bounds[1:])
        b = bounds.tolist()
        runs: list[Labels] = list(map(pairs.__getitem__, map(slice, b[:-1], b[1:])))
        entries.update(zip(miss_keys, runs, strict=True))
        for j, run in zip(miss, runs, strict=True):
            found[j] = run
        return
    # An empty name or value (omitted by proto3) misaligns the columns, and a
    # parse error needs the series it came from: decode each run by itself.
    for j in miss:
        msg = _parse(protos.Labels, keys[j], f"timeseries[{int(good[j])}]")
        found[j] = entries[keys[j]] = tuple((lb.name, lb.value) for lb in msg.labels)


def _v1_metadata(m: Any) -> MetricMetadata:
    return MetricMetadata(
        m.metric_family_name, _V1_METRIC_TYPES.get(m.type, "unknown"), m.help, m.unit
    )


def encode_write_v1(batch: SampleBatch) -> bytes:
    """Encode a batch as an uncompressed ``prometheus.WriteRequest``.

    Samples are grouped per series in their batch order (so per-series time
    order is kept); a label set listed twice in ``batch.series`` is sent as two
    TimeSeries, as given, and a series without samples is not sent.
    """
    order, bounds = _series_rows(batch)
    records, offs = protos.encode_sample_records(batch.timestamps[order], batch.values[order])
    memo: dict[tuple[str, str], bytes] = {}
    parts: list[bytes] = []
    add = parts.extend
    run, varint = protos.encode_label_run, protos.encode_varint
    for lbls, a, b in zip(batch.series, bounds[:-1], bounds[1:], strict=True):
        if a == b:
            continue
        labels = run(lbls, memo)
        # series record: tag 1 (LEN), length, labels, samples; joined once at the end
        add((b"\x0a", varint(len(labels) + offs[b] - offs[a]), labels, records[offs[a] : offs[b]]))
    for m in batch.metadata:
        meta = protos.MetricMetadata(
            type=_TYPE_NUMBERS.get(m.type, 0),
            metric_family_name=m.metric_family,
            help=m.help,
            unit=m.unit,
        )
        parts.append(protos.len_field(0x1A, meta.SerializeToString()))
    return b"".join(parts)


def _series_rows(batch: SampleBatch) -> tuple[I64, list[int]]:
    """Row order grouping samples by series (stable), and each series' row bounds."""
    order = np.argsort(batch.series_ref, kind="stable")
    bounds = np.searchsorted(batch.series_ref[order], np.arange(len(batch.series) + 1))
    return order, bounds.tolist()


# ---------------------------------------------------------------------------
# Remote write 2.0
# ---------------------------------------------------------------------------


def decode_write_v2(raw: bytes, cache: LabelCache | None = None) -> WriteDecoded:
    """Decode an uncompressed ``io.prometheus.write.v2.Request``.

    Label and metadata strings are resolved through the symbols table. Series
    metadata becomes one :class:`MetricMetadata` per distinct (metric name,
    type, help, unit), named after the series' ``__name__``. ``cache``, as for
    :func:`decode_write_v1`, returns the label tuples of series seen before.
    """
    req = _parse(
        protos.SplitWriteV2Request,
        raw,
        "remote write 2.0 body (io.prometheus.write.v2.Request)",
        protos.WriteV2Request,
    )
    if req.v1_timeseries or req.v1_metadata:
        raise DecodeError(
            "body looks like a remote write 1.0 prometheus.WriteRequest but was sent as "
            f"io.prometheus.write.v2.Request; send Content-Type: {CONTENT_TYPE_V1}"
        )
    symbols: list[str] = list(req.symbols)
    chunks = req.timeseries
    n = len(chunks)
    if not n:
        if raw and not symbols:
            unknown = _unknown_top_level(req)
            if unknown:
                raise DecodeError(
                    "body is not an io.prometheus.write.v2.Request: it has no timeseries and "
                    f"only unknown field numbers {unknown}"
                )
        return WriteDecoded(SampleBatch.empty())
    if not symbols or symbols[0] != "":
        raise DecodeError(
            "remote write 2.0 symbols table must start with the empty string "
            f"(got {symbols[0] if symbols else 'no symbols'!r})"
        )
    nsym = len(symbols)
    _, buf, starts, ends = concat(chunks)
    rec = walk(buf, starts, ends)
    bad = rec.bad
    f = rec.field
    # Series that go to upb: known fields with an unexpected wire type (this
    # includes unpacked labels_refs), histograms and exemplars (so they are
    # checked exactly as a full parse would), and a repeated labels_refs or
    # metadata record (merge semantics). All are rare in practice.
    rare = ((f >= 1) & (f <= 5) & (rec.wire_type != WT_LEN)) | (f == 3) | (f == 4)
    if rare.any():
        bad[rec.owner[rare]] = True
    bad |= np.bincount(rec.owner[f == 1], minlength=n) > 1
    bad |= np.bincount(rec.owner[f == 5], minlength=n) > 1

    si = np.flatnonzero(f == 2)
    s_owner = rec.owner[si]
    ts, vals = _decode_samples(buf, s_owner, rec.start[si], rec.end[si], bad)
    meta_owner, meta_cols = _v2_metadata_cols(buf, rec, bad)

    # labels_refs: packed varints; a byte below 0x80 ends a varint.
    while True:
        ri = np.flatnonzero((f == 1) & ~bad[rec.owner])
        r_owner = rec.owner[ri]
        refs, per_run, broken_runs = packed_varints(buf, rec.start[ri], rec.end[ri])
        if not broken_runs.size:
            break
        bad[r_owner[broken_runs]] = True
    nlab2 = np.zeros(n, np.int64)
    nlab2[r_owner] = per_run
    _check_refs(refs, per_run, r_owner, nsym)

    if bad.any():
        ok = ~bad[s_owner]
        s_owner, ts, vals = s_owner[ok], ts[ok], vals[ok]
    good_owner = np.flatnonzero(~bad)
    hist = exem = 0

    runs = _v2_label_runs(refs, nlab2[good_owner], symbols, cache)
    labels: list[Labels | None]
    if len(good_owner) == n:
        labels = cast("list[Labels | None]", runs)
    else:
        labels = [None] * n
        for i, run in zip(good_owner.tolist(), runs, strict=True):
            labels[i] = run

    keep_meta = ~bad[meta_owner]
    metadata = _v2_metadata(meta_owner[keep_meta], meta_cols[:, keep_meta], labels, symbols)

    slow_owner: list[int] = []
    slow_ts: list[int] = []
    slow_vals: list[float] = []
    slow_meta: list[MetricMetadata] = []
    for i in np.flatnonzero(bad).tolist():
        s = _parse(protos.WriteV2TimeSeries, chunks[i], f"timeseries[{i}]")
        lbl = labels[i] = _resolve_refs(list(s.labels_refs), symbols, i)
        samples = s.samples
        slow_owner.extend([i] * len(samples))
        slow_ts.extend([x.timestamp for x in samples])
        slow_vals.extend([x.value for x in samples])
        hist += len(s.histograms)
        exem += len(s.exemplars)
        if s.HasField("metadata"):
            md = s.metadata
            help_ = _sym(symbols, md.help_ref, i, "help_ref")
            m = _meta(lbl, md.type, help_, _sym(symbols, md.unit_ref, i, "unit_ref"))
            if m is not None:
                slow_meta.append(m)
    if slow_owner:
        s_owner, ts, vals = _merge_rows(s_owner, ts, vals, slow_owner, slow_ts, slow_vals)
    if slow_meta:
        metadata = _dedupe(metadata + slow_meta)
    batch = _assemble(n, labels, s_owner, ts, vals, metadata)
    return WriteDecoded(batch, hist, exem)


def _v2_label_runs(
    refs: I64, nrefs: I64, symbols: list[str], cache: LabelCache | None
) -> list[Labels]:
    """Label tuples of series whose refs are ``refs``, ``nrefs`` refs each.

    Symbol numbers are private to a request, so the cache maps each symbol to
    a receiver-wide number first; a series' tuple of those numbers is then as
    stable a key as 1.0's label bytes.
    """
    bounds = np.zeros(len(nrefs) + 1, np.int64)
    np.cumsum(nrefs, out=bounds[1:])
    if cache is None:
        pairs = _label_pairs(refs, symbols)
        b = (bounds // 2).tolist()
        return list(map(pairs.__getitem__, map(slice, b[:-1], b[1:])))
    ids = cache.symbol_ids
    nums = list(map(ids.get, symbols))
    if None in nums:
        for k, v in enumerate(nums):
            if v is None:
                nums[k] = ids.setdefault(symbols[k], next(cache.symbol_counter))
    blob = np.asarray(nums, np.uint64)[refs].tobytes()
    b = (bounds * 8).tolist()  # 8 bytes per uint64
    keys = [blob[x:y] for x, y in itertools.pairwise(b)]
    entries = cache.v2_entries
    found = list(map(entries.get, keys))
    if None not in found:
        return found  # type: ignore[return-value]
    miss = [j for j, f in enumerate(found) if f is None]
    take = np.zeros(len(nrefs), np.bool_)
    take[miss] = True
    pairs = _label_pairs(refs[np.repeat(take, nrefs)], symbols)
    mb = np.zeros(len(miss) + 1, np.int64)
    np.cumsum(nrefs[miss] // 2, out=mb[1:])
    m = mb.tolist()
    for j, x, y in zip(miss, m[:-1], m[1:], strict=True):
        found[j] = entries[keys[j]] = pairs[x:y]
    if cache.size() > cache.max_entries:
        cache.clear()
    return found  # type: ignore[return-value]


def _label_pairs(refs: I64, symbols: list[str]) -> tuple[tuple[str, str], ...]:
    """The (name, value) pair of every even/odd ref, one tuple per distinct pair.

    Series of one request share most pairs (``job``, ``instance``, ...), and a
    tuple made once and referenced many times is far cheaper than a fresh one
    per label: allocation and the garbage collector's bookkeeping dominate.
    """
    if not len(refs):
        return ()
    nsym = len(symbols)
    code = refs[0::2] * nsym + refs[1::2]
    if nsym * nsym <= _DENSE_PAIRS:
        # every pair points at the last occurrence of its code; those are distinct
        table = np.empty(nsym * nsym, np.int64)
        pos = np.arange(len(code))
        table[code] = pos
        rep = table[code]
        first = np.flatnonzero(rep == pos)
        local = np.empty(len(code), np.int64)
        local[first] = np.arange(len(first))
        inverse = local[rep]
        uniq = code[first]
    else:
        uniq, inverse = np.unique(code, return_inverse=True)
    get = symbols.__getitem__
    distinct = list(
        zip(map(get, (uniq // nsym).tolist()), map(get, (uniq % nsym).tolist()), strict=True)
    )
    # a tuple, so that each series' slice of it is already its label tuple
    return tuple(map(distinct.__getitem__, inverse.tolist()))


# Up to 2048 symbols a lookup table (32 MiB at most) beats sorting the pairs.
_DENSE_PAIRS = 1 << 22


def _check_refs(refs: I64, per_run: I64, r_owner: I64, nsym: int) -> None:
    odd = np.flatnonzero(per_run % 2)
    if odd.size:
        i = int(r_owner[odd[0]])
        raise DecodeError(
            f"timeseries[{i}]: labels_refs has odd length {int(per_run[odd[0]])}; "
            "it must hold name/value pairs"
        )
    out = np.flatnonzero((refs < 0) | (refs >= nsym))
    if out.size:
        run = int(np.searchsorted(np.cumsum(per_run), out[0], side="right"))
        i = int(r_owner[run])
        raise DecodeError(
            f"timeseries[{i}]: labels_refs points at symbol {int(refs[out[0]])}, "
            f"but the symbols table has {nsym} entries"
        )


def _resolve_refs(refs: list[int], symbols: list[str], i: int) -> Labels:
    if len(refs) % 2:
        raise DecodeError(
            f"timeseries[{i}]: labels_refs has odd length {len(refs)}; it must hold name/value pairs"
        )
    for r in refs:
        if r >= len(symbols):
            raise DecodeError(
                f"timeseries[{i}]: labels_refs points at symbol {r}, "
                f"but the symbols table has {len(symbols)} entries"
            )
    strings = [symbols[r] for r in refs]
    return tuple(zip(strings[0::2], strings[1::2], strict=True))


def _sym(symbols: list[str], ref: int, i: int, what: str) -> str:
    if ref >= len(symbols):
        raise DecodeError(
            f"timeseries[{i}]: metadata {what} points at symbol {ref}, "
            f"but the symbols table has {len(symbols)} entries"
        )
    return symbols[ref]


def _meta(labels: Labels, mtype: int, help_: str, unit: str) -> MetricMetadata | None:
    if not mtype and not help_ and not unit:
        return None
    name = next((v for k, v in labels if k == METRIC_NAME), "")
    return MetricMetadata(name, _V1_METRIC_TYPES.get(mtype, "unknown"), help_, unit)


def _dedupe(items: Iterable[MetricMetadata]) -> list[MetricMetadata]:
    return list(dict.fromkeys(items))


def _v2_metadata_cols(buf: U8, rec: Records, bad: Bool) -> tuple[I64, I64]:
    """Owner and (type, help_ref, unit_ref) columns of each series' metadata.

    Series whose metadata is not plain varint fields are marked for upb.
    """
    mi = np.flatnonzero((rec.field == 5) & ~bad[rec.owner])
    owner = rec.owner[mi]
    cols = np.zeros((3, len(mi)), np.int64)
    if not mi.size:
        return owner, cols
    sub = walk(buf, rec.start[mi], rec.end[mi], limit_rounds=False)
    known = (sub.field == 1) | (sub.field == 3) | (sub.field == 4)
    odd = sub.bad.copy()
    odd[sub.owner[known & (sub.wire_type != WT_VARINT)]] = True
    odd[sub.owner[(sub.field == 1) & (sub.value > np.uint64(0x7FFFFFFF))]] = True
    for row, fnum in enumerate((1, 3, 4)):
        m = (sub.field == fnum) & (sub.wire_type == WT_VARINT)
        odd |= np.bincount(sub.owner[m], minlength=len(mi)) > 1
        # uint32 refs keep the low 32 bits, as protobuf does
        cols[row, sub.owner[m]] = (sub.value[m] & np.uint64(0xFFFFFFFF)).astype(np.int64)
    if odd.any():
        bad[owner[odd]] = True
    return owner, cols


def _v2_metadata(
    owner: I64, cols: I64, labels: list[Labels | None], symbols: list[str]
) -> list[MetricMetadata]:
    nsym = len(symbols)
    out_of_range = np.flatnonzero((cols[1] >= nsym) | (cols[2] >= nsym))
    if out_of_range.size:
        j = int(out_of_range[0])
        what, ref = ("help_ref", cols[1, j]) if cols[1, j] >= nsym else ("unit_ref", cols[2, j])
        raise DecodeError(
            f"timeseries[{int(owner[j])}]: metadata {what} points at symbol {int(ref)}, "
            f"but the symbols table has {nsym} entries"
        )
    meaningful = np.flatnonzero(cols.any(axis=0))
    if not meaningful.size:
        return []
    # One entry per distinct (metric name, type, help, unit); the integer triple
    # stands in for the strings until the end, so duplicates cost little.
    seen: dict[tuple[str, int, int, int], None] = {}
    triples = cols[:, meaningful].T.tolist()
    for i, (t, h, u) in zip(owner[meaningful].tolist(), triples, strict=True):
        seen.setdefault((_name_value(labels[i]), t, h, u), None)
    return [
        MetricMetadata(name, _V1_METRIC_TYPES.get(t, "unknown"), symbols[h], symbols[u])
        for name, t, h, u in seen
    ]


def _name_value(labels: Labels | None) -> str:
    for k, v in labels or ():
        if k == METRIC_NAME:
            return v
    return ""


def encode_write_v2(batch: SampleBatch) -> bytes:
    """Encode a batch as an uncompressed ``io.prometheus.write.v2.Request``.

    Metadata whose ``metric_family`` equals a series' metric name is attached
    to that series (2.0 has no request-level metadata).
    """
    symbols: dict[str, int] = {"": 0}
    varints: dict[int, bytes] = {}

    def ref(s: str) -> bytes:
        r = symbols.get(s)
        if r is None:
            r = symbols[s] = len(symbols)
        v = varints.get(r)
        if v is None:
            v = varints[r] = protos.encode_varint(r)
        return v

    meta = {m.metric_family: m for m in batch.metadata}
    order, bounds = _series_rows(batch)
    records, offs = protos.encode_sample_records(batch.timestamps[order], batch.values[order])
    parts: list[bytes] = []
    for lbls, a, b in zip(batch.series, bounds[:-1], bounds[1:], strict=True):
        if a == b:
            continue
        refs = b"".join([ref(x) for pair in lbls for x in pair])
        body = protos.len_field(0x0A, refs) + records[offs[a] : offs[b]]
        m = meta.get(_name_value(lbls))
        if m is not None:
            md = protos.WriteV2Metadata(
                type=_TYPE_NUMBERS.get(m.type, 0),
                help_ref=symbols.setdefault(m.help, len(symbols)),
                unit_ref=symbols.setdefault(m.unit, len(symbols)),
            )
            body += protos.len_field(0x2A, md.SerializeToString())
        parts.append(protos.len_field(0x2A, body))
    head = [protos.len_field(0x22, s.encode()) for s in symbols]
    return b"".join(head + parts)
