"""Prometheus' label-set hash, for the operators whose results depend on it.

``limit_ratio`` keeps a series when ``hash(labels) / 2**64`` falls below the
ratio, so picking the *same* series as Prometheus needs the same hash: XXH64
(seed 0, as ``github.com/cespare/xxhash/v2`` computes it) over the bytes of
the label set as Prometheus 3.x release builds hold them (the
``stringlabels`` layout: per label, in name order, the name's length, the
name, the value's length, the value; a length below 255 is one byte, a longer
one is 255 then three little-endian bytes).

Pure Python on purpose: the hash runs once per series (never per sample), and
the package would otherwise need a compiled dependency for it.
"""

from __future__ import annotations

import struct

from kubesight.model import Labels

_M = 0xFFFFFFFFFFFFFFFF
_P1 = 0x9E3779B185EBCA87
_P2 = 0xC2B2AE3D27D4EB4F
_P3 = 0x165667B19E3779F9
_P4 = 0x85EBCA77C2B2AE63
_P5 = 0x27D4EB2F165667C5

_LANES = struct.Struct("<4Q")
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M


def _round(acc: int, lane: int) -> int:
    acc = (acc + lane * _P2) & _M
    return (_rotl(acc, 31) * _P1) & _M


def _merge(acc: int, val: int) -> int:
    acc ^= _round(0, val)
    return (acc * _P1 + _P4) & _M


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64 of ``data`` (the reference algorithm, 64-bit little-endian lanes)."""
    n = len(data)
    i = 0
    if n >= 32:
        v1 = (seed + _P1 + _P2) & _M
        v2 = (seed + _P2) & _M
        v3 = seed & _M
        v4 = (seed - _P1) & _M
        while i <= n - 32:
            a, b, c, d = _LANES.unpack_from(data, i)
            v1 = _round(v1, a)
            v2 = _round(v2, b)
            v3 = _round(v3, c)
            v4 = _round(v4, d)
            i += 32
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _M
        for v in (v1, v2, v3, v4):
            h = _merge(h, v)
    else:
        h = (seed + _P5) & _M
    h = (h + n) & _M
    while i + 8 <= n:
        h ^= _round(0, _U64.unpack_from(data, i)[0])
        h = (_rotl(h, 27) * _P1 + _P4) & _M
        i += 8
    if i + 4 <= n:
        h ^= (_U32.unpack_from(data, i)[0] * _P1) & _M
        h = (_rotl(h, 23) * _P2 + _P3) & _M
        i += 4
    while i < n:
        h ^= (data[i] * _P5) & _M
        h = (_rotl(h, 11) * _P1) & _M
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M
    h ^= h >> 29
    h = (h * _P3) & _M
    h ^= h >> 32
    return h


def _size(n: int) -> bytes:
    # 255 marks a three-byte length (labels up to 16 MiB, Prometheus' limit).
    if n < 255:
        return bytes((n,))
    return bytes((255, n & 0xFF, (n >> 8) & 0xFF, (n >> 16) & 0xFF))


def encode_labels(lbls: Labels) -> bytes:
    """The label set as a Prometheus 3.x (``stringlabels``) ``Labels`` holds it."""
    out = bytearray()
    for name, value in sorted(lbls):
        nb, vb = name.encode(), value.encode()
        out += _size(len(nb))
        out += nb
        out += _size(len(vb))
        out += vb
    return bytes(out)


def labels_hash(lbls: Labels) -> int:
    """``labels.Labels.Hash()`` of a Prometheus 3.x release build."""
    return xxh64(encode_labels(lbls))


def sample_offset(lbls: Labels) -> float:
    """Where a series falls in [0, 1] for ``limit_ratio``: ``float64(hash) / float64(MaxUint64)``.

    ``float64(MaxUint64)`` rounds to 2**64; Python's ``float(int)`` rounds to
    nearest even as Go's conversion does.
    """
    return float(labels_hash(lbls)) / 18446744073709551616.0
