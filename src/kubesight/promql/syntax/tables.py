"""The grammar's tables (functions, token classes) and the locator's syntax tree."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Function signatures of Prometheus 3.x (promql/parser/functions.go): argument
# types (v instant vector, m range vector, s scalar, t string) and Variadic.
FUNCTIONS: dict[str, tuple[str, int]] = {
    "abs": ("v", 0), "absent": ("v", 0), "absent_over_time": ("m", 0), "acos": ("v", 0),
    "acosh": ("v", 0), "asin": ("v", 0), "asinh": ("v", 0), "atan": ("v", 0),
    "atanh": ("v", 0), "avg_over_time": ("m", 0), "ceil": ("v", 0), "changes": ("m", 0),
    "clamp": ("vss", 0), "clamp_max": ("vs", 0), "clamp_min": ("vs", 0), "cos": ("v", 0),
    "cosh": ("v", 0), "count_over_time": ("m", 0), "days_in_month": ("v", 1),
    "day_of_month": ("v", 1), "day_of_week": ("v", 1), "day_of_year": ("v", 1),
    "deg": ("v", 0), "delta": ("m", 0), "deriv": ("m", 0), "exp": ("v", 0),
    "first_over_time": ("m", 0), "floor": ("v", 0), "histogram_avg": ("v", 0),
    "histogram_count": ("v", 0), "histogram_sum": ("v", 0), "histogram_stddev": ("v", 0),
    "histogram_stdvar": ("v", 0), "histogram_fraction": ("ssv", 0),
    "histogram_quantile": ("sv", 0), "double_exponential_smoothing": ("mss", 0),
    "hour": ("v", 1), "idelta": ("m", 0), "increase": ("m", 0), "info": ("vv", 1),
    "irate": ("m", 0), "label_replace": ("vtttt", 0), "label_join": ("vttt", -1),
    "last_over_time": ("m", 0), "ln": ("v", 0), "log10": ("v", 0), "log2": ("v", 0),
    "mad_over_time": ("m", 0), "max_over_time": ("m", 0), "min_over_time": ("m", 0),
    "ts_of_first_over_time": ("m", 0), "ts_of_max_over_time": ("m", 0),
    "ts_of_min_over_time": ("m", 0), "ts_of_last_over_time": ("m", 0),
    "minute": ("v", 1), "month": ("v", 1), "pi": ("", 0), "predict_linear": ("ms", 0),
    "present_over_time": ("m", 0), "quantile_over_time": ("sm", 0), "rad": ("v", 0),
    "rate": ("m", 0), "resets": ("m", 0), "round": ("vs", 1), "scalar": ("v", 0),
    "sgn": ("v", 0), "sin": ("v", 0), "sinh": ("v", 0), "sort": ("v", 0),
    "sort_desc": ("v", 0), "sort_by_label": ("vt", -1), "sort_by_label_desc": ("vt", -1),
    "sqrt": ("v", 0), "stddev_over_time": ("m", 0), "stdvar_over_time": ("m", 0),
    "sum_over_time": ("m", 0), "tan": ("v", 0), "tanh": ("v", 0), "time": ("", 0),
    "timestamp": ("v", 0), "vector": ("s", 0), "year": ("v", 1),
    "histogram_quantiles": ("vtss", 9), "start_timestamp": ("v", 0),
    "max_of": ("ss", 0), "min_of": ("ss", 0),
    "start": ("", 0), "end": ("", 0), "step": ("", 0), "range": ("", 0),
}
SCALAR_FUNCTIONS = frozenset({"scalar", "time", "pi", "max_of", "min_of", "start", "end", "step", "range"})
TYPE_CODES = {"v": "vector", "m": "matrix", "s": "scalar", "t": "string"}
# DocumentedType() of parse.go.
DOCUMENTED = {"vector": "instant vector", "matrix": "range vector", "scalar": "scalar", "string": "string"}

METRIC_IDENT_TYPES = frozenset(
    {"AVG", "BOTTOMK", "BY", "COUNT", "COUNT_VALUES", "GROUP", "IDENTIFIER", "LAND", "LOR",
     "LUNLESS", "MAX", "METRIC_IDENTIFIER", "MIN", "OFFSET", "QUANTILE", "STDDEV", "STDVAR",
     "SUM", "TOPK", "WITHOUT", "START", "END", "LIMITK", "LIMIT_RATIO"}
)
# 3.x keywords that are also metric and label names (metric_identifier, maybe_label).
METRIC_IDENT_TYPES = METRIC_IDENT_TYPES | {"ANCHORED", "SMOOTHED", "FILL", "FILL_LEFT", "FILL_RIGHT"}
FILL_TOKENS = frozenset({"FILL", "FILL_LEFT", "FILL_RIGHT"})
LABEL_TYPES = METRIC_IDENT_TYPES | {"BOOL", "GROUP_LEFT", "GROUP_RIGHT", "IGNORING", "ON", "ATAN2"}
EXPR_START = METRIC_IDENT_TYPES | {"NUMBER", "STRING", "LEFT_PAREN", "LEFT_BRACE", "ADD", "SUB"}
MATCH_OPS = frozenset({"EQL", "NEQ", "EQL_REGEX", "NEQ_REGEX"})
_DURATION_RE = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")


@dataclass
class Node:
    kind: str  # vs matrix subquery call agg binary unary paren number string
    start: int
    typ: str
    children: list[Node] = field(default_factory=list)
    name: str = ""
    offset: bool = False
    at: bool = False
    matchers: list[tuple[str, str, str]] = field(default_factory=list)
    op: str = ""
    op_pos: int = 0
    bool_mod: bool = False
    card: str = "one"
    on: bool = False
    labels: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=list)
    has_matching: bool = False
    bypass_empty_check: bool = False  # info()'s data-label selector
    fill: bool = False  # fill(), fill_left(), fill_right() modifiers


class FirstError(Exception):
    """The parser stops at its first syntax error, as yacc's error recovery
    only ever adds errors after the first one."""
