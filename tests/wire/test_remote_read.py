"""Remote read codec: ReadRequest in, SAMPLES ReadResponse out (and the inverses)."""

from __future__ import annotations

import contextlib
import struct
from typing import Any

import numpy as np
import pytest
from google.protobuf.message import DecodeError as ProtobufDecodeError
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesight.errors import DecodeError
from kubesight.model import STALE_NAN_BITS, Matcher, MatchOp, SeriesData
from kubesight.wire import protos
from kubesight.wire.remote_read import (
    RESPONSE_SAMPLES,
    RESPONSE_STREAMED_XOR_CHUNKS,
    ReadHints,
    ReadQuery,
    decode_read_request,
    decode_read_response,
    encode_read_request,
    encode_read_response,
)


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


def matcher(mtype: int, name: str | bytes, value: str | bytes) -> bytes:
    """Query.matchers (field 3): LabelMatcher{type=1 enum, name=2, value=3}."""
    nb = name.encode() if isinstance(name, str) else name
    vb = value.encode() if isinstance(value, str) else value
    return f_len(3, (f_varint(1, mtype) if mtype else b"") + f_len(2, nb) + f_len(3, vb))


def query(start: int, end: int, *parts: bytes) -> bytes:
    """ReadRequest.queries (field 1): Query{start_timestamp_ms=1, end_timestamp_ms=2, ...}."""
    return f_len(1, f_varint(1, start) + f_varint(2, end) + b"".join(parts))


# ReadRequest{queries=[{1000, 2000, [__name__="up", job=~"no.*"],
#                       hints={15000, "rate", 1000, 2000, ["job"], by, 300000}}],
#             accepted_response_types=[STREAMED_XOR_CHUNKS, SAMPLES]}
HAND = bytes.fromhex(
    "0a41"  # field 1 (queries), 65 bytes
    "08e807"
    "10d00f"  # start_timestamp_ms 1000, end_timestamp_ms 2000
    "1a0e"
    "12085f5f6e616d655f5f"
    "1a027570"  # field 3 (matchers): type EQ omitted, "__name__", "up"
    "1a0d"
    "0802"
    "12036a6f62"
    "1a046e6f2e2a"  # field 3 (matchers): type RE, "job", "no.*"
    "221a"  # field 4 (hints), 26 bytes
    "089875"
    "120472617465"
    "18e807"
    "20d00f"  # step_ms 15000, func "rate", start_ms, end_ms
    "2a036a6f62"
    "3001"
    "38e0a712"  # grouping ["job"], by true, range_ms 300000
    "12020100"  # field 2 (accepted_response_types), packed: 1, 0
)


def test_hand_built_request() -> None:
    queries, accepted = decode_read_request(HAND)
    assert accepted == [RESPONSE_STREAMED_XOR_CHUNKS, RESPONSE_SAMPLES]
    assert queries == [
        ReadQuery(
            1000,
            2000,
            [Matcher.of("__name__", "=", "up"), Matcher.of("job", "=~", "no.*")],
            ReadHints(15000, "rate", 1000, 2000, ("job",), True, 300000),
        )
    ]
    assert queries[0].matchers[1].matches("node")
    # the hand-built bytes are what the canonical schema reads, and what we write
    assert protos.ReadRequest.FromString(HAND).queries[0].hints.range_ms == 300000
    assert encode_read_request(queries, accepted) == HAND


@pytest.mark.parametrize(
    ("mtype", "op"), [(0, MatchOp.EQ), (1, MatchOp.NE), (2, MatchOp.RE), (3, MatchOp.NRE)]
)
def test_matcher_types(mtype: int, op: MatchOp) -> None:
    queries, _ = decode_read_request(query(1, 2, matcher(mtype, "job", "a")))
    assert queries[0].matchers == [Matcher.of("job", op, "a")]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            query(1, 2, matcher(4, "job", "a")),
            r"queries\[0\]\.matchers\[0\]: unknown matcher type 4",
        ),
        (
            query(1, 2) + query(1, 2, matcher(0, "a", "b"), matcher(2, "job", "(")),
            r"queries\[1\]\.matchers\[1\]: invalid regex",
        ),
        (query(1, 2, matcher(3, "job", "[z-a]")), r"queries\[0\]\.matchers\[0\]: invalid regex"),
        (
            query(1, 2, matcher(0, b"\xff", "a")),
            r"queries\[0\]\.matchers\[0\]\.name is not valid UTF-8",
        ),
        (query(1, 2, matcher(0, "a", b"\xe2\x82")), r"matchers\[0\]\.value is not valid UTF-8"),
        (b"\x0a\x10\x08", r"prometheus\.ReadRequest"),
        (b"\xff\xff\xff\xff", r"prometheus\.ReadRequest"),
        (f_varint(9, 1), "unknown field numbers"),
    ],
)
def test_bad_requests(raw: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_read_request(raw)


def test_request_without_hints_or_types() -> None:
    queries, accepted = decode_read_request(query(5, 6, matcher(0, "a", "b")))
    assert queries == [ReadQuery(5, 6, [Matcher.of("a", "=", "b")], None)]
    assert accepted == []  # empty means SAMPLES, per the protocol
    assert decode_read_request(b"") == ([], [])


def test_negative_and_large_times() -> None:
    raw = query(-(2**63), 2**63 - 1)
    queries, _ = decode_read_request(raw)
    assert (queries[0].start_ms, queries[0].end_ms) == (-(2**63), 2**63 - 1)


def ref_request(raw: bytes) -> Any:
    req = protos.ReadRequest.FromString(raw)
    return (
        [
            (
                q.start_timestamp_ms,
                q.end_timestamp_ms,
                [(m.type, m.name, m.value) for m in q.matchers],
            )
            for q in req.queries
        ],
        list(req.accepted_response_types),
    )


def test_request_truncated_at_every_offset() -> None:
    for cut in range(len(HAND) + 1):
        prefix = HAND[:cut]
        try:
            want = ref_request(prefix)
        except ProtobufDecodeError:
            want = None
        try:
            queries, accepted = decode_read_request(prefix)
        except DecodeError:
            assert want is None or not want[0] or want[0][0][2], cut  # e.g. a cut regex
            continue
        assert want is not None, cut
        ops = {MatchOp.EQ: 0, MatchOp.NE: 1, MatchOp.RE: 2, MatchOp.NRE: 3}
        got = [
            (q.start_ms, q.end_ms, [(ops[m.op], m.name, m.value) for m in q.matchers])
            for q in queries
        ]
        assert (got, accepted) == want, cut


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_decode_read_request(raw: bytes) -> None:
    # only DecodeError may escape (hypothesis reports anything else)
    with contextlib.suppress(DecodeError):
        decode_read_request(raw)


# --- responses ------------------------------------------------------------------------

# ReadResponse{results=[{timeseries=[{labels=[a="b"], samples=[{1.0, 1000}, {0.0, 2000}]}]}, {}]}
HAND_RESPONSE = bytes.fromhex(
    "0a26"  # field 1 (results), 38 bytes
    "0a24"  # QueryResult.timeseries, 36 bytes
    "0a06"
    "0a0161"
    "120162"  # labels: a="b"
    "120c"
    "09000000000000f03f"
    "10e807"  # samples: 1.0 at 1000
    "120c"
    "090000000000000000"
    "10d00f"  # samples: 0.0 at 2000 (written out)
    "0a00"  # the second query's empty QueryResult
)


def test_hand_built_response() -> None:
    data = SeriesData(
        [(("a", "b"),)],
        np.array([0, 2]),
        np.array([1000, 2000]),
        np.array([1.0, 0.0]),
    )
    assert encode_read_response([data, SeriesData.empty()]) == HAND_RESPONSE
    msg = protos.ReadResponse.FromString(HAND_RESPONSE)
    assert [len(r.timeseries) for r in msg.results] == [1, 0]
    assert msg.results[0].timeseries[0].samples[1].timestamp == 2000
    got = decode_read_response(HAND_RESPONSE)
    assert got[0].labels == data.labels
    assert got[0].offsets.tolist() == [0, 2]
    assert got[1].num_samples == 0


def test_empty_response() -> None:
    assert encode_read_response([]) == b""
    assert decode_read_response(b"") == []


names = st.text(st.characters(codec="utf-8"), max_size=10)
floats = st.one_of(
    st.floats(allow_nan=True),
    st.just(struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]),
)


@st.composite
def series_data(draw: st.DrawFn) -> SeriesData:
    labels = draw(st.lists(st.lists(st.tuples(names, names), max_size=4).map(tuple), max_size=5))
    counts = [draw(st.integers(0, 5)) for _ in labels]
    n = sum(counts)
    ts = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n))
    vals = draw(st.lists(floats, min_size=n, max_size=n))
    offsets = np.zeros(len(labels) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return SeriesData(labels, offsets, np.asarray(ts, np.int64), np.asarray(vals, np.float64))


@settings(max_examples=150, deadline=None)
@given(st.lists(series_data(), max_size=3))
def test_response_round_trip(results: list[SeriesData]) -> None:
    got = decode_read_response(encode_read_response(results))
    assert len(got) == len(results)
    for a, b in zip(got, results, strict=True):
        assert a.labels == b.labels
        assert a.offsets.tolist() == b.offsets.tolist()
        assert a.timestamps.tolist() == b.timestamps.tolist()
        assert a.values.view(np.uint64).tolist() == b.values.view(np.uint64).tolist()


regexes = st.sampled_from(["a.*", "", "x|y", "[0-9]+", "f(o+)"])


@st.composite
def read_queries(draw: st.DrawFn) -> ReadQuery:
    ms = []
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(list(MatchOp)))
        value = draw(regexes) if op in (MatchOp.RE, MatchOp.NRE) else draw(names)
        ms.append(Matcher.of(draw(names), op, value))
    hints = draw(
        st.none()
        | st.builds(
            ReadHints,
            st.integers(0, 2**40),
            names,
            st.integers(0, 2**40),
            st.integers(0, 2**40),
            st.lists(names, max_size=3).map(tuple),
            st.booleans(),
            st.integers(0, 2**40),
        )
    )
    start = draw(st.integers(-(2**63), 2**63 - 1))
    return ReadQuery(start, draw(st.integers(-(2**63), 2**63 - 1)), ms, hints)


@settings(max_examples=150, deadline=None)
@given(st.lists(read_queries(), max_size=3), st.lists(st.sampled_from([0, 1]), max_size=2))
def test_request_round_trip(queries: list[ReadQuery], accepted: list[int]) -> None:
    assert decode_read_request(encode_read_request(queries, accepted)) == (queries, accepted)
