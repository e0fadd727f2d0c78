"""Samples in columnar form.

Data moves through kubesight as numpy columns, never as one Python object per
sample: a decoder produces a :class:`SampleBatch` (one row per sample, series
given by an index into a list of label sets), the store returns a
:class:`SeriesData` (samples grouped per series in CSR layout).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from kubesight.model.labels import Labels

STALE_NAN_BITS = 0x7FF0000000000002
"""Prometheus' staleness marker: a NaN with this exact bit pattern."""

_STALE = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]


def stale_nan() -> float:
    return float(_STALE)


def is_stale_nan(values: F64) -> npt.NDArray[np.bool_]:
    """Elementwise: is this value the staleness marker (not just any NaN)?"""
    bits = np.asarray(values, dtype=np.float64).view(np.uint64)
    out: npt.NDArray[np.bool_] = bits == np.uint64(STALE_NAN_BITS)
    return out


class MetricMetadata(NamedTuple):
    metric_family: str
    type: str  # counter gauge histogram gaugehistogram summary info stateset unknown
    help: str
    unit: str


@dataclass
class SampleBatch:
    """Samples for many series, one row per sample.

    ``series_ref[i]`` indexes ``series`` for sample ``i``. Label sets are raw as
    decoded (the store validates the ones it has not seen before).
    """

    series: list[Labels]
    series_ref: I32
    timestamps: I64
    values: F64
    metadata: list[MetricMetadata] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.series_ref)
        if len(self.timestamps) != n or len(self.values) != n:
            raise ValueError("SampleBatch columns must have equal length")

    def __len__(self) -> int:
        return len(self.series_ref)

    @staticmethod
    def empty() -> SampleBatch:
        return SampleBatch(
            [], np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0, np.float64)
        )

    @staticmethod
    def from_series(items: list[tuple[Labels, list[tuple[int, float]]]]) -> SampleBatch:
        """Convenience for tests and small producers: ``[(labels, [(ts, v), ...]), ...]``."""
        refs: list[int] = []
        ts: list[int] = []
        vs: list[float] = []
        for i, (_, samples) in enumerate(items):
            for t, v in samples:
                refs.append(i)
                ts.append(t)
                vs.append(v)
        return SampleBatch(
            [lbl for lbl, _ in items],
            np.asarray(refs, np.int32),
            np.asarray(ts, np.int64),
            np.asarray(vs, np.float64),
        )


@dataclass
class SeriesData:
    """Samples of many series in CSR layout, each series sorted by timestamp.

    Samples of series ``i`` are ``timestamps[offsets[i]:offsets[i+1]]`` and the
    same slice of ``values``. ``labels`` is sorted (Prometheus' series order).
    """

    labels: list[Labels]
    offsets: I64
    timestamps: I64
    values: F64

    def __len__(self) -> int:
        return len(self.labels)

    def samples(self, i: int) -> tuple[I64, F64]:
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.timestamps[a:b], self.values[a:b]

    @property
    def num_samples(self) -> int:
        return int(self.offsets[-1]) if len(self.offsets) else 0

    @staticmethod
    def empty() -> SeriesData:
        return SeriesData([], np.zeros(1, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))


def stale_markers(series: Iterable[Labels], ts_ms: int) -> SampleBatch:
    """Prometheus' staleness marker at ``ts_ms`` for each series (sorted, so the batch is deterministic)."""
    ordered = sorted(series)
    n = len(ordered)
    return SampleBatch(
        ordered,
        np.arange(n, dtype=np.int32),
        np.full(n, ts_ms, np.int64),
        np.full(n, stale_nan(), np.float64),
    )
