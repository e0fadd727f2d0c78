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

The package: ``media`` (formats and Content-Type), ``floats`` (Go's float
syntax and form), ``lexer`` (one line at a time, as Prometheus' lexers),
``cached`` (whole bodies, the cache and the fast path, ``parse``) and
``encode`` (``encode_text``).
"""

# ``_name as _name``: internals the tests reach through the package, not API.
from kubesight.wire.exposition.cached import ExpositionCache, ParsedScrape, SharedTexts, parse
from kubesight.wire.exposition.cached import _scan as _scan
from kubesight.wire.exposition.cached import _values as _values
from kubesight.wire.exposition.encode import EncodeSample, encode_text
from kubesight.wire.exposition.encode import _encode_value as _encode_value
from kubesight.wire.exposition.floats import _LineError as _LineError
from kubesight.wire.exposition.floats import format_go_float, format_openmetrics_float
from kubesight.wire.exposition.lexer import _om_lines as _om_lines
from kubesight.wire.exposition.lexer import _om_sample as _om_sample
from kubesight.wire.exposition.lexer import _om_tokens as _om_tokens
from kubesight.wire.exposition.lexer import _text_sample as _text_sample
from kubesight.wire.exposition.lexer import _text_tokens as _text_tokens
from kubesight.wire.exposition.media import (
    CONTENT_TYPE_OPENMETRICS,
    CONTENT_TYPE_TEXT,
    SCRAPE_ACCEPT,
    Format,
    content_type_format,
)

__all__ = [
    "CONTENT_TYPE_OPENMETRICS",
    "CONTENT_TYPE_TEXT",
    "SCRAPE_ACCEPT",
    "EncodeSample",
    "ExpositionCache",
    "Format",
    "ParsedScrape",
    "SharedTexts",
    "content_type_format",
    "encode_text",
    "format_go_float",
    "format_openmetrics_float",
    "parse",
]
