"""Prometheus remote read (SAMPLES response type): requests in, responses out.

Pure functions over uncompressed protobuf bytes; the HTTP layer undoes and
applies snappy (:func:`kubesight.wire.remote_write.decompress`,
``cramjam.snappy.compress_raw``). Errors::

    DecodeError      the body is not a prometheus.ReadRequest, or a matcher is
                     unusable (unknown type, invalid regex); says which query
                     and which matcher
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from google.protobuf import unknown_fields
from google.protobuf.message import DecodeError as ProtobufDecodeError

from kubesight.errors import DecodeError, ValidationError
from kubesight.model.labels import Labels
from kubesight.model.matchers import Matcher, MatchOp
from kubesight.model.samples import SeriesData
from kubesight.wire import protos

__all__ = [
    "RESPONSE_SAMPLES",
    "RESPONSE_STREAMED_XOR_CHUNKS",
    "ReadHints",
    "ReadQuery",
    "decode_read_request",
    "decode_read_response",
    "encode_read_request",
    "encode_read_response",
]

RESPONSE_SAMPLES = 0
"""``ReadRequest.ResponseType.SAMPLES``: one ReadResponse with raw samples."""
RESPONSE_STREAMED_XOR_CHUNKS = 1
"""``ReadRequest.ResponseType.STREAMED_XOR_CHUNKS``: not produced by kubesight yet."""

# prometheus.LabelMatcher.Type numbers
_OPS = {0: MatchOp.EQ, 1: MatchOp.NE, 2: MatchOp.RE, 3: MatchOp.NRE}
_TYPES = {op: n for n, op in _OPS.items()}


@dataclass(frozen=True)
class ReadHints:
    """What the querier will do with the data; a store may use it to read less."""

    step_ms: int = 0
    func: str = ""
    start_ms: int = 0
    end_ms: int = 0
    grouping: tuple[str, ...] = ()
    by: bool = False
    range_ms: int = 0


@dataclass(frozen=True)
class ReadQuery:
    """One query of a read request: a time range (inclusive, ms) and matchers."""

    start_ms: int
    end_ms: int
    matchers: list[Matcher]
    hints: ReadHints | None = field(default=None)


def decode_read_request(raw: bytes) -> tuple[list[ReadQuery], list[int]]:
    """Decode an uncompressed ``prometheus.ReadRequest``.

    Returns the queries and the accepted response types in the client's order
    of preference (empty means SAMPLES only, per the protocol).
    """
    try:
        req = protos.ReadRequest.FromString(raw)
    except ProtobufDecodeError as exc:
        detail = protos.utf8_error(protos.ReadRequest, raw) or f"malformed protobuf ({exc})"
        raise DecodeError(f"remote read body (prometheus.ReadRequest): {detail}") from exc
    if not req.queries and not req.accepted_response_types and raw:
        fields = unknown_fields.UnknownFieldSet(req)
        unknown = sorted({fields[k].field_number for k in range(len(fields))})
        if unknown:
            raise DecodeError(
                "body is not a prometheus.ReadRequest: it has no queries and only "
                f"unknown field numbers {unknown}"
            )
    queries = [_query(q, i) for i, q in enumerate(req.queries)]
    return queries, [int(t) for t in req.accepted_response_types]


def _query(q: Any, i: int) -> ReadQuery:
    matchers = [_matcher(m, i, j) for j, m in enumerate(q.matchers)]
    hints = None
    if q.HasField("hints"):
        h = q.hints
        hints = ReadHints(
            h.step_ms, h.func, h.start_ms, h.end_ms, tuple(h.grouping), h.by, h.range_ms
        )
    return ReadQuery(q.start_timestamp_ms, q.end_timestamp_ms, matchers, hints)


def _matcher(m: Any, i: int, j: int) -> Matcher:
    op = _OPS.get(m.type)
    where = f"queries[{i}].matchers[{j}]"
    if op is None:
        raise DecodeError(
            f"{where}: unknown matcher type {m.type} (expected 0=EQ, 1=NEQ, 2=RE, 3=NRE)"
        )
    try:
        return Matcher.of(m.name, op, m.value)
    except ValidationError as exc:
        raise DecodeError(f"{where}: {exc}") from exc


def encode_read_request(
    queries: list[ReadQuery], accepted_response_types: list[int] | None = None
) -> bytes:
    """Encode a ``prometheus.ReadRequest`` (uncompressed); for tests and clients."""
    req = protos.ReadRequest()
    for q in queries:
        pq = req.queries.add(start_timestamp_ms=q.start_ms, end_timestamp_ms=q.end_ms)
        for m in q.matchers:
            pq.matchers.add(type=_TYPES[m.op], name=m.name, value=m.value)
        if q.hints is not None:
            h = q.hints
            pq.hints.CopyFrom(
                protos.ReadHints(
                    step_ms=h.step_ms,
                    func=h.func,
                    start_ms=h.start_ms,
                    end_ms=h.end_ms,
                    grouping=list(h.grouping),
                    by=h.by,
                    range_ms=h.range_ms,
                )
            )
    req.accepted_response_types.extend(accepted_response_types or [])
    return bytes(req.SerializeToString())


def encode_read_response(results: list[SeriesData]) -> bytes:
    """Encode a ``prometheus.ReadResponse``: one QueryResult per query, in order.

    Series and their samples are written in the order given (the store returns
    series sorted and samples by time, as the protocol asks).
    """
    memo: dict[tuple[str, str], bytes] = {}
    out: list[bytes] = []
    for res in results:
        records, offs = protos.encode_sample_records(res.timestamps, res.values)
        bounds = np.asarray(res.offsets, np.int64).tolist()
        series = [
            protos.len_field(0x0A, protos.encode_label_run(lbls, memo) + records[offs[a] : offs[b]])
            for lbls, a, b in zip(res.labels, bounds[:-1], bounds[1:], strict=True)
        ]
        out.append(protos.len_field(0x0A, b"".join(series)))
    return b"".join(out)


def decode_read_response(raw: bytes) -> list[SeriesData]:
    """Decode a ``prometheus.ReadResponse`` (uncompressed); for tests and clients."""
    try:
        resp = protos.ReadResponse.FromString(raw)
    except ProtobufDecodeError as exc:
        detail = protos.utf8_error(protos.ReadResponse, raw) or f"malformed protobuf ({exc})"
        raise DecodeError(f"remote read response (prometheus.ReadResponse): {detail}") from exc
    out: list[SeriesData] = []
    for qr in resp.results:
        labels: list[Labels] = []
        counts: list[int] = []
        ts: list[int] = []
        vals: list[float] = []
        for s in qr.timeseries:
            labels.append(tuple((lb.name, lb.value) for lb in s.labels))
            counts.append(len(s.samples))
            ts.extend(x.timestamp for x in s.samples)
            vals.extend(x.value for x in s.samples)
        offsets = np.zeros(len(labels) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        out.append(
            SeriesData(labels, offsets, np.asarray(ts, np.int64), np.asarray(vals, np.float64))
        )
    return out
