"""Block pages round-trip every float bit-exactly, whatever mode each series takes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesight.errors import CorruptionError
from kubesight.model import stale_nan
from kubesight.store.encoding import (
    _MUL,
    _reconstruct,
    _shuffle,
    _unshuffle,
    choose_decimals,
    decode_page,
    encode_page,
)


def roundtrip(counts: list[int], ts: list[int], vals: list[float]) -> None:
    c = np.asarray(counts, np.int64)
    t = np.asarray(ts, np.int64)
    v = np.asarray(vals, np.float64)
    c2, t2, v2 = decode_page(encode_page(c, t, v))
    assert c2.tolist() == c.tolist()
    assert t2.tolist() == t.tolist()
    assert v2.view(np.uint64).tolist() == v.view(np.uint64).tolist()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(-(2**62), 2**62), st.floats(allow_nan=True, width=64)), min_size=0, max_size=30),
        min_size=1,
        max_size=8,
    )
)
def test_any_floats_round_trip(series: list[list[tuple[int, float]]]) -> None:
    counts = [len(s) for s in series]
    roundtrip(counts, [t for s in series for t, _ in s], [v for s in series for _, v in s])


# (values of one series, the mode chosen): decimal-divide k, multiply 32+k, or xor -1.
MODES = [
    ([1.0, 2.0, 3.0], 0),
    ([0.5, 1.25, 2.125], 3),
    ([i / 100 for i in range(1000, 1100)], 2),  # the double nearest each decimal
    ([i * 0.01 for i in range(123456, 123556)], 34),  # ticks * 0.01, as exporters compute it
    ([0.1 + 0.2, 1.0], 33),  # 0.30000000000000004 is exactly 3 * 0.1
    ([3.141592653589793, 1.0], -1),  # no short form either way: xor
    ([stale_nan(), 1.0], -1),
    ([-0.0, 1.0], -1),
    ([1e300, 1.0], -1),
]


@pytest.mark.parametrize(("vals", "mode"), MODES)
def test_mode_per_series(vals: list[float], mode: int) -> None:
    v = np.asarray(vals)
    assert choose_decimals(np.asarray([len(v)]), v).tolist() == [mode]
    roundtrip([len(v)], list(range(len(v))), vals)


def test_regular_scrapes_compress_to_almost_nothing() -> None:
    n, steps = 200, 240
    ts = np.tile(1_700_000_000_000 + np.arange(steps) * 15_000, n)
    vals = np.repeat(np.arange(n, dtype=np.float64), steps)  # constants
    page = encode_page(np.full(n, steps), ts, vals)
    assert len(page) / (n * steps) < 0.05


def test_corrupt_pages_raise_corruption_error() -> None:
    page = encode_page(np.asarray([3]), np.asarray([1, 2, 3]), np.asarray([1.0, 2.0, 3.0]))
    for bad in (page[:10], page[:-1], b"XXXX" + page[4:], page[:30] + bytes(len(page) - 30)):
        with pytest.raises(CorruptionError):
            decode_page(bad)


def _reference_reconstruct(m: np.ndarray, mode: np.ndarray) -> np.ndarray:
    # The per-element definition the lookup tables replace.
    mul = mode >= _MUL
    k = np.where(mul, mode - _MUL, mode).astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        out: np.ndarray = np.where(mul, m * 10.0**-k, m / 10.0**k)
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-(2**53), 2**53), st.integers(0, 127)),
        min_size=1,
        max_size=64,
    ),
    st.sampled_from(["div", "mul", "mixed"]),
)
def test_reconstruct_is_bit_identical_to_the_power_definition(cells: list[tuple[int, int]], how: str) -> None:
    m = np.asarray([float(c[0]) for c in cells])
    k = np.asarray([c[1] for c in cells], np.int64)
    if how == "div":
        mode = k % _MUL
    elif how == "mul":
        mode = _MUL + k % (128 - _MUL)
    else:
        mode = k
    mode8 = mode.astype(np.int8)
    got = _reconstruct(m, mode8)
    assert got.view(np.uint64).tolist() == _reference_reconstruct(m, mode8).view(np.uint64).tolist()


def test_unshuffle_inverts_shuffle() -> None:
    rng = np.random.default_rng(1)
    for n in (0, 1, 7, 1000):
        a = rng.integers(0, 2**63, n, dtype=np.int64).view(np.uint64)
        assert _unshuffle(_shuffle(a), n).tolist() == a.tolist()


def test_pages_with_mixed_value_paths_decode_bit_exactly() -> None:
    # Decimal series beside xor series (NaN, stale markers, noise), decimal
    # series of both modes: every path of decode_values in one page.
    rng = np.random.default_rng(2)
    parts = [
        np.arange(50) * 0.25,  # divide mode
        rng.integers(0, 10**6, 50) * 0.01,  # multiply mode (ticks * 0.01)
        rng.normal(0, 1, 50),  # xor
        np.r_[np.arange(49, dtype=np.float64), stale_nan()],  # xor (stale marker)
        np.full(50, 7.0),
    ]
    vals = np.concatenate(parts)
    counts = np.full(len(parts), 50, np.int64)
    ts = np.tile(np.arange(50, dtype=np.int64) * 15_000, len(parts))
    c, t, v = decode_page(encode_page(counts, ts, vals))
    assert c.tolist() == counts.tolist() and t.tolist() == ts.tolist()
    assert v.view(np.uint64).tolist() == vals.view(np.uint64).tolist()
