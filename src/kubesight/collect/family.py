"""What every built-in collector produces: metric families, ready to append or serve.

A collector (host, containers, kube_state) answers :meth:`Collector.collect`
with a list of :class:`Family`: the family's metadata and its samples, each
sample a full label set (with ``__name__``, so histograms and summaries can
carry ``_bucket``/``_sum``/``_count``) and a value. The same list is either
appended straight into the store (:func:`to_batch`, in ``kubesight server``)
or served on a ``/metrics`` endpoint (:func:`encode`) for another Prometheus
to scrape: one code path, two outlets, so both always agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from kubesight.model.labels import METRIC_NAME, Labels
from kubesight.model.samples import MetricMetadata, SampleBatch
from kubesight.wire.exposition import encode_text


@dataclass
class Family:
    """One metric family: ``name`` is the family name (``node_cpu_seconds_total``)."""

    name: str
    type: str  # counter gauge histogram summary info stateset unknown (as MetricMetadata)
    help: str
    unit: str = ""
    samples: list[tuple[Labels, float]] = field(default_factory=list)

    def add(self, value: float, labels: Iterable[tuple[str, str]] = (), suffix: str = "") -> None:
        """Add a sample of ``name + suffix`` with ``labels`` (any order; empty values dropped)."""
        pairs = [(k, v) for k, v in labels if v != ""]
        pairs.append((METRIC_NAME, self.name + suffix))
        pairs.sort()
        self.samples.append((tuple(pairs), float(value)))

    @property
    def metadata(self) -> MetricMetadata:
        return MetricMetadata(self.name, self.type, self.help, self.unit)


class Collector(Protocol):
    """A source of families, collected on demand.

    ``collect`` may block on file reads (it is run in a worker thread); it
    never raises for data it cannot read: it skips it and says so in its own
    families (node_exporter's ``node_scrape_collector_success`` style).
    """

    name: str

    def collect(self) -> list[Family]: ...


def to_batch(families: Sequence[Family], ts_ms: int, extra: Labels = ()) -> SampleBatch:
    """All samples of ``families`` at ``ts_ms``, with ``extra`` labels (job, instance) added.

    A label in ``extra`` replaces a collector label of the same name, as a
    scrape without ``honor_labels`` would make it ``exported_<name>``: here the
    collector label is kept under that name.
    """
    series: list[Labels] = []
    values: list[float] = []
    extra_names = {k for k, _ in extra}
    for fam in families:
        for lbls, v in fam.samples:
            if extra:
                d = dict(lbls)
                for k in extra_names & d.keys():
                    d["exported_" + k] = d.pop(k)
                d.update(extra)
                lbls = tuple(sorted(d.items()))
            series.append(lbls)
            values.append(v)
    n = len(series)
    return SampleBatch(
        series,
        np.arange(n, dtype=np.int32),
        np.full(n, ts_ms, np.int64),
        np.asarray(values, np.float64),
        metadata=[f.metadata for f in families],
    )


def encode(families: Sequence[Family]) -> bytes:
    """Text exposition 0.0.4 of ``families``, as client_golang writes it."""
    return encode_text((f.metadata, [(lbls, v, None) for lbls, v in f.samples]) for f in families)
