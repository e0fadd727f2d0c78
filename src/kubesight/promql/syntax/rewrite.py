"""Spellings Prometheus 3.x accepts and promql-parser refuses, respelled so it parses them.

Only used after promql-parser has refused a query; the result is parsed
again and, if that fails too, the original query's error is reported. Every
edit keeps the meaning:

- ``offset 0s`` (any zero duration): Prometheus 3.x accepts a zero offset,
  promql-parser only the number ``0``; the duration becomes ``0``.
- ``anchored`` and ``smoothed`` as metric or label names (3.x keywords that
  its grammar also takes as names): written ``{__name__="anchored"}`` or
  quoted (``by ("anchored")``).
- ``info(v, {k=~".*"})``: Prometheus exempts info's data-label selector from
  the rule that a selector needs a matcher that cannot match the empty string;
  a marker matcher on ``BYPASS_LABEL`` (dropped before evaluation) is added.
"""

from __future__ import annotations

import re

from kubesight.promql.syntax.lexer import Lexer, LexError, Tok

BYPASS_LABEL = "__kubesight_info_selector__"
BYPASS_MATCHER = BYPASS_LABEL + '!=""'
_ZERO_DURATION = re.compile(r"(?:0+[a-z]+)+")
# Tokens that can end an expression: a keyword after one is a modifier, not a name.
_ENDS_EXPR = frozenset(
    {"IDENTIFIER", "METRIC_IDENTIFIER", "NUMBER", "STRING", "DURATION", "RIGHT_PAREN",
     "RIGHT_BRACE", "RIGHT_BRACKET", "ANCHORED", "SMOOTHED"}
)
_GROUPING = frozenset({"BY", "WITHOUT", "ON", "IGNORING", "GROUP_LEFT", "GROUP_RIGHT"})


def _tokens(query: str) -> list[Tok] | None:
    lx = Lexer(query)
    out: list[Tok] = []
    try:
        while (t := lx.next()).typ != "EOF":
            out.append(t)
    except LexError:
        return None
    return out


def accepted_rewrite(query: str) -> str | None:
    """The query respelled for promql-parser, or None when there is nothing to respell."""
    try:
        return _respell(query)
    except Exception:  # a bug here must leave the original parse error, not raise another
        return None


def _respell(query: str) -> str | None:
    toks = _tokens(query)
    if toks is None:
        return None
    edits: list[tuple[int, int, str]] = []  # (position, length replaced, new text)
    for i, t in enumerate(toks):
        if t.typ == "DURATION" and _ZERO_DURATION.fullmatch(t.val):
            j = i - 1
            if j >= 0 and toks[j].typ in ("ADD", "SUB"):
                j -= 1
            if j >= 0 and toks[j].typ == "OFFSET":
                # Same length, so nothing after it moves.
                edits.append((t.pos, len(t.val), "0".ljust(len(t.val))))
        elif t.typ in ("ANCHORED", "SMOOTHED") and not _after_expression(toks, i):
            edits.append(_keyword_as_name(toks, i))
        elif t.typ == "IDENTIFIER" and t.val == "info" and i + 1 < len(toks) and toks[i + 1].typ == "LEFT_PAREN":
            brace = _second_argument_brace(toks, i + 1)
            if brace is not None:
                empty = brace + 1 < len(toks) and toks[brace + 1].typ == "RIGHT_BRACE"
                edits.append((toks[brace].pos + 1, 0, BYPASS_MATCHER + ("" if empty else ", ")))
    if not edits:
        return None
    out = query
    for pos, length, text in sorted(edits, reverse=True):
        out = out[:pos] + text + out[pos + length :]
    return out


def _after_expression(toks: list[Tok], i: int) -> bool:
    """Whether token ``i`` follows a complete expression (a ")" closing a label list does not end one)."""
    if i == 0 or toks[i - 1].typ not in _ENDS_EXPR:
        return False
    if toks[i - 1].typ != "RIGHT_PAREN":
        return True
    depth = 0
    for k in range(i - 1, -1, -1):
        if toks[k].typ == "RIGHT_PAREN":
            depth += 1
        elif toks[k].typ == "LEFT_PAREN":
            depth -= 1
            if depth == 0:
                return not (k > 0 and toks[k - 1].typ in _GROUPING)
    return True


def _keyword_as_name(toks: list[Tok], i: int) -> tuple[int, int, str]:
    """``anchored``/``smoothed`` where a name is expected: quoted, which means the same in 3.x."""
    t = toks[i]
    k = i - 1
    if k >= 0 and toks[k].typ == "COMMA":
        while k >= 0 and toks[k].typ not in ("LEFT_PAREN", "RIGHT_PAREN"):
            k -= 1  # back over the label list to its "("
    if k >= 1 and toks[k].typ == "LEFT_PAREN" and toks[k - 1].typ in _GROUPING:
        return (t.pos, len(t.val), f'"{t.val}"')
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if nxt is not None and nxt.typ == "LEFT_BRACE":
        return (t.pos, nxt.pos + 1 - t.pos, f'{{__name__="{t.val}",')
    return (t.pos, len(t.val), f'{{__name__="{t.val}"}}')


def _second_argument_brace(toks: list[Tok], open_paren: int) -> int | None:
    """Index of the "{" that starts the second argument of the call opened at ``open_paren``."""
    depth = 0
    for k in range(open_paren, len(toks)):
        typ = toks[k].typ
        if typ in ("LEFT_PAREN", "LEFT_BRACE", "LEFT_BRACKET"):
            depth += 1
        elif typ in ("RIGHT_PAREN", "RIGHT_BRACE", "RIGHT_BRACKET"):
            depth -= 1
            if depth == 0:
                return None
        elif typ == "COMMA" and depth == 1:
            nxt = k + 1
            return nxt if nxt < len(toks) and toks[nxt].typ == "LEFT_BRACE" else None
    return None
