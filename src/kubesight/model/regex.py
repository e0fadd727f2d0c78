"""RE2 (Go) regex syntax that Python's ``re`` spells differently.

RE2 accepts a flag group such as ``(?i)`` anywhere, applying it up to the end
of the enclosing group; Python only accepts global flags at the very start
of the whole pattern (and matchers wrap patterns in ``(?s:...)``). Flag
groups become scoped groups: ``((?i)PRO).*`` is ``((?i:PRO)).*`` and
``(?i)abc`` is ``(?i:abc)``, which mean the same. (RE2's ``U`` flag, ungreedy,
has no Python equivalent and is dropped.)
"""

from __future__ import annotations

import re

_FLAGS = re.compile(r"\(\?([imsU-]+)\)")


def compile_anchored(rx: str) -> re.Pattern[str]:
    """Compile a label-matcher regex as Prometheus does: ``^(?s:<rx>)$`` in RE2."""
    return re.compile("(?s:" + go_to_python(rx.replace(r"\z", r"\Z")) + ")")


def go_to_python(rx: str) -> str:
    out: list[str] = []
    i = 0
    n = len(rx)
    while i < n:
        ch = rx[i]
        if ch == "\\" and i + 1 < n:
            out.append(rx[i : i + 2])
            i += 2
            continue
        m = _FLAGS.match(rx, i) if ch == "(" else None
        if m:
            # Scoped, even at the start: callers wrap patterns in (?s:...),
            # where Python refuses a global flag group.
            end = _group_end(rx, m.end())
            inner = go_to_python(rx[m.end() : end])
            flags = m.group(1).replace("U", "")
            out.append(f"(?{flags}:{inner})" if flags.strip("-") else inner)
            i = end
            continue
        if ch == "[":
            j = _class_end(rx, i)
            out.append(rx[i:j])
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _group_end(rx: str, i: int) -> int:
    """Index of the ``)`` closing the group that contains position ``i`` (or len)."""
    depth = 0
    n = len(rx)
    while i < n:
        ch = rx[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _class_end(rx, i)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return n


def _class_end(rx: str, i: int) -> int:
    j = i + 1
    n = len(rx)
    if j < n and rx[j] == "^":
        j += 1
    if j < n and rx[j] == "]":
        j += 1
    while j < n and rx[j] != "]":
        j += 2 if rx[j] == "\\" else 1
    return min(j + 1, n)
