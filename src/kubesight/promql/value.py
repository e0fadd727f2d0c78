"""Query results: what :class:`~kubesight.promql.Engine` returns.

Results stay columnar (numpy) so the API layer can encode them without a
Python object per sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from kubesight.model import Labels
from kubesight.model.samples import F64, I64


@dataclass
class Scalar:
    t_ms: int
    value: float
    result_type: Literal["scalar"] = "scalar"


@dataclass
class String:
    t_ms: int
    value: str
    result_type: Literal["string"] = "string"


@dataclass
class Vector:
    """An instant vector: one sample per series, all at ``t_ms``."""

    t_ms: int
    labels: list[Labels]
    values: F64
    result_type: Literal["vector"] = "vector"

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class Matrix:
    """Series in CSR layout (like :class:`kubesight.model.SeriesData`)."""

    labels: list[Labels]
    offsets: I64
    timestamps: I64
    values: F64
    result_type: Literal["matrix"] = "matrix"

    def __len__(self) -> int:
        return len(self.labels)

    def samples(self, i: int) -> tuple[I64, F64]:
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.timestamps[a:b], self.values[a:b]

    @staticmethod
    def empty() -> Matrix:
        return Matrix([], np.zeros(1, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))


Value = Scalar | String | Vector | Matrix


@dataclass
class QueryStats:
    """What a query touched and how long it took (seconds)."""

    total_queryable_samples: int = 0
    peak_samples: int = 0
    select_time: float = 0.0
    eval_total_time: float = 0.0
    query_preparation_time: float = 0.0
    inner_eval_time: float = 0.0
    result_sort_time: float = 0.0
    exec_total_time: float = 0.0


@dataclass
class QueryResult:
    value: Value
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    stats: QueryStats = field(default_factory=QueryStats)
