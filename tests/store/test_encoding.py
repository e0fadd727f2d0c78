"""Block pages round-trip every float bit-exactly, whatever mode each series takes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubesight.errors import CorruptionError
from kubesight.model import stale_nan
from kubesight.store.encoding import choose_decimals, decode_page, encode_page


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
