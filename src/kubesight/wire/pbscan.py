"""Vectorised protobuf scanning: the fields of many messages at once, with numpy.

Parsing a protobuf message into Python objects costs a wrapper object per
field; for requests of thousands of small messages (remote write series, OTLP
data points) that dominates. This module instead reads the wire format
directly from one byte buffer holding all the messages (:func:`concat`) and
walks them in lockstep (:func:`walk`): round *k* reads the *k*-th field of
every message at once, giving one :class:`Records` table of field number, wire
type and payload bounds (or varint value) per field. It knows the protobuf wire
format only, no message schema, so any decoder (remote write here, OTLP later)
interprets the records itself.

Nothing here raises on malformed input: a message that is malformed, unusual
or too long to walk is flagged in ``Records.bad``, and the caller hands it to a
full parser (upb), which then reports the error or gives the exact result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "F64",
    "I64",
    "PAD",
    "U8",
    "U64",
    "WT_I32",
    "WT_I64",
    "WT_LEN",
    "WT_VARINT",
    "Bool",
    "Records",
    "concat",
    "packed_varints",
    "read_varints",
    "varint_size",
    "walk",
]

U8 = npt.NDArray[np.uint8]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

WT_VARINT: Final = 0
WT_I64: Final = 1
WT_LEN: Final = 2
WT_I32: Final = 5

_AR10 = np.arange(10, dtype=np.int64)
_SHIFTS = (7 * _AR10).astype(np.uint64)
# Zero bytes :func:`concat` appends after the messages, so a varint (10 bytes
# at most) or a 24-byte window read at any position inside them stays inside.
PAD: Final = 32
_PAD_BYTES = bytes(PAD)
# Lockstep rounds cost a fixed numpy overhead each; once few messages are still
# being walked, finishing them with upb is cheaper than more rounds.
_MIN_ROUNDS, _MIN_ACTIVE = 16, 64


def concat(chunks: Sequence[bytes]) -> tuple[bytes, U8, I64, I64]:
    """Messages laid end to end: the bytes, a uint8 view of them, and each one's bounds.

    :data:`PAD` zero bytes follow the last message (outside every message's
    bounds), so readers may look a little past any position without checks.
    """
    chunks = list(chunks)
    lens = np.fromiter(map(len, chunks), np.int64, len(chunks))
    chunks.append(_PAD_BYTES)
    blob = b"".join(chunks)
    ends = np.cumsum(lens)
    starts = ends - lens
    return blob, np.frombuffer(blob, np.uint8), starts, ends


def read_varints(buf: U8, pos: I64) -> tuple[U64, I64]:
    """Varints starting at ``pos``: values and byte lengths (0 = over 10 bytes)."""
    first = buf[pos]
    values = first.astype(np.uint64)
    nbytes = np.ones(len(pos), np.int64)
    big = np.flatnonzero(first >= 0x80)
    if big.size:
        win = buf[pos[big, None] + _AR10]
        term = win < 0x80
        n = term.argmax(axis=1) + 1
        parts = (win & 0x7F).astype(np.uint64) << _SHIFTS
        parts[_AR10[None, :] >= n[:, None]] = 0
        values[big] = np.bitwise_or.reduce(parts, axis=1)
        nbytes[big] = np.where(term.any(axis=1), n, 0)
    return values, nbytes


@dataclass
class Records:
    """Top-level fields found in a set of messages, ordered by message then position."""

    owner: I64  # which message
    field: I64
    wire_type: I64
    start: I64  # payload start: after tag (and length, for LEN)
    end: I64
    value: U64  # the value of VARINT fields
    bad: Bool  # per message: malformed, unusual, or not finished: hand to upb


def walk(buf: U8, starts: I64, ends: I64, limit_rounds: bool = True) -> Records:
    """The top-level fields of the messages at ``[starts, ends)`` of ``buf``.

    All messages are read in lockstep, one field of each per round. Messages
    flagged in ``bad`` have no records. With ``limit_rounds``, messages still
    unfinished once few remain after many rounds are flagged too (a handful of
    long messages would otherwise cost a numpy round per field).
    """
    n = len(starts)
    pos = starts.copy()
    bad = np.zeros(n, np.bool_)
    active = np.flatnonzero(pos < ends)
    parts: list[tuple[I64, I64, I64, I64, I64, U64 | None]] = []
    rounds = 0
    while active.size:
        if limit_rounds and rounds >= _MIN_ROUNDS and active.size < _MIN_ACTIVE:
            bad[active] = True
            break
        rounds += 1
        p = pos[active]
        limit = ends[active]
        fnum, wt, start, end, value, broken = _step(buf, p, limit)
        if broken.any():
            bad[active[broken]] = True
        parts.append((active, fnum, wt, start, end, value))
        pos[active] = end
        active = active[(end < limit) & ~broken]
    if not parts:
        e = np.empty(0, np.int64)
        return Records(e, e, e, e, e, np.empty(0, np.uint64), bad)
    owner = np.concatenate([x[0] for x in parts])
    order = np.argsort(owner, kind="stable")
    keep = order[~bad[owner[order]]]
    values = [np.zeros(len(x[0]), np.uint64) if x[5] is None else x[5] for x in parts]
    return Records(
        owner[keep],
        np.concatenate([x[1] for x in parts])[keep],
        np.concatenate([x[2] for x in parts])[keep],
        np.concatenate([x[3] for x in parts])[keep],
        np.concatenate([x[4] for x in parts])[keep],
        np.concatenate(values)[keep],
        bad,
    )


def _step(buf: U8, p: I64, limit: I64) -> tuple[I64, I64, I64, I64, U64 | None, Bool]:
    """Read one field at each position: number, wire type, payload bounds, varint value."""
    first = buf[p]
    if first.max(initial=0) < 0x80:
        # one-byte tags (fields 1-15): every field of these messages
        tag = first.astype(np.int64)
        q = p + 1
        broken = tag < 8  # field number 0
    else:
        t, tag_len = read_varints(buf, p)
        tag = np.where(t > np.uint64(0xFFFFFFFF), 0, t).astype(np.int64)
        q = p + tag_len
        broken = (tag_len == 0) | (tag < 8)
    fnum = tag >> 3
    wt = tag & 7
    if (wt == WT_LEN).all():
        # the common round: submessages, strings and packed fields
        ln = buf[q]
        if ln.max(initial=0) < 0x80:
            start = q + 1
            end = start + ln
            return fnum, wt, start, end, None, broken | (end > limit)
    start = q.copy()
    end = q.copy()
    value = np.zeros(len(p), np.uint64)
    m = np.flatnonzero(wt == WT_VARINT)
    if m.size:
        v, vl = read_varints(buf, q[m])
        value[m] = v
        end[m] = q[m] + vl
        broken[m] |= vl == 0
    end[wt == WT_I64] += 8
    end[wt == WT_I32] += 4
    m = np.flatnonzero(wt == WT_LEN)
    if m.size:
        ln64, ll = read_varints(buf, q[m])
        start[m] = q[m] + ll
        room = np.maximum(limit[m] - start[m], 0).astype(np.uint64)
        over = (ll == 0) | (ln64 > room)
        broken[m] |= over
        end[m] = start[m] + np.where(over, 0, ln64).astype(np.int64)
    # groups (3, 4) are gone from proto3 and 6, 7 do not exist: treat as malformed
    broken |= (wt == 3) | (wt == 4) | (wt > 5) | (end > limit)
    return fnum, wt, start, end, value, broken


def varint_size(v: I64) -> I64:
    """Bytes the varint encoding of each ``v`` takes (``v < 2**63``)."""
    size = np.ones(len(v), np.int64)
    x = v >> 7
    while x.any():
        size += x > 0
        x = x >> 7
    return size


def packed_varints(buf: U8, starts: I64, ends: I64) -> tuple[I64, I64, I64]:
    """Decode runs of packed uint32 varints.

    Returns all values, the count per run, and the runs that cannot be read
    this way (cut inside a varint, or a varint over 5 bytes): the caller hands
    their messages to upb and calls again without them.
    """
    lens = ends - starts
    total = int(lens.sum())
    none = np.empty(0, np.int64)
    if not total:
        return none, np.zeros(len(starts), np.int64), none
    # Gather the bytes of all runs into one array.
    cum = np.cumsum(lens)
    data = buf[np.arange(total) + np.repeat(starts - (cum - lens), lens)]
    last = data < 0x80
    nonempty = np.flatnonzero(lens > 0)
    cut = nonempty[~last[cum[nonempty] - 1]]
    if cut.size:
        return none, none, cut
    ends_at = np.flatnonzero(last)
    # terminators seen by the end of each run: counts per run, by difference
    counted = np.zeros(total + 1, np.int64)
    np.cumsum(last, out=counted[1:])
    per_run = np.diff(counted[cum], prepend=0)
    if len(ends_at) == total:  # every value below 128: one byte each
        return data.astype(np.int64), per_run, none
    if 2 * len(ends_at) >= total:
        # Values below 16384 (e.g. remote write 2.0 symbol refs, tables that size)
        # take at most two bytes: a byte before a terminator that has its top bit
        # set is that value's first.
        prev = data[np.maximum(ends_at - 1, 0)]
        two = (prev >= 0x80) & (ends_at > 0)
        if int(np.count_nonzero(two)) == total - len(ends_at):
            values = data[ends_at].astype(np.int64)
            values[two] = (prev[two] & 0x7F).astype(np.int64) | (values[two] << 7)
            return values, per_run, none
    begins = np.empty_like(ends_at)
    begins[0] = 0
    begins[1:] = ends_at[:-1] + 1
    width = ends_at - begins + 1
    widest = int(width.max())
    if widest > 5:
        run_of_byte = np.repeat(np.arange(len(starts)), lens)
        return none, none, np.unique(run_of_byte[begins[width > 5]])
    values = (data[begins] & 0x7F).astype(np.int64)
    for k in range(1, widest):
        more = np.flatnonzero(width > k)
        values[more] |= (data[begins[more] + k] & 0x7F).astype(np.int64) << (7 * k)
    # uint32 fields keep the low 32 bits of a longer varint, as protobuf does
    values &= 0xFFFFFFFF
    return values, per_run, none
