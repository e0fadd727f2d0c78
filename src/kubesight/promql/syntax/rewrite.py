"""Spellings Prometheus 3.x accepts and promql-parser refuses, respelled so it parses them.

Only used after promql-parser has refused a query; the result is parsed
again and, if that fails too, the original query's error is reported. Every
edit keeps the meaning:

- ``offset 0s`` (any zero duration): Prometheus 3.x accepts a zero offset,
  promql-parser only the number ``0``; the duration becomes ``0``.
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
