"""The careful way: one line at a time, as Prometheus' lexers read it.

Every line the cache does not know goes through here (see ``cached``): a
sample line of the common shape with one regex match (``_canonical``), any
other line token by token (``_text_tokens``, ``_om_tokens``, ``_text_meta``,
``_om_meta``), which follows ``model/textparse``'s lexers and says what is
wrong where. Errors are :class:`~.floats._LineError`; the caller adds the line
number.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from typing import Final, NamedTuple

from kubesight.errors import DecodeError
from kubesight.model.labels import METRIC_NAME, Labels
from kubesight.wire.exposition.floats import (
    _GO_FLOAT_RE,
    _INT64_MAX,
    _INT64_MIN,
    _go_float,
    _LineError,
    format_openmetrics_float,
)


class _Ctx:
    """Series texts already parsed under one TYPE context (see ExpositionCache)."""

    __slots__ = ("created", "series")

    def __init__(self) -> None:
        self.series: dict[str, Labels] = {}
        self.created: dict[str, Labels] = {}


class _Meta(NamedTuple):
    kind: str  # HELP TYPE UNIT EOF or "" for a plain comment
    name: str
    value: str
    ctx: _Ctx | None = None  # a cached TYPE line carries the context it opens


_COMMENT = _Meta("", "", "")
# Where Prometheus' text lexer reads a NUL as the end of the body: the scrape
# succeeds with the samples before it.
_STOP = _Meta("STOP", "", "")


_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LNAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# A backslash escapes any character but a line break, as in Prometheus' lexer
# (``\\.``); a raw line break is allowed inside the quotes (text format only:
# OpenMetrics lines never contain one).
_QUOTED_RE = re.compile(r'"((?:[^"\\]|\\[^\n])*)"')
# The start of a quoted string that the next line may finish (text format).
_OPEN_QUOTED_RE = re.compile(r'"(?:[^"\\]|\\[^\n])*')
_WS_RE = re.compile(r"[ \t]*")
_TEXT_VALUE_RE = re.compile(r"[^{ \t]+")
_DIGITS_RE = re.compile(r"[0-9]+")
_ESC_RE = re.compile(r"\\(.)", re.DOTALL)
# Prometheus' lvalReplacer (label values, names, OpenMetrics HELP) and
# helpReplacer (text HELP, which keeps \\" as written). Any other escape is
# kept as written, backslash and all.
_ESCAPES: Final = {"\\": "\\", '"': '"', "n": "\n"}
_HELP_ESCAPES: Final = {"\\": "\\", "n": "\n"}

_TEXT_TYPES: Final = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
    "untyped": "unknown",
}
_OM_TYPES: Final = frozenset(
    ("counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown")
)
# typeRequiresST in Prometheus: the types whose _created samples are start times.
_CREATED_TYPES: Final = frozenset(("counter", "summary", "histogram"))


def _skip_ws(s: str, i: int) -> int:
    m = _WS_RE.match(s, i)
    assert m is not None  # [ \t]* always matches
    return m.end()


def _show(s: str, i: int) -> str:
    if i >= len(s):
        return "end of line"
    tail = s[i : i + 16]
    return repr(tail + "..." if len(s) > i + 16 else tail)


def _unescape(raw: str, escapes: dict[str, str] = _ESCAPES, strict: bool = False) -> str:
    if "\\" not in raw:
        return raw

    def repl(m: re.Match[str]) -> str:
        r = escapes.get(m.group(1))
        if r is None:
            if strict:
                raise _LineError(
                    f'invalid escape sequence {m.group()!r} (only \\\\, \\" and \\n are allowed)'
                )
            return m.group()
        return r

    return _ESC_RE.sub(repl, raw)


class _UnterminatedError(_LineError):
    """A quoted string runs to the end of the line; in text, the next line may end it."""


def _unterminated(s: str, i: int, om: bool, msg: str) -> _LineError:
    if not om and _OPEN_QUOTED_RE.fullmatch(s, i) is not None:
        return _UnterminatedError(msg)
    return _LineError(msg)


def _check_utf8(s: str, what: str) -> None:
    # Only lines of a body that failed to decode carry surrogates (surrogateescape).
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            raise _LineError(f"{what} is not valid UTF-8") from None


def _parse_labels(
    s: str,
    i: int,
    name: str | None,
    pairs: list[tuple[str, str]],
    om: bool,
    exemplar: bool = False,
    strict: bool = False,
) -> tuple[int, str | None]:
    """Parse after ``{`` up to and including ``}``; returns (position after, metric name)."""
    n = len(s)

    def ws(j: int) -> int:
        return j if om else _skip_ws(s, j)

    i = ws(i)
    while True:
        if i >= n:
            raise _LineError("unexpected end of line in label set (missing '}')")
        c = s[i]
        if c == "}":
            return i + 1, name
        quoted = c == '"'
        if quoted:
            m = _QUOTED_RE.match(s, i)
            if m is None:
                raise _unterminated(s, i, om or strict, "unterminated quoted label name")
            lname = _unescape(m.group(1), strict=strict)
        else:
            m = _LNAME_RE.match(s, i)
            if m is None:
                raise _LineError(f"expected label name, got {_show(s, i)}")
            lname = m.group()
        i = ws(m.end())
        if quoted and i < n and s[i] in ",}" and not exemplar:
            # {"my.metric", ...}: a lone quoted string is the metric name
            if name is not None:
                raise _LineError(f"metric name already set, got a second one {lname!r}")
            if not lname:
                raise _LineError("empty metric name")
            name = lname
            if s[i] == ",":
                i = ws(i + 1)
            continue
        if i >= n or s[i] != "=":
            raise _LineError(f"expected equal sign after label name {lname!r}, got {_show(s, i)}")
        i = ws(i + 1)
        if i >= n or s[i] != '"':
            raise _LineError(f"expected quoted label value for label {lname!r}, got {_show(s, i)}")
        m = _QUOTED_RE.match(s, i)
        if m is None:
            raise _unterminated(s, i, om or strict, f"unterminated label value for label {lname!r}")
        if not lname:
            raise _LineError("empty label name")
        _check_utf8(lname, f"label name {lname!r}")
        value = _unescape(m.group(1), strict=strict)
        _check_utf8(value, f"value of label {lname!r}")
        pairs.append((lname, value))
        i = ws(m.end())
        if i < n and s[i] == ",":
            i = ws(i + 1)
        elif om and (i >= n or s[i] != "}"):
            raise _LineError(f"expected comma or '}}' after label {lname!r}, got {_show(s, i)}")


def _build_labels(name: str, pairs: list[tuple[str, str]], norm: str) -> Labels:
    _check_utf8(name, "metric name")
    if not pairs:
        return ((METRIC_NAME, name),)
    if norm == "histogram" or norm == "summary":
        special = "le" if norm == "histogram" else "quantile"
        for k, (lname, value) in enumerate(pairs):
            if lname == special and _GO_FLOAT_RE.fullmatch(value):
                pairs[k] = (lname, format_openmetrics_float(float(value)))
    full = sorted([(METRIC_NAME, name), *pairs])
    for a, b in itertools.pairwise(full):
        if a[0] == b[0]:
            raise _LineError(f"duplicate label name {a[0]!r}")
    return tuple(p for p in full if p[1] != "")


class _Sample(NamedTuple):
    labels: Labels
    token: str  # the value as written, for the batched conversion
    ts: int | None
    key: str | None  # the cacheable series text, or None
    created: bool
    exemplar: bool


def _ts_ms_from_seconds(tok: str, what: str) -> int:
    t = _go_float(tok, what)
    if math.isnan(t) or math.isinf(t):
        raise _LineError(f"invalid {what} {tok!r}")
    ms = int(t * 1000.0)  # truncation toward zero, as Go's int64(ts * 1000)
    if not _INT64_MIN <= ms <= _INT64_MAX:
        raise _LineError(f"{what} {tok!r} out of range")
    return ms


def _text_ts(tok: str) -> int:
    if not (tok.isascii() and tok.isdigit()):
        raise _LineError(f"invalid timestamp {tok!r}, expected integer milliseconds")
    t = int(tok)
    if t > _INT64_MAX:
        raise _LineError(f"timestamp {tok!r} out of range")
    return t


# The shape nearly every exporter writes: a classic name, comma-separated
# classic label names, one space, the value. Both formats' grammars contain it,
# so a cache miss of this shape is read with one match; any other line goes
# token by token.
_PAIR = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\[^\n])*"'
_CANONICAL_RE = re.compile(
    rf"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{{((?:{_PAIR}(?:,{_PAIR})*,?)?)\}})? ([^ \t{{]+)"
)
_PAIR_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[^\n])*)"')


def _canonical(s: str, norm: str, strict: bool = False) -> tuple[str, Labels, str, str] | None:
    """(name, labels, value token, cache key) of a line of the common shape, else None."""
    m = _CANONICAL_RE.fullmatch(s)
    if m is None:
        return None
    name, inner, tok = m.groups()
    pairs: list[tuple[str, str]] = []
    if inner:
        for lname, raw in _PAIR_RE.findall(inner):
            value = _unescape(raw, strict=strict)
            _check_utf8(value, f"value of label {lname!r}")
            pairs.append((lname, value))
    _go_float(tok)
    return name, _build_labels(name, pairs, norm), tok, s[: m.start(3) - 1]


def _text_sample(s: str, norm: str, strict: bool = False) -> _Sample:
    c = _canonical(s, norm, strict)
    if c is not None:
        created = norm in _CREATED_TYPES and c[0].endswith("_created")
        return _Sample(c[1], c[2], None, c[3], created, False)
    return _text_tokens(s, norm, strict)


def _text_tokens(s: str, norm: str, strict: bool = False) -> _Sample:
    """Read a text line token by token, as Prometheus' lexer does."""
    n = len(s)
    i = _skip_ws(s, 0)
    name: str | None = None
    if i < n and s[i] != "{":
        m = _NAME_RE.match(s, i)
        if m is None:
            raise _LineError(f"invalid metric name, got {_show(s, i)}")
        name = m.group()
        # The value may follow the name directly, as in Prometheus' lexer:
        # 'a-1' is a with value -1.
        i = _skip_ws(s, m.end())
        if strict and i == m.end() and i < n and s[i] != "{":
            raise _LineError(f"invalid character {s[i]!r} in metric name {name + s[i]!r}...")
    pairs: list[tuple[str, str]] = []
    if i < n and s[i] == "{":
        i, name = _parse_labels(s, i + 1, name, pairs, om=False, strict=strict)
        i = _skip_ws(s, i)
    if name is None:
        raise _LineError("metric name not set")
    m = _TEXT_VALUE_RE.match(s, i)
    if m is None:
        raise _LineError(f"expected value after metric {name!r}, got {_show(s, i)}")
    tok = m.group()
    vstart = i
    _go_float(tok)
    i = m.end()
    j = _skip_ws(s, i)
    ts: int | None = None
    if j < n:
        m = _DIGITS_RE.match(s, j)
        if m is None or j == i:
            raise _LineError(f"expected timestamp or end of line after value, got {_show(s, j)}")
        ts = _text_ts(m.group())
        k = _skip_ws(s, m.end())
        if k < n:
            raise _LineError(f"expected end of line after timestamp, got {_show(s, k)}")
    key = s[: vstart - 1] if vstart > 0 and s[vstart - 1] == " " else None
    created = norm in _CREATED_TYPES and name.endswith("_created")
    return _Sample(_build_labels(name, pairs, norm), tok, ts, key, created, False)


def _meta_name(rest: str, kw: str, strict: bool = False) -> tuple[str, int]:
    if rest.startswith('"'):
        m = _QUOTED_RE.match(rest)
        if m is None:
            raise _LineError(f"unterminated quoted metric name after {kw}")
        # Prometheus 3 takes a quoted family name as written, escapes and all;
        # unescaped, it names the family its series are named after.
        name = _unescape(m.group(1), strict=strict)
        if not name:
            raise _LineError(f"empty metric name after {kw}")
        _check_utf8(name, "metric name")
        return name, m.end()
    m = _NAME_RE.match(rest)
    if m is None:
        raise _LineError(f"expected metric name after {kw}, got {_show(rest, 0)}")
    return m.group(), m.end()


# HELP or TYPE and blanks. From there to the metric name Prometheus' lexer
# skips NULs (it is in its comment state), so they may be anywhere in between.
_TEXT_KEYWORD_RE = re.compile("(H\x00*E\x00*L\x00*P|T\x00*Y\x00*P\x00*E)\x00*[ \t][ \t\x00]*")


def _text_meta(s: str, strict: bool = False) -> _Meta:
    if strict:
        return _text_meta_strict(s)
    body = s.lstrip(" \t")[1:]
    if not body or body[0] not in " \t":
        # '#foo' is a comment, as in Prometheus' lexer, which takes a NUL in
        # it for the end of the body.
        return _STOP if "\x00" in body else _COMMENT
    b = body.lstrip(" \t")
    if b[:1] == "\x00":
        return _STOP  # so does it right after '# '
    m = _TEXT_KEYWORD_RE.match(b)
    if m is None:
        return _COMMENT
    kw = m.group(1).replace("\x00", "")
    rest = b[m.end() :]
    name, end = _meta_name(rest, kw)
    after = rest[end:]
    if after[:1] == "\x00":
        raise _LineError(f"NUL right after metric name {name!r} in {kw}")
    # Prometheus keeps all but the first character after the name, whatever it
    # is: '# HELP a-b x' is help 'b x' for a.
    text = after[1:] if after.strip(" \t") else ""
    if kw == "HELP":
        _check_utf8(text, "help text")
        return _Meta("HELP", name, _unescape(text, _HELP_ESCAPES))
    return _Meta("TYPE", name, _text_type(text))


def _text_type(text: str) -> str:
    typ = _TEXT_TYPES.get(text)
    if typ is None:
        raise _LineError(
            f"invalid metric type {text!r} (text format types: counter, gauge, histogram, summary, untyped)"
        )
    return typ


def _text_meta_strict(s: str) -> _Meta:
    """A text comment line as the format (and expfmt) has it: no NUL or run-on tricks."""
    body = s.lstrip(" \t")[1:]
    if not body or body[0] not in " \t":
        return _COMMENT
    b = body.lstrip(" \t")
    kw = b[:4]
    if kw not in ("HELP", "TYPE") or len(b) == 4 or b[4] not in " \t":
        return _COMMENT
    rest = b[4:].lstrip(" \t")
    name, end = _meta_name(rest, kw, strict=True)
    after = rest[end:]
    if after and after[0] not in " \t":
        raise _LineError(f"invalid character {after[0]!r} after metric name {name!r} in {kw}")
    text = after[1:] if after.strip(" \t") else ""
    if kw == "HELP":
        _check_utf8(text, "help text")
        return _Meta("HELP", name, _unescape(text, strict=True))
    return _Meta("TYPE", name, _text_type(text))


def _om_meta(s: str, strict: bool = False) -> _Meta:
    if s == "# EOF":
        return _Meta("EOF", "", "")
    kw = s[2:6]
    if not s.startswith("# ") or kw not in ("HELP", "TYPE", "UNIT") or s[6:7] != " ":
        raise _LineError(
            "invalid comment: OpenMetrics allows only '# HELP', '# TYPE', '# UNIT' and a final '# EOF'"
        )
    rest = s[7:]
    name, end = _meta_name(rest, kw, strict)
    if end == len(rest):
        raise _LineError(f"expected text in {kw} after metric name {name!r}")
    if rest[end] != " ":
        raise _LineError(f"invalid character {rest[end]!r} after metric name {name!r} in {kw}")
    text = rest[end + 1 :]
    if kw == "HELP":
        _check_utf8(text, "help text")
        return _Meta("HELP", name, _unescape(text, strict=strict))
    if kw == "TYPE":
        if text not in _OM_TYPES:
            raise _LineError(
                f"invalid metric type {text!r} (OpenMetrics types: {', '.join(sorted(_OM_TYPES))})"
            )
        return _Meta("TYPE", name, text)
    if text and not (name.endswith("_" + text) and len(name) > len(text) + 1):
        raise _LineError(f"unit {text!r} is not a suffix of metric family {name!r}")
    _check_utf8(text, "unit")
    return _Meta("UNIT", name, text)


def _om_sample(
    s: str, norm: str, strict: bool = False, fam: str = "", fam_type: str = "unknown"
) -> _Sample:
    c = _canonical(s, norm, strict)
    if c is not None:
        if strict:
            _om_check_family(c[0], fam, fam_type)
        created = norm in _CREATED_TYPES and c[0].endswith("_created")
        return _Sample(c[1], c[2], None, c[3], created, False)
    return _om_tokens(s, norm, strict, fam, fam_type)


def _om_tokens(
    s: str, norm: str, strict: bool = False, fam: str = "", fam_type: str = "unknown"
) -> _Sample:
    """Read an OpenMetrics line token by token, as Prometheus' lexer does."""
    n = len(s)
    name: str | None = None
    i = 0
    if s[:1] != "{":
        m = _NAME_RE.match(s)
        if m is None:
            raise _LineError(f"expected a metric name, got {_show(s, 0)}")
        name = m.group()
        i = m.end()
    pairs: list[tuple[str, str]] = []
    if i < n and s[i] == "{":
        i, name = _parse_labels(s, i + 1, name, pairs, om=True, strict=strict)
    if name is None:
        raise _LineError("metric name not set")
    if i >= n or s[i] != " ":
        raise _LineError(f"expected a space and the value after metric {name!r}, got {_show(s, i)}")
    key = s[:i]
    j = s.find(" ", i + 1)
    if j < 0:
        j = n
    tok = s[i + 1 : j]
    if not tok:
        raise _LineError("expected value after metric, got a second space")
    _go_float(tok)
    ts: int | None = None
    exemplar = False
    i = j
    if i < n and not s.startswith(" # {", i):
        j = s.find(" ", i + 1)
        if j < 0:
            j = n
        if j == i + 1:
            raise _LineError("expected timestamp after value, got a second space")
        ts = _ts_ms_from_seconds(s[i + 1 : j], "timestamp")
        i = j
    if i < n:
        if not s.startswith(" # {", i):
            raise _LineError(
                f"expected end of line or an exemplar after timestamp, got {_show(s, i)}"
            )
        _om_exemplar(s, i + 4, strict)
        exemplar = True
    if strict:
        _om_check_family(name, fam, fam_type)
    created = norm in _CREATED_TYPES and name.endswith("_created")
    return _Sample(_build_labels(name, pairs, norm), tok, ts, key, created, exemplar)


# Types whose samples carry a suffix, so a sample named as the family itself
# breaks the format (Prometheus reads it all the same; strict mode refuses it).
_OM_SUFFIXES: Final = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "info": ("_info",),
}


def _om_check_family(name: str, fam: str, fam_type: str) -> None:
    if fam_type in _OM_SUFFIXES and name == fam:
        names = " or ".join(fam + suffix for suffix in _OM_SUFFIXES[fam_type])
        raise _LineError(f"{fam_type} sample {name!r} must be named {names}")


def _om_exemplar(s: str, i: int, strict: bool = False) -> None:
    pairs: list[tuple[str, str]] = []
    i, _ = _parse_labels(s, i, None, pairs, om=True, exemplar=True, strict=strict)
    n = len(s)
    if i >= n or s[i] != " ":
        raise _LineError(f"expected value after exemplar labels, got {_show(s, i)}")
    j = s.find(" ", i + 1)
    if j < 0:
        j = n
    _go_float(s[i + 1 : j], "exemplar value")
    if j < n:
        k = s.find(" ", j + 1)
        if k >= 0:
            raise _LineError(f"expected end of line after exemplar timestamp, got {_show(s, k)}")
        _ts_ms_from_seconds(s[j + 1 :], "exemplar timestamp")


def _text_sample_on(line: str, norm: str, rows: Iterator[tuple[int, str]]) -> tuple[_Sample, str]:
    """Read a text sample whose quoted string goes on over the next lines.

    Prometheus' text lexer allows a raw line break inside quotes and reads on;
    so does this, joining lines from ``rows`` until the quotes close. Returns
    the sample and the joined line. Raises the first error if the body ends.
    """
    parts = [line]
    for _, more in rows:
        parts.append(more)
        if '"' in more:  # without a quote the string cannot end on this line
            line = "\n".join(parts)
            try:
                return _text_sample(line, norm), line
            except _UnterminatedError:
                parts = [line]
    line = "\n".join(parts)
    return _text_sample(line, norm), line  # the body ended: the original complaint


def _om_lines(text: str) -> list[str]:
    if text.endswith("# EOF\n"):
        end = len(text) - 6
    elif text.endswith("# EOF"):
        end = len(text) - 5
    else:
        end = -1
    if end < 0 or (end > 0 and text[end - 1] != "\n"):
        lines = text.split("\n")
        if "# EOF" in lines:
            k = lines.index("# EOF")
            raise DecodeError(f"line {k + 2}: unexpected data after # EOF")
        n = len(lines) - (1 if text.endswith("\n") else 0)
        raise DecodeError(
            f"line {max(n, 1)}: data does not end with # EOF (OpenMetrics bodies must; truncated?)"
        )
    lines = text[:end].split("\n")
    lines.pop()  # the content before '# EOF' ends with a newline (or is empty)
    return lines
