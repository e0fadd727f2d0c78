"""An in-memory store: the reference implementation and a test double.

Simple on purpose: a dict of series with Python lists, correct by inspection.
Tests of PromQL and the APIs run on it; tests of the embedded engine compare
against it. Not for production data volumes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kubesight.errors import ValidationError
from kubesight.model import Labels, Matcher, MetricMetadata, SampleBatch, SeriesData
from kubesight.model.labels import validate_labels
from kubesight.store.interface import AppendResult

_MAX_ERRORS = 5


class MemoryStore:
    def __init__(self) -> None:
        self._series: dict[Labels, dict[int, float]] = {}
        self._metadata: dict[str, list[MetricMetadata]] = {}

    def append(self, batch: SampleBatch) -> AppendResult:
        res = AppendResult()
        canon: list[Labels | None] = []
        for lbls in batch.series:
            try:
                canon.append(validate_labels(lbls))
            except ValidationError as exc:
                canon.append(None)
                res.series_rejected += 1
                if len(res.errors) < _MAX_ERRORS:
                    res.errors.append(str(exc))
        for ref, t, v in zip(
            batch.series_ref.tolist(), batch.timestamps.tolist(), batch.values.tolist(), strict=True
        ):
            lbls = canon[ref]
            if lbls is None:
                res.samples_rejected += 1
                continue
            self._series.setdefault(lbls, {})[t] = v
            res.samples_written += 1
        for md in batch.metadata:
            self._metadata[md.metric_family] = [md]
        return res

    def _matching(self, matchers: Sequence[Matcher]) -> list[Labels]:
        return sorted(
            lbls for lbls in self._series if all(m.matches_labels(lbls) for m in matchers)
        )

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> SeriesData:
        out_labels: list[Labels] = []
        offsets = [0]
        ts: list[int] = []
        vs: list[float] = []
        for lbls in self._matching(matchers):
            pts = sorted((t, v) for t, v in self._series[lbls].items() if start_ms <= t <= end_ms)
            if not pts:
                continue
            out_labels.append(lbls)
            ts.extend(t for t, _ in pts)
            vs.extend(v for _, v in pts)
            offsets.append(len(ts))
        return SeriesData(
            out_labels,
            np.asarray(offsets, np.int64),
            np.asarray(ts, np.int64),
            np.asarray(vs, np.float64),
        )

    def series(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[Labels]:
        out = [
            lbls
            for lbls in self._matching(matchers)
            if any(start_ms <= t <= end_ms for t in self._series[lbls])
        ]
        return out[:limit] if limit else out

    def label_names(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        names = sorted({k for lbls in self.series(matchers, start_ms, end_ms) for k, _ in lbls})
        return names[:limit] if limit else names

    def label_values(
        self, name: str, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        vals = sorted(
            {v for lbls in self.series(matchers, start_ms, end_ms) for k, v in lbls if k == name}
        )
        return vals[:limit] if limit else vals

    def metadata(self, metric: str = "", limit: int = 0) -> dict[str, list[MetricMetadata]]:
        items = sorted(self._metadata.items())
        if metric:
            items = [(k, v) for k, v in items if k == metric]
        return dict(items[:limit] if limit else items)
