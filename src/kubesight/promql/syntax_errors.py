"""Prometheus' position-bearing syntax errors for queries promql-parser rejects.

promql-parser says *what* is wrong ("unclosed left parenthesis") but not
*where*, and sometimes only "invalid promql query". Prometheus answers
``1:16: parse error: unclosed left parenthesis``. This module re-reads a
rejected query with a lexer that follows Prometheus' ``promql/parser/lex.go``
and a recursive-descent locator that follows its yacc grammar
(``generated_parser.y``) and checks (``parse.go``): it finds the *first*
error Prometheus would report and words it as Prometheus does.

It never evaluates and never decides whether a query is valid: it runs only
after promql-parser has refused one. Where it cannot tell, it keeps
promql-parser's wording and only adds a position it can justify (end of
input for "end of input"/"unclosed" errors), or none.

Pure: a string in, a message out.
"""

from __future__ import annotations

from kubesight.promql.syntax.locator import Locator

__all__ = ["locate"]


def _position(query: str, pos: int) -> str:
    """line:column as ParseErr.Error() counts them: 1-based, columns in bytes."""
    before = query.encode()[:pos].decode(errors="ignore") if not query.isascii() else query[:pos]
    line = before.count("\n") + 1
    col = len(before[before.rfind("\n") + 1:].encode()) + 1
    return f"{line}:{col}"


def locate(query: str, fallback: str) -> str:
    """Prometheus' ``L:C: parse error: ...`` for a query promql-parser rejected
    with message ``fallback``."""
    loc = Locator(query)
    try:
        loc.parse()
    except Exception:  # a locator bug must not turn a 400 into a 500: fall back
        loc.errors = []
    if loc.errors and loc.errors[0][1]:
        pos, msg = loc.errors[0]
        if not query.isascii():
            pos = len(query[:pos].encode())
        return f"{_position(query, pos)}: parse error: {msg}"
    if "end of input" in fallback or fallback.startswith("unclosed"):
        # These are only ever reported where the input ends.
        return f"{_position(query, len(query.encode()))}: parse error: {fallback}"
    return f"parse error: {fallback}"
