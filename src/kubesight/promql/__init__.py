"""PromQL: parsing by promql-parser, evaluation over numpy arrays.

Public surface: :class:`Engine` and the result types of :mod:`.value`.
"""

from kubesight.promql.engine import Engine, parse
from kubesight.promql.errors import (
    BadDataError,
    ExecutionError,
    PromQLError,
    QueryTimeoutError,
    TooManySamplesError,
)
from kubesight.promql.value import Matrix, QueryResult, QueryStats, Scalar, String, Value, Vector

__all__ = [
    "BadDataError",
    "Engine",
    "ExecutionError",
    "Matrix",
    "PromQLError",
    "QueryResult",
    "QueryStats",
    "QueryTimeoutError",
    "Scalar",
    "String",
    "TooManySamplesError",
    "Value",
    "Vector",
    "parse",
]
