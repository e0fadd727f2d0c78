"""PromQL errors, each carrying the Prometheus API ``errorType``.

::

    QueryError (kubesight.errors)
    └── PromQLError              errorType + message, as Prometheus answers them
        ├── BadDataError         bad_data: the query does not parse or a parameter is invalid
        ├── ExecutionError       execution: the query parsed but could not be evaluated
        │   └── TooManySamplesError  the --query.max-samples limit was reached
        └── QueryTimeoutError    timeout: the query ran past its deadline
"""

from __future__ import annotations

from kubesight.errors import QueryError


class PromQLError(QueryError):
    error_type = "execution"


class BadDataError(PromQLError):
    error_type = "bad_data"


class ExecutionError(PromQLError):
    error_type = "execution"


class TooManySamplesError(ExecutionError):
    def __init__(self) -> None:
        # Prometheus' exact wording, so clients that match on it keep working.
        super().__init__(
            "query processing would load too many samples into memory in query execution"
        )


class QueryTimeoutError(PromQLError):
    error_type = "timeout"

    def __init__(self, where: str = "query execution") -> None:
        super().__init__(f"query timed out in {where}")
