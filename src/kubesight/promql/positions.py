"""Where things are in a query, for annotations that carry Prometheus' ``(line:col)``.

promql-parser exposes no positions; these helpers re-lex the query text with
the Prometheus-faithful lexer of the syntax-error locator. They answer ``""``
(no position) whenever the text cannot be lexed or the item is not found, so
an annotation is never wrong about where, at worst silent about it.
"""

from __future__ import annotations

from itertools import pairwise

from kubesight.promql.syntax.lexer import Lexer, LexError, Tok


def tokens(query: str) -> list[Tok]:
    """All tokens of ``query`` up to the end, or ``[]`` if it does not lex."""
    lx = Lexer(query)
    out: list[Tok] = []
    try:
        while True:
            t = lx.next()
            if t.typ == "EOF":
                return out
            out.append(t)
    except LexError:
        return []
    except Exception:  # a lexer bug must cost the position, never the query
        return []


def line_col(query: str, pos: int) -> str:
    """`` (line:col)`` for a character offset, columns counted in bytes as Go does."""
    before = query[:pos]
    line = before.count("\n") + 1
    col = len(before[before.rfind("\n") + 1 :].encode()) + 1
    return f" ({line}:{col})"


def call_positions(query: str, names: frozenset[str]) -> list[str]:
    """Positions of every call of a function in ``names``, in text order."""
    toks = tokens(query)
    return [
        line_col(query, t.pos)
        for t, nxt in pairwise(toks)
        if t.val in names and nxt.typ == "LEFT_PAREN"
    ]


def aggregation_param_positions(query: str, op: str) -> list[str]:
    """Positions of the parameter of every ``op(param, expr)`` aggregation, in text order."""
    toks = tokens(query)
    out: list[str] = []
    for i, t in enumerate(toks):
        if t.typ != op.upper():
            continue
        j = i + 1
        if j < len(toks) and toks[j].typ in ("BY", "WITHOUT"):
            j += 1  # the grouping list: skip to its ")"
            while j < len(toks) and toks[j].typ != "RIGHT_PAREN":
                j += 1
            j += 1
        if j + 1 < len(toks) and toks[j].typ == "LEFT_PAREN":
            out.append(line_col(query, toks[j + 1].pos))
    return out


def first_argument_positions(query: str, name: str) -> list[str]:
    """Positions of the first argument of every call of ``name``, in text order."""
    toks = tokens(query)
    return [
        line_col(query, toks[i + 2].pos)
        for i in range(len(toks) - 2)
        if toks[i].val == name and toks[i + 1].typ == "LEFT_PAREN"
    ]


def argument_positions(query: str, name: str, index: int) -> list[str]:
    """Positions of argument ``index`` of every call of ``name``, in text order."""
    toks = tokens(query)
    out: list[str] = []
    for i in range(len(toks) - 1):
        if toks[i].val != name or toks[i + 1].typ != "LEFT_PAREN":
            continue
        depth, arg, at_start = 0, 0, False
        for k in range(i + 1, len(toks)):
            typ = toks[k].typ
            if at_start:
                if arg == index:
                    out.append(line_col(query, toks[k].pos))
                    break
                at_start = False
            if typ in ("LEFT_PAREN", "LEFT_BRACE", "LEFT_BRACKET"):
                depth += 1
                at_start = depth == 1  # the call's own "(": its first argument follows
            elif typ in ("RIGHT_PAREN", "RIGHT_BRACE", "RIGHT_BRACKET"):
                depth -= 1
                if depth == 0:
                    break
            elif typ == "COMMA" and depth == 1:
                arg += 1
                at_start = True
    return out
