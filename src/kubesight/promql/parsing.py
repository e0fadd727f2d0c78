"""Parsing as Prometheus 3.x parses: promql-parser, with the differences made good.

promql-parser decides whether a query parses. Where it refuses what 3.x
accepts, the query is respelled (:mod:`.syntax.rewrite`) and parsed again;
where it accepts what 3.x refuses, the parsed expression is checked and the
locator's positioned message raised; its own refusals are worded and
positioned as Prometheus words them (:mod:`.syntax_errors`).
"""

from __future__ import annotations

from typing import Any

import promql_parser as pp

from kubesight.promql.errors import BadDataError
from kubesight.promql.syntax.locator import Locator
from kubesight.promql.syntax.rewrite import accepted_rewrite
from kubesight.promql.syntax_errors import locate as locate_syntax_error


def duration_ms(td: Any) -> int:
    """A parsed duration (a ``timedelta`` or None) in milliseconds, rounded half away from zero."""
    if td is None:
        return 0
    return int(td.total_seconds() * 1000 + (0.5 if td.total_seconds() >= 0 else -0.5))


def parse(query: str) -> pp.Expr:
    """Parse as Prometheus 3.x does, or raise :class:`BadDataError` with its ``parse error``.

    promql-parser decides; where it refuses what Prometheus accepts, the
    query is respelled (:mod:`.syntax.rewrite`) and parsed again, and where it
    accepts what Prometheus refuses, the locator's error is raised.
    """
    try:
        expr = _parse_or_panic(query)
    except ValueError as exc:
        respelled = accepted_rewrite(query)
        fixed: pp.Expr | None = None
        if respelled is not None:
            try:
                fixed = _parse_or_panic(respelled)
            except ValueError:
                fixed = None
        if fixed is None:
            # promql-parser's message has no position; say it as Prometheus does.
            raise BadDataError(f"invalid parameter \"query\": {locate_syntax_error(query, str(exc))}") from exc
        expr = fixed
    _refuse_what_prometheus_refuses(query, expr)
    return expr


def _unreadable_at(expr: pp.Expr) -> bool:
    found: list[bool] = []

    def visit(node: Any) -> None:
        at = getattr(node, "at", None) if isinstance(node, pp.VectorSelector | pp.SubqueryExpr) else None
        if at is not None and at.type == pp.AtModifierType.At:
            try:
                at.at.timestamp()
            except BaseException as exc:  # pyo3 panics on times it cannot convert
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                found.append(True)

    pp.walk(expr, visit)
    return bool(found)


def _has_fill(node: Any) -> bool:
    fill = node.modifier.fill_values if node.modifier is not None else None
    return fill is not None and (fill.lhs is not None or fill.rhs is not None)


def _zero_duration(node: Any) -> bool:
    if isinstance(node, pp.MatrixSelector):
        return duration_ms(node.range) <= 0
    if isinstance(node, pp.SubqueryExpr):
        return duration_ms(node.range) <= 0 or (node.step is not None and duration_ms(node.step) <= 0)
    return False


def _huge_duration(node: Any) -> bool:
    """A duration past Prometheus' int64 nanoseconds (promql-parser keeps them, some past timedelta's range)."""
    names = {pp.MatrixSelector: ("range",), pp.SubqueryExpr: ("range", "step", "offset"),
             pp.VectorSelector: ("offset",)}.get(type(node), ())
    try:
        values = [getattr(node, name) for name in names]
    except (ValueError, OverflowError):
        return True
    # Prometheus holds durations as int64 nanoseconds.
    return any(v is not None and abs(duration_ms(v)) * 1_000_000 > 2**63 - 1 for v in values)


def _parse_or_panic(query: str) -> pp.Expr:
    try:
        return pp.parse(query)
    except ValueError:
        raise
    except BaseException as exc:  # the Rust parser panics on a few inputs (pyo3 PanicException)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        # Worded by the locator when it finds Prometheus' error, else the panic's text.
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadDataError(f"invalid parameter \"query\": {locate_syntax_error(query, message)}") from exc


def _refuse_what_prometheus_refuses(query: str, expr: pp.Expr) -> None:
    """Prometheus' checks promql-parser does not make: info()'s selector, zero ranges and
    steps, fill modifiers (behind a feature flag kubesight leaves off), and "or"
    between matchers (a promql-parser extension Prometheus' grammar does not have)."""
    suspect: list[str] = []
    number_overflow: list[bool] = []

    def visit(node: Any) -> None:
        if isinstance(node, pp.Call) and str(node.func.name) == "info" and len(node.args) > 1:
            arg = node.args[1]
            if not isinstance(arg, pp.VectorSelector) or arg.name:
                suspect.append("expected label selectors only")
        elif isinstance(node, pp.VectorSelector) and list(node.matchers.or_matchers):
            # A promql-parser extension; Prometheus' grammar has no "or" between matchers.
            suspect.append('unexpected identifier "or" in label matching, expected "," or "}"')
        elif isinstance(node, pp.BinaryExpr) and _has_fill(node):
            suspect.append("binop fill modifiers are experimental and not enabled")
        elif isinstance(node, pp.NumberLiteral) and abs(float(node.val)) == float("inf"):
            # Go's ParseFloat refuses a literal that overflows (1e400); "Inf" itself is fine.
            number_overflow.append(True)
        elif _huge_duration(node):
            suspect.append("duration out of range")
        elif _zero_duration(node):
            suspect.append("duration must be greater than 0")

    pp.walk(expr, visit)
    if not suspect and (number_overflow or _unreadable_at(expr)):
        # An infinite number literal, or an @ time promql-parser cannot hand
        # out: an error only if the locator finds one (1e400, @ 1e20), not for
        # Inf or an @ before 1970 (valid; evaluation says what it cannot do).
        loc = Locator(query)
        loc.parse()
        if loc.errors and loc.errors[0][1]:
            raise BadDataError(f"invalid parameter \"query\": {locate_syntax_error(query, loc.errors[0][1])}")
    if suspect:
        # The locator words and positions the error; our own words if it cannot.
        msg = locate_syntax_error(query, suspect[0])
        raise BadDataError(f"invalid parameter \"query\": {msg}")
