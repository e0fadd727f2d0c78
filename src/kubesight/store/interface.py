"""The narrow interfaces between the store and everything else.

Producers (ingest protocols, scrape, collectors, recording rules) see only an
:class:`Appender`; readers (PromQL, the series APIs, remote read) see only a
:class:`Querier`. Both are structural ``Protocol``s so a test can pass any
object with the right methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from kubesight.model import Labels, Matcher, MetricMetadata, SampleBatch, SeriesData


@dataclass
class AppendResult:
    """What an append accepted and what it refused, and why."""

    samples_written: int = 0
    series_rejected: int = 0
    samples_rejected: int = 0
    errors: list[str] = field(default_factory=list)
    """Up to a few messages naming the rejected series and the reason."""


class SeriesRefs:
    """A fixed list of distinct series that one producer appends to again and again.

    A scrape target sends the same series every interval. Passing the same
    ``SeriesRefs`` to :func:`append_refs` each time lets a store resolve the
    label sets to its series ids once and keep them here (``ids``, valid while
    ``owner`` and ``epoch`` match the store), so a repeat append costs no
    label hashing at all: Prometheus' scrape cache of series references.
    """

    __slots__ = ("epoch", "ids", "owner", "series")

    def __init__(self, series: Sequence[Labels]) -> None:
        self.series = list(series)
        self.ids: npt.NDArray[np.int64] | None = None  # store ids, -1 for a refused series
        self.epoch = -1
        self.owner: object = None

    def __len__(self) -> int:
        return len(self.series)


def append_refs(
    store: Appender,
    refs: SeriesRefs,
    ts_ms: int,
    values: npt.NDArray[np.float64],
    metadata: Sequence[MetricMetadata] = (),
) -> AppendResult:
    """Append one sample per series of ``refs`` (``values`` in the same order) at ``ts_ms``.

    Uses the store's ``append_refs`` fast path when it has one, else a plain
    :meth:`Appender.append`: any appender works, the embedded store is fast.
    """
    fast = getattr(store, "append_refs", None)
    if fast is not None:
        res: AppendResult = fast(refs, ts_ms, values, metadata)
        return res
    n = len(refs.series)
    return store.append(
        SampleBatch(
            refs.series,
            np.arange(n, dtype=np.int32),
            np.full(n, ts_ms, np.int64),
            values,
            metadata=list(metadata),
        )
    )


class Appender(Protocol):
    def append(self, batch: SampleBatch) -> AppendResult:
        """Append samples. Returns once they are durable (in the WAL).

        Valid series are written even when others in the batch are refused;
        the result says what was refused and why.
        """
        ...


class Querier(Protocol):
    def select(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> SeriesData:
        """Samples with ``start_ms <= t <= end_ms`` of every series matched by all matchers."""
        ...

    def series(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[Labels]:
        """Label sets of matched series that have samples in the range (sorted)."""
        ...

    def label_names(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]: ...

    def label_values(
        self, name: str, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]: ...

    def metadata(self, metric: str = "", limit: int = 0) -> dict[str, list[MetricMetadata]]: ...
