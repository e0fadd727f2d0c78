"""The label-set hash limit_ratio selects by: XXH64 over Prometheus 3.x's label encoding."""

from __future__ import annotations

import pytest

from kubesight.model import labels_from_dict
from kubesight.promql.hashing import encode_labels, labels_hash, sample_offset, xxh64

# XXH64 reference values (seed 0), as the reference C implementation computes them.
XXH64_VECTORS = [
    (b"", 0, 0xEF46DB3751D8E999),
    (b"a", 0, 0xD24EC4F1A98C6E5B),
    (b"abc", 0, 0x44BC2CF5AD770999),
    (b"message digest", 0, 0x066ED728FCEEB3BE),
    (b"abcdefghijklmnopqrstuvwxyz", 0, 0xCFE1F278FA89835C),
    (b"12345678901234567890123456789012345678901234567890123456789012345678901234567890", 0, 0xE04A477F19EE145D),
]


@pytest.mark.parametrize(("data", "seed", "want"), XXH64_VECTORS)
def test_xxh64_vectors(data: bytes, seed: int, want: int) -> None:
    assert xxh64(data, seed) == want


def test_same_xxhash_as_prometheus() -> None:
    # Values Prometheus pins for labels.StableHash (cespare/xxhash over
    # name 0xff value 0xff ...), so our XXH64 is the Go library's.
    assert xxh64(b"hello\xffworld\xff") == 0x347C8EE7A9E29708
    assert xxh64(b"__name__\xffmetric\xfflabel\xffvalue\xff") == 0xCBAB40540F26097D


def test_stringlabels_encoding() -> None:
    lbls = labels_from_dict({"job": "a", "__name__": "up"})
    # Sorted by name; each name and value preceded by its one-byte length.
    assert encode_labels(lbls) == b"\x08__name__\x02up\x03job\x01a"
    long = "x" * 300
    enc = encode_labels(labels_from_dict({"a": long}))
    # 255 marks a three-byte little-endian length.
    assert enc == b"\x01a" + bytes((255, 300 & 0xFF, 300 >> 8, 0)) + long.encode()
    assert encode_labels(labels_from_dict({"a": "x" * 254}))[2] == 254


def test_offsets_of_limit_ratio_table() -> None:
    """The offsets tests/promql/testdata/limit_ratio.test is written from."""
    want = {
        ("canary", "0"): 0.9782463706693543,
        ("canary", "1"): 0.2047467588166679,
        ("canary", "2"): 0.86158214749638,
        ("canary", "3"): 0.32521287713803193,
        ("production", "0"): 0.09456038582361823,
        ("production", "1"): 0.09967529271752745,
    }
    for (group, instance), off in want.items():
        lbls = labels_from_dict(
            {"__name__": "http_requests", "job": "api-server", "instance": instance, "group": group}
        )
        assert sample_offset(lbls) == off
        assert 0 <= labels_hash(lbls) < 2**64
