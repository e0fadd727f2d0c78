"""Prometheus text exposition 0.0.4 and OpenMetrics 1.0 text: parse and encode.

Pure functions, no I/O. The scrape loop calls::

    fmt = content_type_format(response.headers.get("content-type"))
    parsed = parse(body, fmt, default_timestamp_ms=scrape_start_ms, cache=target_cache)
    parsed.batch      # one row per sample; batch.series[i] is sample i's label set
    parsed.metadata   # TYPE/HELP/UNIT per metric family, for /api/v1/metadata

and ``encode_text(families)`` renders text 0.0.4 for ``/metrics`` and the
Pushgateway. Every error is a :class:`~kubesight.errors.DecodeError` whose
message starts with ``line N:`` and says what was wrong, for the target's
``lastError``.

What is accepted, and what is not
---------------------------------
The grammar is the one Prometheus' own scraper reads (``model/textparse``):
text 0.0.4 allows blank lines, free comments, spaces and tabs between tokens,
label pairs without commas and trailing commas, ``a{b="c"}1``; OpenMetrics
allows exactly one space between tokens, no blank lines, only ``# HELP``,
``# TYPE``, ``# UNIT`` and a final ``# EOF``. Both accept quoted UTF-8 names
(``{"my.metric", "my.label"="v"}``), values in Go ``ParseFloat`` syntax without
hex floats or underscores (``NaN``, ``+Inf``, ``-inf``, ``1e3``, ``.5``), text
timestamps as unsigned int milliseconds and OpenMetrics timestamps as float
seconds (truncated to ms as Prometheus does). As in Prometheus, the values of
``le`` (after a histogram TYPE) and ``quantile`` (after a summary TYPE) are
rewritten in OpenMetrics float form (``le="1"`` becomes ``le="1.0"``), NaN
values are Prometheus' canonical NaN, and labels with an empty value are
dropped (they mean "absent").

Input the formats do not allow is read as Prometheus' scraper reads it, so
every target Prometheus scrapes gives the same series here (each case is in
the tests, and checked against a real Prometheus 2.42):

- an escape other than ``\\\\``, ``\\"`` and ``\\n`` in a label value or name is
  kept as written, backslash and all; text HELP unescapes only ``\\\\`` and
  ``\\n`` (``\\"`` stays), OpenMetrics HELP as label values;
- a second HELP, TYPE or UNIT line for a family is no error: the last one
  wins, and a TYPE applies to the lines after it;
- OpenMetrics samples named exactly as their counter, histogram,
  gaugehistogram or info family (a counter without ``_total``) are read as
  they are, as in Prometheus 2.42 and 3.x;
- text format only: a raw line break inside quotes is part of the string
  (the lexer reads on to the closing quote; a backslash right before the line
  break is an error); a metric name may run into its value (``a-1`` is ``a``
  with value -1; ``# HELP a-b x`` is help ``b x`` for ``a``); a NUL byte where
  a line starts, in a ``#x`` comment or right after ``# `` ends the body (the
  scrape succeeds with the samples before it), a NUL between ``# `` and the
  name of a HELP or TYPE line is skipped, and one elsewhere outside label
  values, HELP and comments is an error, as in Prometheus.

OpenMetrics keeps its stricter lexer there: a raw line break in a label
value, a name run into its value and a NUL outside label values and HELP fail
the scrape, in Prometheus too. What still differs:

- a quoted family name in HELP or TYPE is unescaped here, so it names the
  same family as its series (Prometheus 3 keeps it as written; 2.42 has no
  quoted names); this touches metadata only;
- Prometheus 3's lexer allows a raw line break in a quoted OpenMetrics label
  name (``{"a<newline>b"="c"}``); here it is an error, as for label values.

``parse(..., strict=True)`` refuses all of the above (escapes other than
those three, a second HELP or TYPE, OpenMetrics samples without their suffix,
raw line breaks, run-on names, NULs outside label values, HELP and comments)
with a line-numbered error, for the Pushgateway, whose parser (``expfmt``)
refuses them too.

Duplicate series within one body are returned as they are: the scrape layer
reports them, as Prometheus does at append time. ``_created`` samples are kept
as ordinary samples (Prometheus' default without created-timestamp ingestion)
and counted in :attr:`ParsedScrape.created`. Exemplars are validated, counted
and dropped.

Text 0.0.4 has no end marker: a body cut at a line boundary, or inside a value
or timestamp where the prefix is itself valid (``12`` of ``123``, ``1e+0`` of
``1e+06``, a timestamp cut off entirely) parses as valid data. Only the
transport (Content-Length, chunked encoding) can notice that. A cut anywhere
else in a line is an error. OpenMetrics ends with ``# EOF``, so every cut is
detected.

How parsing stays fast
----------------------
The body is decoded once and split into lines. A sample line is cut at its
last space (``str.rpartition``), and everything before the value is looked up
in an :class:`ExpositionCache` that outlives the scrape: a target repeats the
same series text every scrape, so a hit yields the very same label tuple with
no parsing at all. Comment lines are looked up whole the same way. Once a body
was all hits, the next one is first compared with it as a whole (``_Template``:
tuple comparisons, ``str.startswith`` and slicing through ``map``, no Python
loop over lines), and when only values and timestamps changed the line loop is
skipped altogether. Values are
converted all at once at the end (``float`` per token through ``map``), after
one check over all tokens together that they are in Go's float syntax. A
cache miss of the common line shape is read with one regex match; any other
line (a comment seen first, a timestamp, an exemplar, quoted names, odd
spacing) goes through a token reader that follows Prometheus' lexer and
explains errors. If the batched value check fails, the whole body is read
again line by line without the cache, so the error names its line. (A body
that is not valid UTF-8, which Prometheus allows inside plain comments, is
always read that careful way.)
"""

from __future__ import annotations

import enum
import itertools
import math
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Final, NamedTuple

import numpy as np

from kubesight.errors import DecodeError
from kubesight.model.labels import METRIC_NAME, Labels
from kubesight.model.samples import F64, MetricMetadata, SampleBatch

__all__ = [
    "CONTENT_TYPE_OPENMETRICS",
    "CONTENT_TYPE_TEXT",
    "SCRAPE_ACCEPT",
    "EncodeSample",
    "ExpositionCache",
    "Format",
    "ParsedScrape",
    "content_type_format",
    "encode_text",
    "format_go_float",
    "format_openmetrics_float",
    "parse",
]


class Format(enum.Enum):
    TEXT_004 = "text/plain"
    OPENMETRICS_1 = "application/openmetrics-text"


CONTENT_TYPE_TEXT: Final = "text/plain; version=0.0.4; charset=utf-8"
CONTENT_TYPE_OPENMETRICS: Final = "application/openmetrics-text; version=1.0.0; charset=utf-8"
SCRAPE_ACCEPT: Final = (
    # Prometheus 3's Accept header for its default scrape_protocols, minus
    # protobuf (not parsed here): OpenMetrics first, UTF-8 names allowed.
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
    "application/openmetrics-text;version=0.0.1;q=0.5,"
    "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)


def content_type_format(content_type: str | None) -> Format:
    """The format of a scrape response, from its Content-Type.

    ``application/openmetrics-text`` (any version, any case, any parameters) is
    OpenMetrics; everything else, including a missing or unparsable header, is
    text 0.0.4 (Prometheus 2.x; Prometheus 3 fails such scrapes unless
    ``fallback_scrape_protocol`` is set, which comes to the same thing here).
    """
    if content_type:
        media = content_type.partition(";")[0].strip().lower()
        if media == Format.OPENMETRICS_1.value:
            return Format.OPENMETRICS_1
    return Format.TEXT_004


# ---------------------------------------------------------------------------
# Results and the cross-scrape cache
# ---------------------------------------------------------------------------


@dataclass
class ParsedScrape:
    """One parsed body.

    ``batch.series[i]`` is the label set of sample ``i`` (``series_ref`` is
    ``0..n-1``), with ``__name__``, sorted by label name. With a shared
    :class:`ExpositionCache` the same series text yields the same tuple object
    scrape after scrape. ``created`` counts ``_created`` samples (kept in the
    batch), ``exemplars`` counts exemplars (dropped).
    """

    batch: SampleBatch
    metadata: list[MetricMetadata] = field(default_factory=list)
    exemplars: int = 0
    created: int = 0


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


class ExpositionCache:
    """Parsed series texts and metadata lines of one target, across scrapes.

    Keys are the exact text before a sample's value (``'node_load1'``,
    ``'node_cpu_seconds_total{cpu="0",mode="idle"}'``), so a hit skips all
    label parsing. How a series text parses depends on the TYPE lines before
    it (``le``/``quantile`` normalisation, ``_created`` detection), so entries
    live in one dictionary per TYPE context. When the
    cache holds more than ``max_entries`` texts it is emptied at the start of
    the next parse: a target with more series than that costs a cold parse per
    scrape, not unbounded memory. Parses in several threads may share one
    cache; each entry is a pure function of its key and context, so a race can
    only cost a repeated parse.
    """

    def __init__(self, max_entries: int = 200_000, use_templates: bool = True) -> None:
        self.max_entries = max_entries
        # False: never compare a body with the last one's shape (see _Template),
        # for targets whose lines change every scrape; every line is looked up.
        self.use_templates = use_templates
        self.contexts: dict[tuple[str, ...], _Ctx] = {}
        self.meta: dict[str, _Meta] = {}
        # The metadata lines of the last parse and what they made: a target
        # sends the same ones every scrape, so the family table is reused.
        self.last_metadata: tuple[list[_Meta], list[MetricMetadata]] = ([], [])
        self.templates: dict[str, _Template | None] = {}  # per format, see _Template
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def clear(self) -> None:
        self.contexts.clear()
        self.meta.clear()
        self.last_metadata = ([], [])
        self.templates.clear()
        self.size = 0

    def _context(self, key: tuple[str, ...]) -> _Ctx:
        ctx = self.contexts.get(key)
        if ctx is None:
            ctx = self.contexts[key] = _Ctx()
        return ctx


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------

# Go's strconv.ParseFloat in decimal form; Prometheus rejects hex floats and
# underscores ('p', 'P', '_'), and Go accepts a sign on Inf but not on NaN.
_GO_FLOAT_RE = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)|[nN][aA][nN]"
)
# Prometheus' canonical NaN (value.NormalNaN): stored NaNs never look stale.
_NORMAL_NAN_BITS: Final = 0x7FF8000000000001
_NORMAL_NAN: Final = struct.unpack("<d", struct.pack("<Q", _NORMAL_NAN_BITS))[0]
_INT64_MAX: Final = (1 << 63) - 1
_INT64_MIN: Final = -(1 << 63)
# Characters of a float token other than those of nan/inf/infinity.
_NUMERIC_BYTES: Final = b"0123456789.eE+-\n"
_SPECIAL_LETTERS: Final = b"nNaAiIfFtTyY"


class _LineError(Exception):
    """A problem in one line; the caller adds the line number."""


class _RedoError(Exception):
    """The batched value check failed: parse again line by line to find where."""


def _go_float(tok: str, what: str = "value") -> float:
    if _GO_FLOAT_RE.fullmatch(tok) is None:
        hint = " (carriage return: CRLF line endings are not allowed)" if "\r" in tok else ""
        raise _LineError(
            f"invalid {what} {tok!r}, expected a float like 1.5, 1e-3, NaN or +Inf{hint}"
        )
    f = float(tok)
    if math.isinf(f) and "i" not in tok.lower():
        raise _LineError(f"{what} {tok!r} out of range for a 64-bit float")
    return f


def format_go_float(f: float) -> str:
    """``f`` as Go's ``strconv.FormatFloat(f, 'g', -1, 64)`` writes it.

    That is the form of values in every Go exporter's output (client_golang),
    so encoding with it gives byte-identical exposition: shortest round-trip
    digits, exponent form when the decimal exponent is below -4 or at least 6
    (``1e+06``, ``1.445729e+06``, ``1e-05``), ``NaN``, ``+Inf``, ``-Inf``.
    """
    if f != f:
        return "NaN"
    if f == math.inf:
        return "+Inf"
    if f == -math.inf:
        return "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    r = repr(f)  # Python's repr is the shortest round-trip form too
    sign = ""
    if r[0] == "-":
        sign, r = "-", r[1:]
    mant, _, e = r.partition("e")
    ip, _, fp = mant.partition(".")
    if fp == "0":
        fp = ""
    digits = ip + fp
    dp = len(ip) + (int(e) if e else 0)  # decimal point position within digits
    stripped = digits.lstrip("0")
    dp -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    x = dp - 1
    if x < -4 or x >= 6:  # 6: Go's %g precision when asked for the shortest form
        frac = "." + digits[1:] if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{frac}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def format_openmetrics_float(f: float) -> str:
    """Prometheus' ``labels.FormatOpenMetricsFloat``: Go's form, plus ``.0`` on integers."""
    if f == 0:
        return "0.0"
    s = format_go_float(f)
    if f != f or math.isinf(f) or "e" in s or "." in s:
        return s
    return s + ".0"


# ---------------------------------------------------------------------------
# The careful per-line parsers
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# The line loop
# ---------------------------------------------------------------------------


class _Families:
    """Metadata per family in order of first appearance; a later line wins.

    A second HELP, TYPE or UNIT line for a family is no error, as in
    Prometheus' scraper, whose metadata cache keeps the last one. In strict
    mode text 0.0.4 refuses a repeat anywhere in the body, as ``expfmt`` does;
    OpenMetrics refuses it among one run of metadata lines. Metadata after
    samples opens a new family block there, even under a name seen before,
    because Go programs write exactly that (client_golang's OpenMetrics output
    has a gauge ``go_memstats_alloc_bytes`` followed by a counter
    ``go_memstats_alloc_bytes`` for ``..._total``).
    """

    def __init__(self, om: bool = False, strict: bool = False) -> None:
        self.om = om
        self.strict = strict
        self.fams: dict[str, list[str]] = {}  # name -> [type, help, unit]
        self.seen: set[tuple[str, str]] = set()
        self.current = ""
        self.samples_before = 0

    def add(self, meta: _Meta, samples_before: int = 0) -> None:
        name = meta.name
        if self.strict:
            if self.om and (name != self.current or samples_before != self.samples_before):
                self.current = name
                self.seen.difference_update((kind, name) for kind in ("TYPE", "HELP", "UNIT"))
            self.samples_before = samples_before
            k = (meta.kind, name)
            if k in self.seen:
                raise _LineError(f"second {meta.kind} line for metric family {name!r}")
            self.seen.add(k)
        f = self.fams.get(name)
        if f is None:
            f = self.fams[name] = ["unknown", "", ""]
        f[("TYPE", "HELP", "UNIT").index(meta.kind)] = meta.value

    def metadata(self) -> list[MetricMetadata]:
        return [MetricMetadata(name, t, h, u) for name, (t, h, u) in self.fams.items()]


class _Lines(NamedTuple):
    labels: list[Labels]
    tokens: list[str]
    ts_at: list[int]
    ts_ms: list[int]
    metadata: list[MetricMetadata]
    exemplars: int
    created: int
    # Every line was a cache hit (with at most a timestamp after the value), a
    # known comment or blank: the body can be a template.
    clean: bool


def _error(lineno: int, line: str, msg: object) -> DecodeError:
    snippet = line if len(line) <= 80 else line[:80] + "..."
    return DecodeError(f"line {lineno}: {msg} (in {snippet!r})")


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


def _scan(
    lines: list[str], om: bool, cache: ExpositionCache, exact: bool, strict: bool = False
) -> _Lines:
    """Walk the lines once; see the module docstring for the fast and careful paths.

    In careful mode (``exact``) nothing is looked up in or added to the cache,
    and every line goes through the per-line parsers, so the first problem is
    reported with its line number. ``strict`` needs ``exact``.
    """
    assert exact or not strict
    fmt = "o" if om else "t"
    norm = ""
    fam, fam_type = "", "unknown"  # for strict OpenMetrics' suffix rules

    def context() -> _Ctx:
        if exact:
            return _Ctx()
        return cache._context((fmt, norm))

    ctx = context()
    get = ctx.series.get
    cget = ctx.created.get
    meta_cache: dict[str, _Meta] = {} if exact else cache.meta
    mget = meta_cache.get
    families = _Families(om, strict)
    metas: list[_Meta] = []
    labels: list[Labels] = []
    tokens: list[str] = []
    lab_append = labels.append
    tok_append = tokens.append
    meta_append = metas.append
    ts_at: list[int] = []
    ts_ms: list[int] = []
    exemplars = created = 0
    clean = True
    ts_fn = _om_fast_ts if om else _text_ts

    rows = enumerate(lines, 1)
    for lineno, line in rows:
        # The hot path: a known series text, then the value.
        head, _, tail = line.rpartition(" ")
        lab = get(head)
        if lab is not None:
            lab_append(lab)
            tok_append(tail)
            continue
        meta = mget(line)
        if meta is not None:
            # A metadata line seen before (plain comments are cached too).
            if meta.kind:
                meta_append(meta)
                if meta.ctx is not None:
                    norm = meta.value
                    get = meta.ctx.series.get
                    cget = meta.ctx.created.get
            continue
        lab = cget(head)
        if lab is not None:
            lab_append(lab)
            tok_append(tail)
            created += 1
            continue
        try:
            first = line[:1] if om else line.lstrip(" \t")[:1]
            if first == "#":
                clean = False
                meta = _om_meta(line, strict) if om else _text_meta(line, strict)
                if meta.kind == "EOF":
                    lineno += 1
                    raise _LineError("unexpected data after # EOF")
                if meta is _STOP:
                    break
                if meta.kind:
                    if exact:
                        families.add(meta, len(labels))
                    else:
                        meta_append(meta)
                    if meta.kind == "TYPE":
                        fam, fam_type = meta.name, meta.value
                    elif meta.name != fam:
                        fam, fam_type = meta.name, "unknown"
                    if meta.kind == "TYPE":
                        norm = meta.value
                        ctx = context()
                        meta = meta._replace(ctx=ctx)
                        get = ctx.series.get
                        cget = ctx.created.get
                if not exact:
                    meta_cache[line] = meta
                    cache.size += 1  # comment lines count: some carry timestamps
                continue
            if not first:
                if om:
                    raise _LineError("empty line (not allowed in OpenMetrics)")
                continue  # text format: blank lines are allowed
            if first == "\x00" and not om and not strict:
                clean = False
                break  # Prometheus' text lexer reads it as the end of the body
            # A timestamp after the value, or an exemplar after either.
            exemplar_at = line.find(" # {") if om else -1
            if exemplar_at > 0:
                clean = False
                head, _, tail = line[:exemplar_at].rpartition(" ")
                lab = get(head)
                if lab is not None:
                    # The sample is known; only the exemplar (new every time) is read.
                    _om_exemplar(line, exemplar_at + 4)
                    lab_append(lab)
                    tok_append(tail)
                    exemplars += 1
                    continue
            h2, sp, mid = head.rpartition(" ")
            if sp:
                lab = get(h2)
                is_created = False
                if lab is None:
                    lab = cget(h2)
                    is_created = True
                if lab is not None:
                    try:
                        t = ts_fn(tail)
                    except _LineError:
                        pass  # the careful parser explains it
                    else:
                        if exemplar_at > 0:
                            _om_exemplar(line, exemplar_at + 4)
                            exemplars += 1
                        ts_at.append(len(labels))
                        ts_ms.append(t)
                        lab_append(lab)
                        tok_append(mid)
                        created += is_created
                        continue
            clean = False
            if om:
                smp = _om_sample(line, norm, strict, fam, fam_type)
            else:
                try:
                    smp = _text_sample(line, norm, strict)
                except _UnterminatedError:
                    smp, line = _text_sample_on(line, norm, rows)
        except _LineError as e:
            raise _error(lineno, line, e) from None
        if smp.ts is not None:
            ts_at.append(len(labels))
            ts_ms.append(smp.ts)
        lab_append(smp.labels)
        tok_append(smp.token)
        exemplars += smp.exemplar
        created += smp.created
        if smp.key is not None and not exact:
            ctx = cache._context((fmt, norm))
            (ctx.created if smp.created else ctx.series)[smp.key] = smp.labels
            cache.size += 1
    if exact:
        metadata = families.metadata()
    else:
        last_metas, metadata = cache.last_metadata
        if metas != last_metas:  # identical _Meta objects: a C-speed comparison
            for meta in metas:
                families.add(meta)
            metadata = families.metadata()
            cache.last_metadata = (metas, metadata)
    return _Lines(labels, tokens, ts_at, ts_ms, metadata, exemplars, created, clean)


def _om_fast_ts(tok: str) -> int:
    return _ts_ms_from_seconds(tok, "timestamp")


def _values(tokens: list[str]) -> F64:
    """All value tokens to float64 at once; raise _RedoError if any is not in Go's syntax."""
    if not tokens:
        return np.empty(0, np.float64)
    try:
        values = np.array(list(map(float, tokens)), dtype=np.float64)
    except ValueError:
        raise _RedoError from None
    # float() also takes what Go refuses: whitespace, underscores, non-ASCII
    # digits, a sign on NaN. One pass over all tokens rules those out.
    joined = "\n".join(tokens)
    if not joined.isascii():
        raise _RedoError
    rest = joined.encode("ascii").translate(None, _NUMERIC_BYTES)
    if rest:
        if rest.strip(_SPECIAL_LETTERS):
            raise _RedoError
        low = joined.lower()
        if "+nan" in low or "-nan" in low:
            raise _RedoError
    bad = np.isinf(values)
    if bad.any():
        # 1e999 is a range error in Go, not +Inf.
        for k in np.flatnonzero(bad):
            if "i" not in tokens[k].lower():
                raise _RedoError
    nan = np.isnan(values)
    if nan.any():
        values[nan] = _NORMAL_NAN
    return values


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


class _Template(NamedTuple):
    """The shape of a target's last clean body, to check the next one against.

    Scrape after scrape a target sends the same lines with new values. When
    every line of a body was a cache hit, the next body is compared with it
    first: same number of lines, same comment lines, every sample line starting
    with the same series text and a space, and the same lines carrying a
    timestamp (cAdvisor stamps every line). Then it has the same series in the
    same TYPE contexts, only its value and timestamp tokens are new, and the
    line loop is skipped. ``_values`` refuses a token with a space or tab in
    it, and any such surprise sends the body the ordinary way.
    """

    n_lines: int
    comment_lines: tuple[str, ...]
    comments_at: Callable[[Sequence[str]], tuple[str, ...]]
    samples_at: Callable[[Sequence[str]], tuple[str, ...]]
    heads: tuple[str, ...]  # series text and the space after it, per sample line
    tail_slices: tuple[slice, ...]
    spaces: tuple[int, ...] | None  # per sample: 1 with a timestamp; None: no timestamps
    values_at: Callable[[Sequence[str]], tuple[str, ...]]  # in the tails split on spaces
    stamps_at: Callable[[Sequence[str]], tuple[str, ...]]
    ts_at: list[int]  # the samples with a timestamp
    labels: list[Labels]
    metadata: list[MetricMetadata]
    created: int


def _picker(idx: list[int]) -> Callable[[Sequence[str]], tuple[str, ...]]:
    if len(idx) >= 2:
        return itemgetter(*idx)  # several indexes: it returns a tuple
    if idx:
        i = idx[0]
        return lambda seq: (seq[i],)
    return lambda seq: ()


def _make_template(
    lines: list[str], scanned: _Lines, cache: ExpositionCache, om: bool
) -> _Template | None:
    meta = cache.meta
    samples: list[int] = []
    comments: list[int] = []
    for i, line in enumerate(lines):
        if line in meta or not (line if om else line.strip(" \t")):
            comments.append(i)
        else:
            samples.append(i)
    if len(samples) != len(scanned.labels):  # pragma: no cover - defensive
        return None
    comments_at = _picker(comments)
    samples_at = _picker(samples)
    stamped = set(scanned.ts_at)
    heads: list[str] = []
    values: list[int] = []
    stamps: list[int] = []
    for k, line in enumerate(samples_at(lines)):
        head = line.rpartition(" ")[0]
        values.append(k + len(stamps))
        if k in stamped:
            head = head.rpartition(" ")[0]
            stamps.append(values[-1] + 1)
        heads.append(head + " ")
    return _Template(
        len(lines),
        comments_at(lines),
        comments_at,
        samples_at,
        tuple(heads),
        tuple(slice(len(h), None) for h in heads),
        tuple(int(k in stamped) for k in range(len(heads))) if stamped else None,
        _picker(values),
        _picker(stamps),
        list(scanned.ts_at),
        list(scanned.labels),
        scanned.metadata,
        scanned.created,
    )


def _from_template(
    lines: list[str], tpl: _Template, om: bool
) -> tuple[list[str], list[int]] | None:
    """The value tokens and timestamps of ``lines`` if they have the template's shape."""
    if len(lines) != tpl.n_lines or tpl.comments_at(lines) != tpl.comment_lines:
        return None
    sample_lines = tpl.samples_at(lines)
    if not all(map(str.startswith, sample_lines, tpl.heads)):
        return None
    tails = list(map(str.__getitem__, sample_lines, tpl.tail_slices))
    if tpl.spaces is None:
        return tails, []
    if tuple(map(str.count, tails, repeat(" "))) != tpl.spaces:
        return None
    tokens = " ".join(tails).split(" ")
    stamps = tpl.stamps_at(tokens)
    if not all(stamps):
        return None
    try:
        if om:
            ts_ms = list(map(_om_fast_ts, stamps))
        else:
            digits = "".join(stamps)
            if not (digits.isascii() and digits.isdigit()):
                return None
            ts_ms = list(map(int, stamps))
            if max(ts_ms) > _INT64_MAX:
                return None
    except _LineError:
        return None
    return list(tpl.values_at(tokens)), ts_ms


def parse(
    body: bytes,
    fmt: Format,
    *,
    default_timestamp_ms: int,
    honor_timestamps: bool = True,
    cache: ExpositionCache | None = None,
    strict: bool = False,
) -> ParsedScrape:
    """Parse one scrape response body.

    Samples without a timestamp, and all samples when ``honor_timestamps`` is
    false (timestamps are still validated), get ``default_timestamp_ms``. Pass
    one ``cache`` per target to reuse parsed series texts across scrapes.
    Raises :class:`DecodeError` naming the line and the problem.

    ``strict`` refuses what the formats forbid but Prometheus' scraper reads
    (see the module docstring), as the Pushgateway's parser (``expfmt``) does;
    a strict parse reads line by line and does not use the cache.
    """
    if cache is None:
        cache = ExpositionCache()
    elif cache.size > cache.max_entries:
        cache.clear()
    om = fmt is Format.OPENMETRICS_1
    try:
        text = body.decode("utf-8")
        exact = strict
    except UnicodeDecodeError:
        # Prometheus accepts invalid UTF-8 in plain comments; the careful
        # parser checks every other place it matters, line by line.
        text = body.decode("utf-8", "surrogateescape")
        exact = True
    if om:
        lines = _om_lines(text)
    else:
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
    key = "o" if om else "t"
    templates = cache.use_templates and not exact
    tpl = cache.templates.get(key) if templates else None
    shaped = None if tpl is None else _from_template(lines, tpl, om)
    scanned = values = None
    if tpl is not None and shaped is not None:
        tokens, ts_ms = shaped
        try:
            values = _values(tokens)
            scanned = _Lines(
                list(tpl.labels), tokens, tpl.ts_at, ts_ms, tpl.metadata, 0, tpl.created, True
            )
        except _RedoError:
            cache.templates[key] = None  # same series, unusual values: the ordinary way
    try:
        if scanned is None or values is None:
            scanned = _scan(lines, om, cache, exact, strict)
            values = _values(scanned.tokens)
            if scanned.clean and templates:
                cache.templates[key] = _make_template(lines, scanned, cache, om)
    except _RedoError:
        if exact:
            raise DecodeError("invalid sample value") from None
        scanned = _scan(lines, om, cache, True, strict)
        try:
            values = _values(scanned.tokens)
        except _RedoError:  # pragma: no cover - the careful scan validated every token
            raise DecodeError("invalid sample value") from None
    n = len(scanned.labels)
    timestamps = np.full(n, default_timestamp_ms, dtype=np.int64)
    if honor_timestamps and scanned.ts_at:
        timestamps[np.asarray(scanned.ts_at, dtype=np.int64)] = scanned.ts_ms
    # The metadata list is shared with the cache: callers get their own copy.
    metadata = list(scanned.metadata)
    batch = SampleBatch(scanned.labels, np.arange(n, dtype=np.int32), timestamps, values, metadata)
    return ParsedScrape(batch, metadata, scanned.exemplars, scanned.created)


# ---------------------------------------------------------------------------
# Encoding (text 0.0.4)
# ---------------------------------------------------------------------------

EncodeSample = tuple[Labels, float, int | None]
"""``(labels, value, timestamp_ms or None)``; ``__name__`` in labels names the sample."""

_ENCODE_TYPES: Final = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
}
_CLASSIC_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_CLASSIC_LNAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _esc_value(v: str) -> str:
    if "\\" in v or '"' in v or "\n" in v:
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return v


def _esc_help(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n")


def _encode_value(f: float) -> str:
    # client_golang's writeFloat: 1, 0, -1 without decimals, else Go's %g,
    # which writes integers below 1e6 plainly (the common case, done quickly).
    if f == 0:
        return "0"
    if f.is_integer() and -1e6 < f < 1e6:
        return str(int(f))
    return format_go_float(f)


def _meta_name_text(name: str) -> str:
    return name if _CLASSIC_NAME_RE.fullmatch(name) else f'"{_esc_value(name)}"'


def encode_text(
    families: Iterable[tuple[MetricMetadata, Iterable[EncodeSample]]],
) -> bytes:
    """Render families as text 0.0.4, byte for byte as client_golang writes them.

    Each family is its metadata and its samples. ``# HELP`` is written when the
    help is not empty, ``# TYPE`` always (types the text format lacks, such as
    info, stateset and gaugehistogram, become ``untyped``). A sample's name is
    its ``__name__`` label, or the family name when it has none. Names outside
    the classic charset are written quoted (``{"my.metric",a="b"}``), label
    values and help escaped, labels with empty values left out.
    """
    out: list[str] = []
    # Label and metric names repeat on every sample: render each once per call.
    label_names: dict[str, str] = {}
    classic: dict[str, bool] = {}
    for md, samples in families:
        fname = _meta_name_text(md.metric_family)
        if md.help:
            out.append(f"# HELP {fname} {_esc_help(md.help)}\n")
        out.append(f"# TYPE {fname} {_ENCODE_TYPES.get(md.type, 'untyped')}\n")
        for labels, value, ts in samples:
            name = md.metric_family
            parts: list[str] = []
            for k, v in labels:
                if k == METRIC_NAME:
                    name = v
                elif v != "":
                    kk = label_names.get(k)
                    if kk is None:
                        kk = k if _CLASSIC_LNAME_RE.fullmatch(k) else f'"{_esc_value(k)}"'
                        label_names[k] = kk
                    parts.append(f'{kk}="{_esc_value(v)}"')
            ok = classic.get(name)
            if ok is None:
                ok = classic[name] = _CLASSIC_NAME_RE.fullmatch(name) is not None
            if ok:
                series = f"{name}{{{','.join(parts)}}}" if parts else name
            else:
                series = "{" + ",".join([f'"{_esc_value(name)}"', *parts]) + "}"
            if ts is None:
                out.append(f"{series} {_encode_value(value)}\n")
            else:
                out.append(f"{series} {_encode_value(value)} {ts}\n")
    return "".join(out).encode("utf-8")
