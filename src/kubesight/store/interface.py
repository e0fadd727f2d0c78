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

from kubesight.model import Labels, Matcher, MetricMetadata, SampleBatch, SeriesData


@dataclass
class AppendResult:
    """What an append accepted and what it refused, and why."""

    samples_written: int = 0
    series_rejected: int = 0
    samples_rejected: int = 0
    errors: list[str] = field(default_factory=list)
    """Up to a few messages naming the rejected series and the reason."""


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
