"""The parser front end (respellings, after-parse checks, locator) never fails with anything but a PromQL error."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from kubesight.promql import Engine, PromQLError
from kubesight.promql.engine import parse
from kubesight.promql.positions import aggregation_param_positions, call_positions
from kubesight.promql.syntax.rewrite import accepted_rewrite
from kubesight.store.memory import MemoryStore

# Fragments around what the front end handles specially, so random joins hit it.
FRAGMENTS = [
    "x", "up", " ", "offset", "0s", "-0ms", "5m", "info(", "info", "{", "}", "(", ")", ",",
    '__name__!="t"', 'k=~".*"', 'a="b"', "[5m]", "[5m:0]", "[0:1m]", "@", "100", "start()",
    "anchored", "smoothed", "fill(0)", "on(", "by (", "sum", "limit_ratio(", "0.5", "+", "<",
    "/", '"', "step()", "#", "\n", "sort(", "quantile(", "1.5",
]

queries = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12).map("".join)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(queries)
def test_parse_fails_only_with_promql_errors(query: str) -> None:
    with contextlib.suppress(PromQLError):
        parse(query)
    # Helpers used on accepted queries must never raise either.
    accepted_rewrite(query)
    call_positions(query, frozenset({"sort"}))
    aggregation_param_positions(query, "limit_ratio")


@settings(max_examples=150, derandomize=True, deadline=None)
@given(queries)
def test_evaluation_fails_only_with_promql_errors(query: str) -> None:
    engine = Engine(MemoryStore())
    with contextlib.suppress(PromQLError):
        engine.instant(query, 1_000_000)
        engine.range(query, 0, 600_000, 60_000)
