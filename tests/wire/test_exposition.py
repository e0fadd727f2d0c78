"""Text exposition 0.0.4 and OpenMetrics 1.0: tables written from the formats' docs.

Each case is (input, expected samples or expected error with its line number).
Expected samples are ``(name, {labels}, value, timestamp)`` with ``D`` for the
default timestamp. Where Prometheus' scraper accepts odd input, the case
says what it makes of it (checked against Prometheus 2.42 in
``test_prometheus_reads_the_same_series``); see the module docstring of
``kubesight.wire.exposition`` for what differs still.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubesight.errors import DecodeError
from kubesight.model import MetricMetadata, SampleBatch
from kubesight.model.labels import Labels
from kubesight.wire import exposition as ex
from kubesight.wire.exposition import (
    ExpositionCache,
    Format,
    content_type_format,
    encode_text,
    format_go_float,
    format_openmetrics_float,
    parse,
)

TEXT = Format.TEXT_004
OM = Format.OPENMETRICS_1
D = 1_700_000_000_000  # the scrape's own timestamp
TESTDATA = Path(__file__).parent / "testdata"

Sample = tuple[str, dict[str, str], float | str, int]


def run(body: str | bytes, fmt: Format = TEXT, **kw: Any) -> list[Sample]:
    return samples_of(parse_(body, fmt, **kw))


def parse_(body: str | bytes, fmt: Format = TEXT, **kw: Any) -> ex.ParsedScrape:
    raw = body.encode() if isinstance(body, str) else body
    return parse(raw, fmt, default_timestamp_ms=D, **kw)


def samples_of(p: ex.ParsedScrape) -> list[Sample]:
    out: list[Sample] = []
    b = p.batch
    assert list(b.series_ref) == list(range(len(b)))
    for labels, v, t in zip(b.series, b.values, b.timestamps, strict=True):
        assert list(labels) == sorted(labels), "label sets come sorted"
        d = dict(labels)
        name = d.pop("__name__")
        out.append((name, d, "NaN" if math.isnan(v) else float(v), int(t)))
    return out


# --- content type ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "fmt"),
    [
        ("application/openmetrics-text; version=1.0.0; charset=utf-8", OM),
        ("application/openmetrics-text;version=0.0.1", OM),
        ("Application/OpenMetrics-Text", OM),
        ("text/plain; version=0.0.4; charset=utf-8", TEXT),
        ("text/plain;version=1.0.0;escaping=allow-utf-8", TEXT),
        ("application/json", TEXT),
        ("", TEXT),
        (None, TEXT),
        ("garbage;;;", TEXT),
    ],
)
def test_content_type_format(header: str | None, fmt: Format) -> None:
    assert content_type_format(header) is fmt


# --- text 0.0.4: accepted -----------------------------------------------------

TEXT_OK: list[tuple[str, str, list[Sample]]] = [
    ("simple", "a 1\n", [("a", {}, 1.0, D)]),
    ("no trailing newline", "a 1", [("a", {}, 1.0, D)]),
    ("empty body", "", []),
    ("only comments", "# hello\n#\n", []),
    ("labels", 'a{b="c",d="e"} 2\n', [("a", {"b": "c", "d": "e"}, 2.0, D)]),
    ("labels sorted", 'a{z="1",b="2"} 2\n', [("a", {"b": "2", "z": "1"}, 2.0, D)]),
    ("trailing comma", 'a{b="c",} 2\n', [("a", {"b": "c"}, 2.0, D)]),
    ("spaces everywhere", 'a { b = "c" , d= "e" , } 2\n', [("a", {"b": "c", "d": "e"}, 2.0, D)]),
    # Prometheus' lexer lets label pairs go without a comma.
    ("no comma", 'a{b="c" d="e"} 2\n', [("a", {"b": "c", "d": "e"}, 2.0, D)]),
    ("empty braces", "a{} 2\n", [("a", {}, 2.0, D)]),
    ("value right after brace", 'a{b="c"}2\n', [("a", {"b": "c"}, 2.0, D)]),
    ("tabs", "a\t1\t42\n", [("a", {}, 1.0, 42)]),
    ("many blanks", "a  \t 1 \t 42 \t\n", [("a", {}, 1.0, 42)]),
    ("leading blanks", "  a 1\n", [("a", {}, 1.0, D)]),
    ("colons and underscores", "_a:b_c:d 1\n", [("_a:b_c:d", {}, 1.0, D)]),
    ("blank lines", "\n\na 1\n \t \n\nb 2\n\n", [("a", {}, 1.0, D), ("b", {}, 2.0, D)]),
    (
        "comments of every kind",
        "#\n#x\n# x y\n# HELPER a b\n# HELP\n#HELP a b\n  # TYPE a counter\na 1\n",
        [("a", {}, 1.0, D)],
    ),
    ("timestamp", "a 1 1520879607789\n", [("a", {}, 1.0, 1520879607789)]),
    ("timestamp zero", "a 1 0\n", [("a", {}, 1.0, 0)]),
    ("timestamp max", "a 1 9223372036854775807\n", [("a", {}, 1.0, 9223372036854775807)]),
    (
        "escapes in label values",
        'a{b="x\\\\y\\"z\\nw"} 1\n',
        [("a", {"b": 'x\\y"z\nw'}, 1.0, D)],
    ),
    ("spaces and braces in a value", 'a{b="} 1 {"} 1\n', [("a", {"b": "} 1 {"}, 1.0, D)]),
    ("utf-8 label value", 'a{b="héllo ✓"} 1\n', [("a", {"b": "héllo ✓"}, 1.0, D)]),
    ("NUL inside a label value", 'a{b="x\x00y"} 1\n', [("a", {"b": "x\x00y"}, 1.0, D)]),
    ("empty label value means absent", 'a{b="",c="d"} 1\n', [("a", {"c": "d"}, 1.0, D)]),
    ("quoted metric name", '{"my.metric"} 1\n', [("my.metric", {}, 1.0, D)]),
    (
        "quoted names",
        '{"my.metric", "my.label"="v", b="c"} 1\n',
        [("my.metric", {"my.label": "v", "b": "c"}, 1.0, D)],
    ),
    (
        "quoted metric name after a label",
        '{b="c", "my.metric"} 1\n',
        [("my.metric", {"b": "c"}, 1.0, D)],
    ),
    ("quoted label name with a classic name", 'a{"b"="c"} 1\n', [("a", {"b": "c"}, 1.0, D)]),
    ("escaped quoted name", '{"a\\"b"} 1\n', [('a"b', {}, 1.0, D)]),
    ("NaN", "a NaN\n", [("a", {}, "NaN", D)]),
    ("nan any case", "a nAn\n", [("a", {}, "NaN", D)]),
    ("+Inf", "a +Inf\n", [("a", {}, math.inf, D)]),
    ("-Inf", "a -Inf\n", [("a", {}, -math.inf, D)]),
    ("Inf", "a Inf\n", [("a", {}, math.inf, D)]),
    ("infinity", "a -infinity\n", [("a", {}, -math.inf, D)]),
    ("exponent", "a 1.5e+06\n", [("a", {}, 1.5e6, D)]),
    ("capital exponent", "a 1E-3\n", [("a", {}, 1e-3, D)]),
    ("leading dot", "a .5\n", [("a", {}, 0.5, D)]),
    ("trailing dot", "a 5.\n", [("a", {}, 5.0, D)]),
    ("leading zeros", "a 007\n", [("a", {}, 7.0, D)]),
    ("negative zero", "a -0\n", [("a", {}, -0.0, D)]),
    ("underflow is zero, as in Go", "a 1e-400\n", [("a", {}, 0.0, D)]),
    ("largest float", "a 1.7976931348623157e308\n", [("a", {}, 1.7976931348623157e308, D)]),
    (
        "histogram le in OpenMetrics form",
        "# TYPE h histogram\n"
        'h_bucket{le="1"} 1\nh_bucket{le="0.5"} 1\nh_bucket{le="1e3"} 2\n'
        'h_bucket{le="+Inf"} 3\nh_sum 4\nh_count 3\n',
        [
            ("h_bucket", {"le": "1.0"}, 1.0, D),
            ("h_bucket", {"le": "0.5"}, 1.0, D),
            ("h_bucket", {"le": "1000.0"}, 2.0, D),
            ("h_bucket", {"le": "+Inf"}, 3.0, D),
            ("h_sum", {}, 4.0, D),
            ("h_count", {}, 3.0, D),
        ],
    ),
    (
        "summary quantile in OpenMetrics form",
        '# TYPE s summary\ns{quantile="0"} 1\ns{quantile="0.99"} 2\ns{quantile="1"} 3\n'
        "s_sum 1\ns_count 2\n",
        [
            ("s", {"quantile": "0.0"}, 1.0, D),
            ("s", {"quantile": "0.99"}, 2.0, D),
            ("s", {"quantile": "1.0"}, 3.0, D),
            ("s_sum", {}, 1.0, D),
            ("s_count", {}, 2.0, D),
        ],
    ),
    (
        "le of a gauge is left alone",
        '# TYPE g gauge\ng{le="1",quantile="0"} 1\n',
        [("g", {"le": "1", "quantile": "0"}, 1.0, D)],
    ),
    (
        "a le that is not a number is left alone",
        '# TYPE h histogram\nh_bucket{le="x"} 1\n',
        [("h_bucket", {"le": "x"}, 1.0, D)],
    ),
    (
        "duplicate series are returned (the scrape layer reports them)",
        "a 1\na 2\n",
        [("a", {}, 1.0, D), ("a", {}, 2.0, D)],
    ),
    # What Prometheus' scraper makes of input the format does not allow.
    (
        "unknown escapes are kept as written",
        'a{b="\\t\\q\\\\z\\"w"} 1\n',
        [("a", {"b": '\\t\\q\\z"w'}, 1.0, D)],
    ),
    ("unknown escape in a quoted name", '{"a\\x"} 1\n', [("a\\x", {}, 1.0, D)]),
    ("raw newline in a label value", 'a{b="c\nd"} 1\n', [("a", {"b": "c\nd"}, 1.0, D)]),
    (
        "label value over three lines, one like a sample",
        'a{b="x\nc 1\n"} 2\nz 3\n',
        [("a", {"b": "x\nc 1\n"}, 2.0, D), ("z", {}, 3.0, D)],
    ),
    (
        "raw newline in a quoted name",
        '{"a\nb", "c\nd"="e"} 1\n',
        [("a\nb", {"c\nd": "e"}, 1.0, D)],
    ),
    (
        "name run into its value",
        "a-1\nb+Inf\nc.5 7\n",
        [("a", {}, -1.0, D), ("b", {}, math.inf, D), ("c", {}, 0.5, 7)],
    ),
    ("NUL starting a line ends the body", "a 1\n\x00b 2\nc 3\n", [("a", {}, 1.0, D)]),
    ("NUL after blanks ends the body", "a 1\n \t\x00b 2\nc 3\n", [("a", {}, 1.0, D)]),
    ("NUL alone", "\x00", []),
    ("NUL in '#x' ends the body", "a 1\n#x\x00y\nc 3\n", [("a", {}, 1.0, D)]),
    ("NUL right after '# ' ends the body", "a 1\n# \x00y\nc 3\n", [("a", {}, 1.0, D)]),
    ("NUL later in '# x' does not", "a 1\n# x\x00y\nc 3\n", [("a", {}, 1.0, D), ("c", {}, 3.0, D)]),
    (
        "a second TYPE applies from there on",
        '# TYPE h gauge\nh_bucket{le="1"} 1\n# TYPE h histogram\nh_bucket{le="1"} 1\n',
        [("h_bucket", {"le": "1"}, 1.0, D), ("h_bucket", {"le": "1.0"}, 1.0, D)],
    ),
]


@pytest.mark.parametrize(("body", "want"), [c[1:] for c in TEXT_OK], ids=[c[0] for c in TEXT_OK])
def test_text_accepted(body: str, want: list[Sample]) -> None:
    assert run(body) == want
    # Same answer from a warm cache, and from the careful line-by-line parser.
    cache = ExpositionCache()
    run(body, cache=cache)
    assert run(body, cache=cache) == want
    assert careful(body, TEXT) == want


def careful(body: str, fmt: Format) -> list[Sample]:
    """The per-line parser alone (the path every error message comes from)."""
    om = fmt is OM
    lines = ex._om_lines(body) if om else body.split("\n")
    if not om and lines[-1] == "":
        lines.pop()
    scanned = ex._scan(lines, om, ExpositionCache(), exact=True)
    values = ex._values(scanned.tokens)
    ts = np.full(len(values), D, np.int64)
    ts[np.asarray(scanned.ts_at, dtype=np.int64)] = scanned.ts_ms
    return samples_of(
        ex.ParsedScrape(
            SampleBatch(scanned.labels, np.arange(len(values), dtype=np.int32), ts, values, []),
            scanned.metadata,
        )
    )


TEXT_META: list[tuple[str, str, list[MetricMetadata]]] = [
    (
        "help and type",
        "# HELP a The a.\n# TYPE a counter\na 1\n",
        [MetricMetadata("a", "counter", "The a.", "")],
    ),
    ("type before help", "# TYPE a gauge\n# HELP a x\n", [MetricMetadata("a", "gauge", "x", "")]),
    ("untyped is unknown", "# TYPE a untyped\n", [MetricMetadata("a", "unknown", "", "")]),
    ("help only", "# HELP a x\n", [MetricMetadata("a", "unknown", "x", "")]),
    (
        "empty help",
        "# HELP a\n# HELP b \n",
        [MetricMetadata("a", "unknown", "", ""), MetricMetadata("b", "unknown", "", "")],
    ),
    ("help escapes", "# HELP a x\\\\y\\nz\n", [MetricMetadata("a", "unknown", "x\\y\nz", "")]),
    # Prometheus' helpReplacer: only \\\\ and \\n, so \\" stays as written.
    (
        "quote escape in help is kept",
        '# HELP a say \\"hi\\"\n',
        [MetricMetadata("a", "unknown", 'say \\"hi\\"', "")],
    ),
    (
        "unknown escapes in help are kept",
        "# HELP a x\\ty\\\\\n",
        [MetricMetadata("a", "unknown", "x\\ty\\", "")],
    ),
    ("second HELP wins", "# HELP a x\n# HELP a y\n", [MetricMetadata("a", "unknown", "y", "")]),
    (
        "second TYPE wins",
        "# TYPE a gauge\na 1\n# TYPE a counter\n",
        [MetricMetadata("a", "counter", "", "")],
    ),
    # The first character after the name is dropped, whatever it is.
    ("name run into help", "# HELP a-b x\n", [MetricMetadata("a", "unknown", "b x", "")]),
    ("name run into type", "# TYPE a-counter\n", [MetricMetadata("a", "counter", "", "")]),
    # Between '# ' and the name Prometheus' lexer does not see NULs.
    (
        "NULs before the name",
        "# H\x00ELP\x00 \x00 a x\n# TYPE\x00 b gauge\n# TYPE\x00c gauge\n",
        [MetricMetadata("a", "unknown", "x", ""), MetricMetadata("b", "gauge", "", "")],
    ),
    # Prometheus drops one separator character and keeps the rest.
    (
        "help keeps inner spacing",
        "# HELP a  two\tspaces \n",
        [MetricMetadata("a", "unknown", " two\tspaces ", "")],
    ),
    ("tabs around keywords", "#\tHELP\ta\tx\n", [MetricMetadata("a", "unknown", "x", "")]),
    (
        "quoted family name",
        '# HELP "my.metric" x\n# TYPE "my.metric" gauge\n',
        [MetricMetadata("my.metric", "gauge", "x", "")],
    ),
    ("help with NUL", "# HELP a x\x00y\n", [MetricMetadata("a", "unknown", "x\x00y", "")]),
    (
        "order of first appearance",
        "# TYPE b gauge\n# TYPE a gauge\n# HELP b x\n",
        [MetricMetadata("b", "gauge", "x", ""), MetricMetadata("a", "gauge", "", "")],
    ),
]


@pytest.mark.parametrize(
    ("body", "want"), [c[1:] for c in TEXT_META], ids=[c[0] for c in TEXT_META]
)
def test_text_metadata(body: str, want: list[MetricMetadata]) -> None:
    p = parse_(body)
    assert p.metadata == want
    assert p.batch.metadata == want


def test_text_created_counted_and_kept() -> None:
    p = parse_("# TYPE a counter\na_total 1\na_created 2\n# TYPE g gauge\ng_created 3\n")
    assert p.created == 1  # only under a counter/summary/histogram TYPE, as Prometheus
    assert [s[0] for s in samples_of(p)] == ["a_total", "a_created", "g_created"]


def test_honor_timestamps_false_uses_scrape_time() -> None:
    assert run("a 1 42\nb 2\n", honor_timestamps=False) == [("a", {}, 1.0, D), ("b", {}, 2.0, D)]
    with pytest.raises(DecodeError, match="line 1"):
        run("a 1 4x2\n", honor_timestamps=False)  # still validated


def test_nan_is_prometheus_normal_nan() -> None:
    bits = parse_("a NaN\nb nan\n").batch.values.view(np.uint64)
    assert list(bits) == [0x7FF8000000000001] * 2


# --- text 0.0.4: refused ------------------------------------------------------

TEXT_ERR: list[tuple[str, str | bytes, int, str]] = [
    ("name only", "a", 1, "expected value after metric 'a'"),
    ("name only, later line", "a 1\nb 2\n\nc", 4, "expected value"),
    ("bad start", "9a 1", 1, "invalid metric name"),
    ("unquoted label value", "a{b=c} 1", 1, "expected quoted label value for label 'b'"),
    ("single quotes", "a{b='c'} 1", 1, "expected quoted label value"),
    ("missing equal sign", 'a{b"c"} 1', 1, "expected equal sign after label name 'b'"),
    ("label name with a digit first", 'a{1b="c"} 1', 1, "expected label name"),
    ("label name with a colon", 'a{b:c="d"} 1', 1, "expected equal sign"),
    ("missing brace", 'a{b="c" 1', 1, "expected label name, got '1'"),
    ("cut in a label set", 'a{b="c"', 1, "missing '}'"),
    ("unterminated value", 'a{b="c} 1', 1, "unterminated label value"),
    ("unterminated over lines", 'a 1\na{b="c\nd 1\ne 2\n', 2, "unterminated label value"),
    ("backslash before a line break", 'a{b="c\\\nd"} 1', 1, "unterminated label value"),
    ("line break before the value", 'a{b="c\nd"}\n1', 1, "expected value"),
    ("NUL after a name", "a\x00 1", 1, "invalid value"),
    ("NUL in a label name", 'a{b\x00="x"} 1', 1, "expected equal sign"),
    ("NUL after the name in HELP", "# HELP a\x00 x\n", 1, "NUL right after metric name 'a'"),
    ("run-on value not a number", "a-b 1", 1, "invalid value '-b'"),
    ("run-on TYPE not a type", "# TYPE a-b counter\n", 1, "invalid metric type 'b counter'"),
    ("empty label name", 'a{=""} 0', 1, "expected label name"),
    ("empty quoted label name", 'a{""="x"} 0', 1, "empty label name"),
    ("empty quoted metric name", '{""} 0', 1, "empty metric name"),
    ("no metric name", '{b="c"} 1', 1, "metric name not set"),
    ("__name__ as a label only", '{__name__="a"} 1', 1, "metric name not set"),
    ("two metric names", 'a{"b"} 1', 1, "metric name already set"),
    ("duplicate label", 'a{b="1",b="2"} 1', 1, "duplicate label name 'b'"),
    ("duplicate label, quoted", 'a{b="1","b"="2"} 1', 1, "duplicate label name 'b'"),
    ("duplicate empty label", 'a{b="",b="2"} 1', 1, "duplicate label name 'b'"),
    ("__name__ twice", 'a{__name__="b"} 1', 1, "duplicate label name '__name__'"),
    ("not a number", "a true", 1, "invalid value 'true'"),
    ("underscore", "a 1_2", 1, "invalid value '1_2'"),
    ("hex float", "a 0x1p-3", 1, "invalid value '0x1p-3'"),
    ("hex", "a 0x10", 1, "invalid value"),
    ("signed NaN", "a +NaN", 1, "invalid value '+NaN'"),
    ("signed nan lower", "a -nan", 1, "invalid value"),
    ("half an exponent", "a 1e", 1, "invalid value '1e'"),
    ("two dots", "a 1.2.3", 1, "invalid value"),
    ("unicode digits", "a \u0661", 1, "invalid value"),  # ARABIC-INDIC DIGIT ONE
    ("out of range", "a 1e999", 1, "out of range"),
    ("brace in value", "a 1{", 1, "expected timestamp or end of line"),
    ("CRLF", "a 1\r\nb 2\r\n", 1, "CRLF"),
    ("CRLF after a timestamp", "a 1 2\r\n", 1, "expected end of line after timestamp"),
    ("NUL in value", "a 1\x00", 1, "invalid value"),
    ("three tokens", "a 1 2 3", 1, "expected end of line after timestamp"),
    ("float timestamp", "a 1 1.5", 1, "expected end of line after timestamp"),
    ("negative timestamp", "a 1 -5", 1, "expected timestamp"),
    ("word timestamp", "a 1 x", 1, "expected timestamp"),
    ("timestamp out of range", "a 1 9223372036854775808", 1, "out of range"),
    ("unknown type", "# TYPE a foo\n", 1, "invalid metric type 'foo'"),
    ("OpenMetrics-only type", "# TYPE a gaugehistogram\n", 1, "invalid metric type"),
    ("type in capitals", "# TYPE a Counter\n", 1, "invalid metric type"),
    ("trailing space after type", "# TYPE a counter \n", 1, "invalid metric type 'counter '"),
    ("missing type", "# TYPE a\n", 1, "invalid metric type ''"),
    ("bad name in HELP", "# HELP 1a x\n", 1, "expected metric name after HELP"),
    ("no name in TYPE", "# TYPE \n", 1, "expected metric name after TYPE"),
    ("invalid UTF-8 in a label value", b'a 1\na{b="\xff"} 1\n', 2, "not valid UTF-8"),
    ("invalid UTF-8 in help", b"# HELP a \xff\n", 1, "help text is not valid UTF-8"),
    ("invalid UTF-8 in a name", b'{"\xff"} 1\n', 1, "not valid UTF-8"),
    ("invalid UTF-8 in a value", b"a 1\xff\n", 1, "invalid value"),
]


@pytest.mark.parametrize(
    ("body", "line", "msg"), [c[1:] for c in TEXT_ERR], ids=[c[0] for c in TEXT_ERR]
)
def test_text_refused(body: str | bytes, line: int, msg: str) -> None:
    for cache in (None, ExpositionCache()):
        with pytest.raises(DecodeError) as err:
            run(body, cache=cache)
        assert str(err.value).startswith(f"line {line}: "), str(err.value)
        assert msg in str(err.value)


def test_errors_after_a_warm_cache_still_name_the_line() -> None:
    cache = ExpositionCache()
    good = 'a{b="c"} 1\nd 2\n'
    run(good, cache=cache)
    for bad, line in [('a{b="c"} 1\nd 2_0\n', 2), ('a{b="c"} x\nd 2\n', 1), ('a{b="c"} 1 -1\n', 1)]:
        with pytest.raises(DecodeError, match=f"^line {line}: "):
            run(bad, cache=cache)
    assert run(good, cache=cache) == [("a", {"b": "c"}, 1.0, D), ("d", {}, 2.0, D)]


def test_invalid_utf8_in_a_plain_comment_is_accepted() -> None:
    # Prometheus never looks inside comments; neither do we.
    assert run(b"# caf\xe9\na 1\n") == [("a", {}, 1.0, D)]


def test_same_series_text_under_other_types() -> None:
    body = '# TYPE x histogram\nb{le="1"} 1\n# TYPE y gauge\nb{le="1"} 2\n'
    cache = ExpositionCache()
    for _ in range(2):
        assert run(body, cache=cache) == [("b", {"le": "1.0"}, 1.0, D), ("b", {"le": "1"}, 2.0, D)]


def test_cache_is_bounded() -> None:
    cache = ExpositionCache(max_entries=10)
    body = "".join(f"m{i} 1\n" for i in range(50))
    run(body, cache=cache)
    assert len(cache) == 50
    run(body, cache=cache)  # emptied first, then filled again
    assert len(cache) == 50
    assert len(run(body, cache=cache)) == 50


TEMPLATE_BASE = '# HELP a x\n# TYPE a counter\na_total{b="c"} 1\na_created 5\n\nb 2\n'
# cAdvisor-like: timestamps after the values (some lines only).
TEMPLATE_TS = '# TYPE a counter\na_total{b="c"} 1 1700000000000\na_created 5\n\nb 2 1700000000001\n'
TEMPLATE_CASES = [
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("} 1", "} 7")),  # new values only: the template path
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("} 1", "} 1 42")),  # a timestamp appears
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("} 1", "} 1 ")),
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("} 1", "}  1")),
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("} 1", "} 1\t42")),
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("} 1", "} 1_0")),
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("} 1", "} +nan")),
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("} 1", "} 1e999")),
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("} 1", "} ")),
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("b 2", "b 2 3 4")),
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("counter", "gauge")),
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("# HELP a x", "# HELP a y")),
    (TEMPLATE_BASE, TEMPLATE_BASE.replace("\n\n", "\n")),
    (TEMPLATE_BASE, TEMPLATE_BASE + "c 3\n"),
    (TEMPLATE_TS, TEMPLATE_TS.replace("} 1 1700000000000", "} 3 1700000015000")),
    (TEMPLATE_TS, TEMPLATE_TS.replace(" 1700000000000", "")),  # a timestamp goes
    (TEMPLATE_TS, TEMPLATE_TS.replace("_created 5", "_created 5 7")),  # one comes
    (TEMPLATE_TS, TEMPLATE_TS.replace(" 1700000000000", " -1700000000000")),
    (TEMPLATE_TS, TEMPLATE_TS.replace(" 1700000000000", " 1.5")),
    (TEMPLATE_TS, TEMPLATE_TS.replace(" 1700000000000", " 99999999999999999999")),
    (TEMPLATE_TS, TEMPLATE_TS.replace(" 1700000000000", " 17000 00")),
    (TEMPLATE_TS, TEMPLATE_TS.replace(" 1700000000000", "  1700000000000")),
    (TEMPLATE_TS, TEMPLATE_TS.replace(" 1700000000000", " 1700000000000 ")),
    (TEMPLATE_TS, TEMPLATE_TS.replace(" 1700000000000", " NaN")),
    (TEMPLATE_TS, TEMPLATE_TS.replace(" 1700000000000", " \u0661")),
]


@pytest.mark.parametrize("fmt", [TEXT, OM])
@pytest.mark.parametrize("case", range(len(TEMPLATE_CASES)))
def test_after_a_template_every_edit_reads_as_without_cache(fmt: Format, case: int) -> None:
    base, edit = TEMPLATE_CASES[case]

    def body_of(text: str) -> str:
        if fmt is TEXT:
            return text
        # OpenMetrics: no blank lines, timestamps in seconds
        return (
            re.sub(r" (17\d{11})\b", lambda m: f" {int(m.group(1)) / 1000}", text).replace(
                "\n\n", "\n"
            )
            + "# EOF\n"
        )

    cache = ExpositionCache()
    for _ in range(2):
        run(body_of(base), fmt, cache=cache)
    assert any(t is not None for t in cache.templates.values())
    body = body_of(edit)
    try:
        want: object = run(body, fmt)
    except DecodeError as e:
        want = str(e)
    for _ in range(2):
        try:
            got: object = run(body, fmt, cache=cache)
        except DecodeError as e:
            got = str(e)
        assert got == want
        p = parse_(body_of(base), fmt, cache=cache)
        assert p.created == 1
        assert samples_of(p) == run(body_of(base), fmt)


def test_changing_comment_lines_do_not_grow_the_cache() -> None:
    cache = ExpositionCache(max_entries=100)
    for i in range(500):
        run(f"# generated at {i}\na 1\n", cache=cache)
    assert len(cache) <= 102


def test_warm_cache_returns_the_same_tuples() -> None:
    cache = ExpositionCache()
    a = parse_('a{b="c"} 1\n', cache=cache).batch.series[0]
    b = parse_('a{b="c"} 2\n', cache=cache).batch.series[0]
    assert a is b


# --- OpenMetrics: accepted ----------------------------------------------------

OM_OK: list[tuple[str, str, list[Sample]]] = [
    ("only EOF", "# EOF\n", []),
    ("EOF without newline", "a 1\n# EOF", [("a", {}, 1.0, D)]),
    ("simple", "a 1\n# EOF\n", [("a", {}, 1.0, D)]),
    ("labels", 'a{b="c",d="e"} 1\n# EOF\n', [("a", {"b": "c", "d": "e"}, 1.0, D)]),
    ("trailing comma (as Prometheus)", 'a{b="c",} 1\n# EOF\n', [("a", {"b": "c"}, 1.0, D)]),
    (
        "float timestamp in seconds",
        "a 1 1520879607.789\n# EOF\n",
        [("a", {}, 1.0, int(1520879607.789 * 1000))],
    ),
    ("integer timestamp", "a 1 1520879607\n# EOF\n", [("a", {}, 1.0, 1520879607000)]),
    ("negative timestamp truncates toward zero", "a 1 -1.0005\n# EOF\n", [("a", {}, 1.0, -1000)]),
    ("timestamp with exponent", "a 1 1.5e3\n# EOF\n", [("a", {}, 1.0, 1500000)]),
    (
        "counter with _created",
        "# TYPE c counter\n# HELP c A counter.\nc_total 17.0 1520879607.789\nc_created 1520872607.123\n# EOF\n",
        [("c_total", {}, 17.0, 1520879607789), ("c_created", {}, 1520872607.123, D)],
    ),
    (
        "histogram",
        '# TYPE h histogram\nh_bucket{le="0.5"} 1\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 3\n'
        "h_count 3\nh_sum 1.5\nh_created 1.0\n# EOF\n",
        [
            ("h_bucket", {"le": "0.5"}, 1.0, D),
            ("h_bucket", {"le": "1.0"}, 2.0, D),
            ("h_bucket", {"le": "+Inf"}, 3.0, D),
            ("h_count", {}, 3.0, D),
            ("h_sum", {}, 1.5, D),
            ("h_created", {}, 1.0, D),
        ],
    ),
    (
        "gaugehistogram keeps its le (as Prometheus)",
        '# TYPE g gaugehistogram\ng_bucket{le="1"} 1\ng_gcount 1\ng_gsum 2\n# EOF\n',
        [("g_bucket", {"le": "1"}, 1.0, D), ("g_gcount", {}, 1.0, D), ("g_gsum", {}, 2.0, D)],
    ),
    (
        "summary",
        '# TYPE s summary\ns{quantile="0.5"} 1\ns{quantile="1"} 2\ns_count 2\ns_sum 3\n# EOF\n',
        [
            ("s", {"quantile": "0.5"}, 1.0, D),
            ("s", {"quantile": "1.0"}, 2.0, D),
            ("s_count", {}, 2.0, D),
            ("s_sum", {}, 3.0, D),
        ],
    ),
    ("info", '# TYPE i info\ni_info{v="1.2"} 1\n# EOF\n', [("i_info", {"v": "1.2"}, 1.0, D)]),
    (
        "stateset",
        '# TYPE s stateset\ns{s="a"} 1\ns{s="b"} 0\n# EOF\n',
        [("s", {"s": "a"}, 1.0, D), ("s", {"s": "b"}, 0.0, D)],
    ),
    ("unknown", "# TYPE u unknown\nu 1\n# EOF\n", [("u", {}, 1.0, D)]),
    (
        "samples of no family",
        "# TYPE c counter\nc_total 1\nother 2\n# EOF\n",
        [("c_total", {}, 1.0, D), ("other", {}, 2.0, D)],
    ),
    (
        "NaN and Inf",
        "a NaN\nb +Inf\nc -Inf\n# EOF\n",
        [("a", {}, "NaN", D), ("b", {}, math.inf, D), ("c", {}, -math.inf, D)],
    ),
    ("quoted name", '{"my.metric","a.b"="c"} 1\n# EOF\n', [("my.metric", {"a.b": "c"}, 1.0, D)]),
    ("escapes", 'a{b="\\\\\\"\\n"} 1\n# EOF\n', [("a", {"b": '\\"\n'}, 1.0, D)]),
    # What Prometheus' scraper makes of input the format does not allow.
    ("unknown escapes are kept", 'a{b="\\t\\q"} 1\n# EOF\n', [("a", {"b": "\\t\\q"}, 1.0, D)]),
    ("counter without _total", "# TYPE a counter\na 1\n# EOF\n", [("a", {}, 1.0, D)]),
    ("histogram sample without suffix", "# TYPE h histogram\nh 1\n# EOF\n", [("h", {}, 1.0, D)]),
    (
        "gaugehistogram sample without suffix",
        "# TYPE h gaugehistogram\nh 1\n# EOF\n",
        [("h", {}, 1.0, D)],
    ),
    ("info without _info", "# TYPE i info\ni 1\n# EOF\n", [("i", {}, 1.0, D)]),
    (
        "exemplar with an unknown escape",
        'a_total 1 # {a="\\q"} 4\n# EOF\n',
        [("a_total", {}, 1.0, D)],
    ),
]


@pytest.mark.parametrize(("body", "want"), [c[1:] for c in OM_OK], ids=[c[0] for c in OM_OK])
def test_openmetrics_accepted(body: str, want: list[Sample]) -> None:
    assert run(body, OM) == want
    cache = ExpositionCache()
    run(body, OM, cache=cache)
    assert run(body, OM, cache=cache) == want
    assert careful(body, OM) == want


def test_openmetrics_metadata_and_units() -> None:
    p = parse_(
        '# TYPE a_seconds counter\n# UNIT a_seconds seconds\n# HELP a_seconds Time \\"spent\\".\n'
        "a_seconds_total 1\n# HELP b Only help.\n# TYPE c info\n# UNIT c \n# EOF\n",
        OM,
    )
    assert p.metadata == [
        MetricMetadata("a_seconds", "counter", 'Time "spent".', "seconds"),
        MetricMetadata("b", "unknown", "Only help.", ""),
        MetricMetadata("c", "info", "", ""),
    ]


OM_META: list[tuple[str, str, list[MetricMetadata]]] = [
    # Prometheus' OpenMetrics HELP unescapes as label values do, keeping unknown escapes.
    (
        "help escapes",
        '# HELP a x\\ty\\"z\\\\\n# EOF\n',
        [MetricMetadata("a", "unknown", 'x\\ty"z\\', "")],
    ),
    # A second HELP, TYPE or UNIT line is no error: the last one wins.
    (
        "second TYPE",
        "# TYPE a gauge\n# TYPE a counter\na_total 1\n# EOF\n",
        [MetricMetadata("a", "counter", "", "")],
    ),
    (
        "second HELP",
        "# HELP a x\n# TYPE a gauge\n# HELP a y\na 1\n# EOF\n",
        [MetricMetadata("a", "gauge", "y", "")],
    ),
    (
        "second UNIT",
        "# UNIT a_s s\n# UNIT a_s s\n# EOF\n",
        [MetricMetadata("a_s", "unknown", "", "s")],
    ),
]


@pytest.mark.parametrize(("body", "want"), [c[1:] for c in OM_META], ids=[c[0] for c in OM_META])
def test_openmetrics_metadata(body: str, want: list[MetricMetadata]) -> None:
    for cache in (None, ExpositionCache()):
        assert parse_(body, OM, cache=cache).metadata == want
    assert parse_(body, OM, cache=cache).metadata == want  # warm


def test_openmetrics_family_name_reused_by_a_later_block() -> None:
    # client_golang writes this for go_memstats_alloc_bytes and ..._total; Prometheus reads it.
    body = (
        "# HELP m A gauge.\n# TYPE m gauge\nm 1\n# HELP m A counter.\n# TYPE m counter\nm_total 2\n"
        "# HELP n x\n# TYPE n gauge\nn 1\n# HELP m Again.\n# TYPE m gauge\nm 3\n# EOF\n"
    )
    p = parse_(body, OM)
    assert [s[0] for s in samples_of(p)] == ["m", "m_total", "n", "m"]
    assert samples_of(parse_(body, OM, strict=True)) == samples_of(p)
    assert p.metadata == [
        MetricMetadata("m", "gauge", "Again.", ""),
        MetricMetadata("n", "gauge", "x", ""),
    ]


def test_openmetrics_created_and_exemplars() -> None:
    body = (
        "# TYPE foo counter\n"
        'foo_total 17.0 1520879607.789 # {id="counter-test"} 5\n'
        "foo_created 1520872607.123\n"
        'foo_total{a="b"} 17.0 # {trace_id="KOO5S4vxi0o"} 0.67 1520879602.123\n'
        'foo_created{a="b"} 1520872607.123\n'
        "# TYPE hh histogram\n"
        'hh_bucket{le="+Inf"} 1 # {} 4\n'
        "# TYPE g gauge\n"
        "g_created 1\n"
        "# EOF\n"
    )
    cache = ExpositionCache()
    for _ in range(2):
        p = parse_(body, OM, cache=cache)
        assert p.exemplars == 3
        assert p.created == 2  # g_created belongs to a gauge: not a created timestamp
        assert samples_of(p) == [
            ("foo_total", {}, 17.0, 1520879607789),
            ("foo_created", {}, 1520872607.123, D),
            ("foo_total", {"a": "b"}, 17.0, D),
            ("foo_created", {"a": "b"}, 1520872607.123, D),
            ("hh_bucket", {"le": "+Inf"}, 1.0, D),
            ("g_created", {}, 1.0, D),
        ]


@pytest.mark.parametrize(
    ("exemplar", "msg"),
    [
        ('{a="b"} x', "invalid exemplar value 'x'"),
        ('{a="b"} 1 NaN', "invalid exemplar timestamp"),
        ('{a="b"}', "expected value after exemplar labels"),
        ('{"a"} 1', "expected equal sign"),
        ('{a="b"} 1 2 3', "expected end of line after exemplar"),
    ],
)
def test_openmetrics_exemplar_errors_with_a_warm_cache(exemplar: str, msg: str) -> None:
    body = '# TYPE h histogram\nh_bucket{le="1"} 1 # EX\nh_bucket{le="+Inf"} 2 7 # EX\n# EOF\n'
    cache = ExpositionCache()
    for _ in range(2):
        assert parse_(body.replace("EX", '{t="1"} 0.5'), OM, cache=cache).exemplars == 2
    for line in (2, 3):
        bad = body.replace("EX", '{t="1"} 0.5').splitlines(keepends=True)
        bad[line - 1] = bad[line - 1].replace('{t="1"} 0.5', exemplar)
        with pytest.raises(DecodeError, match=f"^line {line}: ") as err:
            parse_("".join(bad), OM, cache=cache)
        assert msg in str(err.value)


# --- OpenMetrics: refused -----------------------------------------------------

OM_ERR: list[tuple[str, str | bytes, int, str]] = [
    ("empty body", "", 1, "does not end with # EOF"),
    ("no EOF", "a 1\n", 1, "does not end with # EOF"),
    ("no EOF, several lines", "a 1\nb 2\nc 3", 3, "does not end with # EOF"),
    ("EOF inside a line", "a 1 # EOF", 1, "does not end with # EOF"),
    ("data after EOF", "a 1\n# EOF\nb 1\n", 3, "unexpected data after # EOF"),
    ("blank line after EOF", "# EOF\n\n", 2, "unexpected data after # EOF"),
    ("two EOFs", "a 1\n# EOF\n# EOF\n", 3, "unexpected data after # EOF"),
    ("blank line", "a 1\n\nb 1\n# EOF\n", 2, "empty line"),
    ("plain comment", "# hello\n# EOF\n", 1, "OpenMetrics allows only"),
    ("two spaces after #", "#  TYPE c counter\n# EOF\n", 1, "OpenMetrics allows only"),
    ("tab after #", "#\tTYPE c counter\n# EOF\n", 1, "OpenMetrics allows only"),
    ("two spaces", "a  1\n# EOF\n", 1, "expected value after metric"),
    ("tab", "a\t1\n# EOF\n", 1, "expected a space and the value"),
    ("tab in value", "a 1\t2\n# EOF\n", 1, "invalid value '1\\t2'"),
    ("leading space", " a 1\n# EOF\n", 1, "expected a metric name"),
    ("trailing space", "a 1 2 \n# EOF\n", 1, "expected end of line or an exemplar"),
    ("space in braces", 'a{ b="c"} 1\n# EOF\n', 1, "expected label name"),
    ("no comma", 'a{b="c"d="e"} 1\n# EOF\n', 1, "expected comma or '}'"),
    ("double comma", 'a{b="c",,d="e"} 1\n# EOF\n', 1, "expected label name"),
    ("space before value missing", 'a{b="c"}1\n# EOF\n', 1, "expected a space and the value"),
    ("untyped is text-only", "# TYPE u untyped\n# EOF\n", 1, "invalid metric type 'untyped'"),
    ("type with trailing space", "# TYPE c counter \n# EOF\n", 1, "invalid metric type 'counter '"),
    ("type with two spaces", "# TYPE c  counter\n# EOF\n", 1, "invalid metric type ' counter'"),
    ("TYPE without type", "# TYPE m\n# EOF\n", 1, "expected text in TYPE"),
    ("HELP without text", "# HELP m\n# EOF\n", 1, "expected text in HELP"),
    (
        "UNIT not a suffix",
        "# UNIT metric suffix\n# EOF\n",
        1,
        "unit 'suffix' is not a suffix of metric family 'metric'",
    ),
    ("UNIT glued", "# UNIT metricsuffix suffix\n# EOF\n", 1, "is not a suffix"),
    ("UNIT equal to the name", "# UNIT m m\n# EOF\n", 1, "is not a suffix"),
    ("NaN timestamp", "a 1 NaN\n# EOF\n", 1, "invalid timestamp 'NaN'"),
    ("Inf timestamp", "a 1 +Inf\n# EOF\n", 1, "invalid timestamp"),
    ("bad timestamp", "a 1 1z\n# EOF\n", 1, "invalid timestamp '1z'"),
    ("timestamp out of range", "a 1 1e300\n# EOF\n", 1, "out of range"),
    ("four tokens", "a 1 1 1\n# EOF\n", 1, "expected end of line or an exemplar"),
    (
        "exemplar without value",
        'a_total 1 # {a="b"}\n# EOF\n',
        1,
        "expected value after exemplar labels",
    ),
    ("exemplar bare name", "a_total 1 # {bb}\n# EOF\n", 1, "expected equal sign"),
    ("exemplar metric name", 'a_total 1 # {"x"} 1\n# EOF\n', 1, "expected equal sign"),
    ("exemplar bad value", 'a_total 1 # {a="b"} 1_2\n# EOF\n', 1, "invalid exemplar value"),
    (
        "exemplar NaN timestamp",
        'a_total 1 # {a="b"} 4 NaN\n# EOF\n',
        1,
        "invalid exemplar timestamp",
    ),
    (
        "exemplar extra token",
        'a_total 1 # {a="b"} 4 1 1\n# EOF\n',
        1,
        "expected end of line after exemplar",
    ),
    ("CRLF", "a 1\r\n# EOF\r\n", 2, "does not end with # EOF"),
    ("CRLF with a good end", "a 1\r\n# EOF\n", 1, "CRLF"),
    ("invalid UTF-8", b'a{b="\xc3"} 1\n# EOF\n', 1, "not valid UTF-8"),
    # Where Prometheus fails these scrapes too.
    ("raw newline in a label value", 'a{b="c\nd"} 1\n# EOF\n', 1, "unterminated label value"),
    ("name run into value", "a-1\n# EOF\n", 1, "expected a space and the value"),
    ("NUL starting a line", "a 1\n\x00b 2\n# EOF\n", 2, "expected a metric name"),
]


@pytest.mark.parametrize(
    ("body", "line", "msg"), [c[1:] for c in OM_ERR], ids=[c[0] for c in OM_ERR]
)
def test_openmetrics_refused(body: str | bytes, line: int, msg: str) -> None:
    for cache in (None, ExpositionCache()):
        with pytest.raises(DecodeError) as err:
            run(body, OM, cache=cache)
        assert str(err.value).startswith(f"line {line}: "), str(err.value)
        assert msg in str(err.value)


# --- strict mode (the Pushgateway's expfmt refuses these) ---------------------

STRICT_ERR: list[tuple[str, Format, str, int, str]] = [
    ("unknown escape", TEXT, 'a{b="\\t"} 1', 1, "invalid escape sequence '\\\\t'"),
    ("unknown escape in a quoted name", TEXT, '{"a\\x"} 1', 1, "invalid escape sequence"),
    ("unknown escape in help", TEXT, "# HELP a x\\ty\n", 1, "invalid escape sequence"),
    ("second HELP", TEXT, "# HELP a x\n# HELP a y\n", 2, "second HELP line for metric family 'a'"),
    ("second TYPE", TEXT, "# TYPE a gauge\na 1\n# TYPE a counter\n", 3, "second TYPE line"),
    ("raw newline in a label value", TEXT, 'a{b="c\nd"} 1', 1, "unterminated label value"),
    ("name run into value", TEXT, "a-1 2", 1, "invalid character '-'"),
    ("name run into help", TEXT, "# HELP a-b x\n", 1, "invalid character '-'"),
    ("NUL starting a line", TEXT, "a 1\n\x00b 2\n", 2, "invalid metric name"),
    ("NUL after '# '", TEXT, "a 1\n# \x00y\nb\x00 1\n", 3, "invalid character"),
    ("OpenMetrics unknown escape", OM, 'a{b="\\q"} 1\n# EOF\n', 1, "invalid escape"),
    ("OpenMetrics unknown escape in help", OM, "# HELP a \\x\n# EOF\n", 1, "invalid escape"),
    ("OpenMetrics second UNIT", OM, "# UNIT a_s s\n# UNIT a_s s\n# EOF\n", 2, "second UNIT line"),
    ("OpenMetrics second TYPE", OM, "# TYPE a gauge\n# TYPE a counter\n# EOF\n", 2, "second TYPE"),
    ("OpenMetrics second HELP", OM, "# HELP a x\n# TYPE a gauge\n# HELP a y\n# EOF\n", 3, "HELP"),
    (
        "counter without _total",
        OM,
        "# TYPE a counter\na 1\n# EOF\n",
        2,
        "counter sample 'a' must be named a_total or a_created",
    ),
    (
        "histogram without suffix",
        OM,
        "# TYPE h histogram\nh 1\n# EOF\n",
        2,
        "must be named h_bucket",
    ),
    ("info without _info", OM, "# TYPE i info\ni 1\n# EOF\n", 2, "must be named i_info"),
    (
        "family of a HELP, not of the TYPE before it",
        OM,
        "# TYPE a counter\n# HELP b x\nb 1\n# TYPE c counter\n# HELP a y\na 1\n# EOF\n",
        None,
        "",
    ),
    ("exemplar unknown escape", OM, 'a_total 1 # {a="\\q"} 4\n# EOF\n', 1, "invalid escape"),
]


@pytest.mark.parametrize(
    ("fmt", "body", "line", "msg"), [c[1:] for c in STRICT_ERR], ids=[c[0] for c in STRICT_ERR]
)
def test_strict_refuses(fmt: Format, body: str, line: int | None, msg: str) -> None:
    for cache in (None, ExpositionCache()):
        if line is None:  # accepted in strict mode too
            run(body, fmt, cache=cache, strict=True)
            continue
        with pytest.raises(DecodeError) as err:
            run(body, fmt, cache=cache, strict=True)
        assert str(err.value).startswith(f"line {line}: "), str(err.value)
        assert msg in str(err.value)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("node_exporter.prom", TEXT),
        ("node_exporter.om", OM),
        ("SMALL_OM", OM),
        ("SMALL_TEXT", TEXT),
    ],
)
def test_strict_reads_valid_bodies_the_same(name: str, fmt: Format) -> None:
    small = {"SMALL_OM": SMALL_OM, "SMALL_TEXT": SMALL_TEXT}
    body = small[name].encode() if name in small else (TESTDATA / name).read_bytes()
    lenient = parse_(body, fmt)
    strict = parse_(body, fmt, strict=True)
    assert samples_of(strict) == samples_of(lenient)
    assert strict.metadata == lenient.metadata


# --- truncation ---------------------------------------------------------------

SMALL_OM = (
    "# HELP foo A counter.\n# TYPE foo counter\n# UNIT foo \n"
    'foo_total{a="b",c="d"} 17.0 1520879607.789 # {id="x"} 5\nfoo_created 1520872607.123\n'
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_count 2\nh_sum 3.5\n'
    "# EOF\n"
)


def test_openmetrics_every_truncation_fails() -> None:
    full = run(SMALL_OM, OM)
    body = SMALL_OM.encode()
    for k in range(len(body)):
        cut = body[:k]
        if cut.endswith(b"# EOF"):  # only the final newline is gone: same data
            assert run(cut, OM) == full
            continue
        with pytest.raises(DecodeError):
            run(cut, OM)


SMALL_TEXT = (
    "# HELP a An a.\n# TYPE a counter\n"
    'a_total{b="c",d="e f"} 123 1520879607789\na_total{b="x"} 1.5e+06\n'
    '# TYPE s summary\ns{quantile="0.5"} NaN\ns_sum -Inf\n'
)


def test_text_truncation_never_misreads_a_series() -> None:
    """A cut either fails or gives a prefix whose label sets are right.

    Only the last sample's value or timestamp can be wrong, and only when the
    cut leaves a valid number ("12" of "123", a missing timestamp): text 0.0.4
    has no end marker, so that cannot be seen in the body (see the module
    docstring).
    """
    full = run(SMALL_TEXT)
    body = SMALL_TEXT.encode()
    undetected = 0
    for k in range(len(body) + 1):
        try:
            got = run(body[:k])
        except DecodeError:
            continue
        assert len(got) <= len(full)
        assert [g[:2] for g in got] == [f[:2] for f in full[: len(got)]]
        assert got[:-1] == full[: max(len(got) - 1, 0)]
        if got and got[-1] != full[len(got) - 1]:
            undetected += 1
    assert undetected > 0  # the documented limit really exists


# --- the captured node_exporter output -----------------------------------------


def test_node_exporter_capture() -> None:
    body = (TESTDATA / "node_exporter.prom").read_bytes()
    want = sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))
    cache = ExpositionCache()
    cold = parse(body, TEXT, default_timestamp_ms=D, cache=cache)
    warm = parse(body, TEXT, default_timestamp_ms=D, cache=cache)
    assert len(cold.batch) == want
    assert samples_of(cold) == samples_of(warm)
    assert samples_of(cold) == careful(body.decode(), TEXT)
    assert warm.batch.series == cold.batch.series
    families = {line.split()[2] for line in body.decode().split("\n") if line.startswith("# ")}
    assert {m.metric_family for m in cold.metadata} == families
    assert all(
        m.type in ("counter", "gauge", "summary", "histogram", "unknown") for m in cold.metadata
    )


def test_node_exporter_values_are_go_formatted() -> None:
    """node_exporter is Go: every value it wrote must come back from format_go_float."""
    body = (TESTDATA / "node_exporter.prom").read_text()
    tokens = [line.rpartition(" ")[2] for line in body.split("\n") if line and line[0] != "#"]
    for tok in tokens:
        assert format_go_float(float(tok)) == tok


def test_node_exporter_openmetrics_capture() -> None:
    body = (TESTDATA / "node_exporter.om").read_bytes()
    want = sum(1 for line in body.split(b"\n") if line and not line.startswith(b"#"))
    p = parse(body, OM, default_timestamp_ms=D)
    assert len(p.batch) == want
    text = parse((TESTDATA / "node_exporter.prom").read_bytes(), TEXT, default_timestamp_ms=D)
    assert samples_of(p) == samples_of(text)


@pytest.mark.peer
def test_live_node_exporter(tmp_path: Path) -> None:
    """Debian's node_exporter, parsed as it answers right now."""
    from tests.peers import node_exporter

    with node_exporter(tmp_path) as address:
        r = httpx.get(f"http://{address}/metrics", headers={"Accept": ex.SCRAPE_ACCEPT}, timeout=10)
    fmt = content_type_format(r.headers.get("content-type"))
    p = parse(r.content, fmt, default_timestamp_ms=D)
    want = sum(1 for line in r.content.split(b"\n") if line and not line.startswith(b"#"))
    assert len(p.batch) == want


TRICKY = (
    "# HELP tricky_total Escapes \\\\ and \\n in help.\n"
    "# TYPE tricky_total counter\n"
    'tricky_total{path="C:\\\\dir",quote="say \\"hi\\"",nl="a\\nb"} 1.5e+06\n'
    'tricky_total{ spaced = "x" , } 2\n'
    "tricky_nan NaN\n"
    'tricky_inf{sign="+"} +Inf\n'
    'tricky_inf{sign="-"} -Inf\n'
    'tricky_empty{a="",b="c"} 0\n'
    "_underscore:colon\t7\n"
    "\n"
    "# a comment\n"
    '# TYPE h histogram\nh_bucket{le="0.1"} 1\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 3\n'
    "h_sum 0.5\nh_count 3\n"
    '# TYPE s summary\ns{quantile="0.5"} 0.25\ns_sum 1\ns_count 2\n'
    # Beyond the format, as Prometheus' scraper reads it (see TEXT_OK, TEXT_META).
    '# HELP odd_esc Help \\t\\"kept\\".\n'
    'odd_esc{a="\\t\\q\\\\"} 1\n'
    'odd_nl{a="x\ny 2\n"} 3\n'
    "odd_runon-1\n"
    "# HELP odd_runon-x y\n"
    "# HELP odd_runon Second help.\n"
    "# H\x00ELP \x00odd_nl Help with NULs before the name.\n"
    "# TYPE h2 gauge\n# TYPE h2 histogram\n"
    'h2_bucket{le="1"} 1\n'
    "# \x00 the body ends here for Prometheus\n"
    "odd_never 1\n"
    "not a sample\n"
)

ODD_OM = (
    '# TYPE odd_c counter\n# HELP odd_c First.\n# HELP odd_c Help \\t\\"unquoted\\".\n'
    "odd_c 1\n"
    "# TYPE odd_h histogram\nodd_h 2\n"
    "# TYPE odd_i info\nodd_i 1\n"
    'odd_esc{a="\\t\\q"} 1\n'
    'odd_c_total 2 # {a="\\q"} 1\n'
    "# EOF\n"
)


def comparable(labels: dict[str, str]) -> frozenset[tuple[str, str]]:
    # Prometheus 2.42 (Debian's) keeps le/quantile as written; 3.x and we
    # rewrite them in OpenMetrics form. Compare them as numbers.
    out = {}
    for k, v in labels.items():
        if k in ("le", "quantile") and re.fullmatch(r"[-+.0-9eE]+|[+-]Inf", v):
            v = repr(float(v))
        out[k] = v
    return frozenset(out.items())


@pytest.mark.peer
@pytest.mark.slow
def test_prometheus_reads_the_same_series(tmp_path: Path) -> None:
    """Debian's Prometheus scrapes the same bodies: same series, same values."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.peers import prometheus

    bodies = {
        "text": ((TESTDATA / "node_exporter.prom").read_bytes(), ex.CONTENT_TYPE_TEXT),
        "om": ((TESTDATA / "node_exporter.om").read_bytes(), ex.CONTENT_TYPE_OPENMETRICS),
        "tricky": (TRICKY.encode(), ex.CONTENT_TYPE_TEXT),
        "odd_om": (ODD_OM.encode(), ex.CONTENT_TYPE_OPENMETRICS),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, ctype = bodies[self.path.strip("/")]
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    target = f"127.0.0.1:{server.server_address[1]}"
    jobs = "".join(
        f"  - job_name: {job}\n    metrics_path: /{job}\n    static_configs: [{{targets: ['{target}']}}]\n"
        for job in bodies
    )
    config = f"global: {{scrape_interval: 1s, scrape_timeout: 1s}}\nscrape_configs:\n{jobs}"
    try:
        with prometheus(tmp_path, config) as url:
            deadline = time.monotonic() + 60
            while True:
                r = httpx.get(f"{url}/api/v1/query", params={"query": "up == 1"}, timeout=10)
                if len(r.json()["data"]["result"]) == len(bodies):
                    break
                assert time.monotonic() < deadline, r.text
                time.sleep(0.5)
            for job, (body, ctype) in bodies.items():
                q = f'{{job="{job}",__name__!~"up|scrape_.*"}}'
                r = httpx.get(f"{url}/api/v1/query", params={"query": q}, timeout=10)
                theirs = {}
                for item in r.json()["data"]["result"]:
                    labels = dict(item["metric"])
                    del labels["job"], labels["instance"]
                    theirs[comparable(labels)] = item["value"][1]
                ours = {}
                for name, labels, v, _ in samples_of(
                    parse(body, content_type_format(ctype), default_timestamp_ms=D)
                ):
                    key = comparable({"__name__": name, **labels})
                    ours[key] = format_go_float(float(v)) if v != "NaN" else "NaN"
                assert set(ours) == set(theirs), job
                for key, value in ours.items():
                    assert float(theirs[key]) == float(value) or theirs[key] == value == "NaN"
            # Help and type as Prometheus keeps them, for the bodies with odd metadata.
            r = httpx.get(f"{url}/api/v1/targets/metadata", timeout=10)
            for job in ("tricky", "odd_om"):
                body, ctype = bodies[job]
                theirs_md = {
                    m["metric"]: (m["type"], m["help"])
                    for m in r.json()["data"]
                    if m["target"]["job"] == job
                }
                parsed = parse(body, content_type_format(ctype), default_timestamp_ms=D)
                ours_md = {m.metric_family: (m.type, m.help) for m in parsed.metadata}
                assert ours_md == theirs_md, job
    finally:
        server.shutdown()
        server.server_close()


# --- float formatting ----------------------------------------------------------

GO_FLOATS: list[tuple[float, str]] = [
    (0.0, "0"),
    (1.0, "1"),
    (-1.0, "-1"),
    (100.0, "100"),
    (123456.0, "123456"),
    (1e6, "1e+06"),
    (1234567.0, "1.234567e+06"),
    (1.445729e06, "1.445729e+06"),
    (0.0001, "0.0001"),
    (1e-05, "1e-05"),
    (4.9351e-05, "4.9351e-05"),
    (7.424100000000001e-05, "7.424100000000001e-05"),
    (0.1, "0.1"),
    (-2.5e-10, "-2.5e-10"),
    (123456.7, "123456.7"),
    (1e21, "1e+21"),
    (1e100, "1e+100"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (5e-324, "5e-324"),
    (math.inf, "+Inf"),
    (-math.inf, "-Inf"),
    (math.nan, "NaN"),
]


@pytest.mark.parametrize(("f", "s"), GO_FLOATS)
def test_format_go_float(f: float, s: str) -> None:
    assert format_go_float(f) == s


@pytest.mark.parametrize(
    ("f", "s"),
    [
        (0.0, "0.0"),
        (1.0, "1.0"),
        (-1.0, "-1.0"),
        (100.0, "100.0"),
        (0.25, "0.25"),
        (1e6, "1e+06"),
        (math.inf, "+Inf"),
        (math.nan, "NaN"),
    ],
)
def test_format_openmetrics_float(f: float, s: str) -> None:
    assert format_openmetrics_float(f) == s


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_go_float_round_trips(f: float) -> None:
    s = format_go_float(f)
    assert float(s) == f
    assert re.fullmatch(r"-?(\d+(\.\d+)?|\d(\.\d+)?e[+-]\d{2,3})", s), s


# --- encoding ------------------------------------------------------------------


def lbl(**kv: str) -> Labels:
    return tuple(sorted(kv.items()))


def test_encode_text_bytes() -> None:
    out = encode_text(
        [
            (
                MetricMetadata("http_requests", "counter", "Requests \\ served\nso far.", ""),
                [
                    (
                        lbl(__name__="http_requests_total", code="200", path='/a"b\\c\nd'),
                        1027.0,
                        None,
                    ),
                    (lbl(__name__="http_requests_total", code="500", empty=""), 3.0, 1395066363000),
                ],
            ),
            (
                MetricMetadata("temp", "gauge", "", ""),
                [(lbl(), -0.5, None), (lbl(__name__="temp"), 1e6, None)],
            ),
            (
                MetricMetadata("my.metric", "info", "x", ""),
                [(lbl(**{"__name__": "my.metric", "a.b": "c"}), 1.0, None)],
            ),
            (
                MetricMetadata("v", "unknown", "", ""),
                [(lbl(__name__="v"), math.nan, None), (lbl(__name__="v", x="1"), -math.inf, None)],
            ),
        ]
    )
    assert out == (
        b"# HELP http_requests Requests \\\\ served\\nso far.\n"
        b"# TYPE http_requests counter\n"
        b'http_requests_total{code="200",path="/a\\"b\\\\c\\nd"} 1027\n'
        b'http_requests_total{code="500"} 3 1395066363000\n'
        b"# TYPE temp gauge\n"
        b"temp -0.5\n"
        b"temp 1e+06\n"
        b'# HELP "my.metric" x\n'
        b'# TYPE "my.metric" untyped\n'
        b'{"my.metric","a.b"="c"} 1\n'
        b"# TYPE v untyped\n"
        b"v NaN\n"
        b'v{x="1"} -Inf\n'
    )


def test_encode_parse_round_trip_node_exporter() -> None:
    body = (TESTDATA / "node_exporter.prom").read_bytes()
    p = parse(body, TEXT, default_timestamp_ms=D)
    # Group samples under the family whose HELP/TYPE came last, as in the body.
    families: list[tuple[MetricMetadata, list[ex.EncodeSample]]] = []
    by_name = {m.metric_family: m for m in p.metadata}
    current = None
    k = 0
    for line in body.decode().split("\n"):
        if line.startswith("# "):
            name = line.split()[2]
            if current is None or current.metric_family != name:
                current = by_name[name]
                families.append((current, []))
        elif line:
            assert current is not None
            families[-1][1].append((p.batch.series[k], float(p.batch.values[k]), None))
            k += 1
    again = parse(encode_text(families), TEXT, default_timestamp_ms=D)
    assert samples_of(again) == samples_of(p)
    assert again.metadata == p.metadata


label_names = st.one_of(
    st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True),
    st.text(min_size=1, max_size=6),
).filter(lambda s: s != "__name__")
metric_names = st.one_of(
    st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,10}", fullmatch=True), st.text(min_size=1, max_size=8)
)
values = st.floats(allow_nan=True, allow_infinity=True)


@st.composite
def families_st(draw: st.DrawFn) -> list[tuple[MetricMetadata, list[ex.EncodeSample]]]:
    out = []
    names = draw(st.lists(metric_names, min_size=1, max_size=4, unique=True))
    for name in names:
        typ = draw(st.sampled_from(["counter", "gauge", "unknown"]))
        # Prometheus' lexer skips the blanks between the name and the HELP
        # text, so leading blanks cannot round-trip (client_golang writes them).
        help_ = draw(st.text(max_size=20)).lstrip(" \t")
        samples: list[ex.EncodeSample] = []
        for _ in range(draw(st.integers(0, 4))):
            pairs = draw(st.dictionaries(label_names, st.text(min_size=1, max_size=10), max_size=3))
            ts = draw(st.one_of(st.none(), st.integers(0, 2**63 - 1)))
            samples.append(((("__name__", name), *sorted(pairs.items())), draw(values), ts))
        out.append((MetricMetadata(name, typ, help_, ""), samples))
    return out


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(families_st())
def test_encode_parse_round_trip(fams: list[tuple[MetricMetadata, list[ex.EncodeSample]]]) -> None:
    body = encode_text(fams)
    p = parse(body, TEXT, default_timestamp_ms=D)
    want = [
        (tuple(sorted(lab)), v, D if ts is None else ts) for _, smps in fams for lab, v, ts in smps
    ]
    got = list(
        zip(p.batch.series, p.batch.values.tolist(), p.batch.timestamps.tolist(), strict=True)
    )
    assert len(got) == len(want)
    for (gl, gv, gt), (wl, wv, wt) in zip(got, want, strict=True):
        assert gl == wl
        assert gt == wt
        assert (math.isnan(gv) and math.isnan(wv)) or gv == wv
    assert p.metadata == [MetricMetadata(m.metric_family, m.type, m.help, "") for m, _ in fams]
    # and the careful parser agrees with the fast one
    assert careful(body.decode(), TEXT) == samples_of(p)


# --- fuzz ----------------------------------------------------------------------


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200), st.sampled_from([TEXT, OM]))
def test_fuzz_random_bytes(body: bytes, fmt: Format) -> None:
    with contextlib.suppress(DecodeError):
        parse(body, fmt, default_timestamp_ms=D)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([SMALL_TEXT, SMALL_OM]),
    st.lists(st.tuples(st.integers(0, 400), st.binary(max_size=3), st.integers(0, 3)), max_size=4),
)
def test_fuzz_mutations(base: str, edits: list[tuple[int, bytes, int]]) -> None:
    """Valid bodies with bytes inserted and deleted: a DecodeError or a parse
    that the careful parser agrees with, warm cache or not."""
    fmt = OM if base is SMALL_OM else TEXT
    body = bytearray(base.encode())
    for pos, ins, dele in edits:
        pos %= len(body) + 1
        body[pos : pos + dele] = ins
    cache = ExpositionCache()
    for _ in range(2):  # the second clean parse leaves a template (see _Template)
        parse(base.encode(), fmt, default_timestamp_ms=D, cache=cache)
    try:
        got = samples_of(parse(bytes(body), fmt, default_timestamp_ms=D, cache=cache))
    except DecodeError:
        with pytest.raises(DecodeError):
            parse(bytes(body), fmt, default_timestamp_ms=D)
        return
    assert got == samples_of(parse(bytes(body), fmt, default_timestamp_ms=D))
    try:
        text = bytes(body).decode()
    except UnicodeDecodeError:
        return
    assert careful(text, fmt) == got


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(families_st(), st.sampled_from(["", "histogram", "summary", "counter"]))
def test_one_match_agrees_with_the_token_reader(
    fams: list[tuple[MetricMetadata, list[ex.EncodeSample]]], norm: str
) -> None:
    """Lines of the common shape are read with one regex match on a cache miss;
    the token-by-token reader (the Prometheus lexer's way) must agree."""
    for line in encode_text(fams).decode().split("\n"):
        if not line or line.startswith("#"):
            continue
        assert outcome(ex._text_sample, line, norm) == outcome(ex._text_tokens, line, norm)
        assert outcome(ex._om_sample, line, norm) == outcome(ex._om_tokens, line, norm)


def outcome(fn: Any, *args: Any) -> object:
    try:
        return fn(*args)
    except ex._LineError as e:
        return ("error", str(e))


@pytest.mark.parametrize(
    "line",
    [
        'a{b="c",d="e",} 1',
        'a{le="1",quantile="0"} +Inf',
        'a{b="x\\\\y\\"z\\nw"} NaN',
        'a_created{b="c"} 1e3',
        "a 1",
        "a{} -0",
    ],
)
@pytest.mark.parametrize("norm", ["", "histogram", "summary", "counter"])
def test_one_match_agrees_on_edge_lines(line: str, norm: str) -> None:
    assert ex._text_sample(line, norm) == ex._text_tokens(line, norm)
    assert ex._om_sample(line, norm) == ex._om_tokens(line, norm)


@pytest.mark.slow
def test_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """bench/exposition.py works end to end (its figures mean nothing on CI)."""
    from bench import exposition as bench

    assert bench.main(["--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count(" warm ") == 5 and "encode_text" in out


@given(st.one_of(st.integers(-(10**6), 10**6).map(float), st.floats()))
def test_encoded_values_are_go_formatted(f: float) -> None:
    want = "0" if f == 0 else format_go_float(f)  # client_golang writes both zeros as 0
    assert ex._encode_value(f) == want


def test_caches_sharing_texts_reuse_each_others_series_and_keep_their_own_templates() -> None:
    from kubesight.wire.exposition import SharedTexts

    texts = SharedTexts()
    a, b = ExpositionCache(shared=texts), ExpositionCache(shared=texts)
    body_a = b'# TYPE m counter\nm_total{x="1"} 1\nm_total{x="2"} 2\n'
    body_b = b'# TYPE m counter\nm_total{x="1"} 5\nm_total{x="2"} 6\n'
    pa = parse(body_a, Format.TEXT_004, default_timestamp_ms=0, cache=a)
    size = texts.size
    pb = parse(body_b, Format.TEXT_004, default_timestamp_ms=0, cache=b)
    assert texts.size == size  # the second target's first parse was all hits
    assert all(x is y for x, y in zip(pa.batch.series, pb.batch.series, strict=True))
    assert pb.batch.values.tolist() == [5.0, 6.0]
    assert b.templates["t"] is not None and not a.templates  # a's first body had a new TYPE line
    # Each target keeps its own body shape.
    a1 = parse(body_a, Format.TEXT_004, default_timestamp_ms=0, cache=a)
    a2 = parse(body_a.replace(b"} 1", b"} 9"), Format.TEXT_004, default_timestamp_ms=0, cache=a)
    assert a2.shape is a1.shape is a.templates["t"] and a2.shape is not b.templates["t"]
    assert a2.batch.values.tolist() == [9.0, 2.0]


_SHAPE_BASE = (
    "# HELP a_total A counter.\n# TYPE a_total counter\n"
    'a_total{x="1"} 1\na_total{x="2 two"} 2\n\n'
    "# a plain comment\n"
    '# TYPE h histogram\nh_bucket{le="0.5"} 3\nh_bucket{le="+Inf"} 4\nh_sum 1.5\nh_count 4\n'
    'g{path="/ü"} 7\n'
)
_TOKENS = ["0", "1.5", "-2e-3", "+Inf", "-Inf", "NaN", "nan", "1_000", " 5", "5 ", "0x1p3", "1e999",
           "", "5\r", "+nan", "\u0661", "Infinity", "1e5", ".5", "5.", "-0", "9007199254740993"]


def _same(a: object, b: object) -> None:
    if isinstance(a, Exception) or isinstance(b, Exception):
        assert type(a) is type(b) and str(a) == str(b)
        return
    pa, pb = a, b
    assert isinstance(pa, ex.ParsedScrape) and isinstance(pb, ex.ParsedScrape)
    assert list(pa.batch.series) == list(pb.batch.series)
    assert pa.batch.values.tobytes() == pb.batch.values.tobytes()  # NaN bits too
    assert pa.batch.timestamps.tolist() == pb.batch.timestamps.tolist()
    assert pa.metadata == pb.metadata


def _parse_or_error(body: bytes, cache: ExpositionCache | None) -> object:
    try:
        return parse(body, Format.TEXT_004, default_timestamp_ms=1000, cache=cache)
    except DecodeError as exc:
        return exc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.sampled_from(_TOKENS), min_size=7, max_size=7),
    edit=st.sampled_from(["none", "label", "drop_line", "add_line", "no_final_newline", "stamp", "comment"]),
)
def test_a_templated_body_parses_exactly_as_a_fresh_parse(values: list[str], edit: str) -> None:
    cache = ExpositionCache()
    for _ in range(2):  # the second parse leaves a template behind
        parse(_SHAPE_BASE.encode(), Format.TEXT_004, default_timestamp_ms=0, cache=cache)
    assert cache.templates["t"] is not None
    lines = _SHAPE_BASE.split("\n")
    k = 0
    for i, line in enumerate(lines):
        if line and not line.startswith("#"):
            lines[i] = line.rpartition(" ")[0] + " " + values[k]
            k += 1
    text = "\n".join(lines)
    if edit == "label":
        text = text.replace('x="1"', 'x="3"')
    elif edit == "drop_line":
        text = text.replace("h_sum", "#h_sum")
    elif edit == "add_line":
        text += "extra 1\n"
    elif edit == "no_final_newline":
        text = text.rstrip("\n")
    elif edit == "stamp":
        text = text.replace("h_count 4", "h_count 4 123")
    elif edit == "comment":
        text = text.replace("plain comment", "plain  comment")
    body = text.encode()
    _same(_parse_or_error(body, cache), _parse_or_error(body, None))


def test_a_repeat_body_is_read_by_the_byte_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubesight.wire.exposition import cached

    calls: list[object] = []
    real = cached._values_by_bytes

    def spy(body: bytes, tpl: object) -> object:
        out = real(body, tpl)  # type: ignore[arg-type]
        calls.append(out)
        return out

    monkeypatch.setattr(cached, "_values_by_bytes", spy)
    cache = ExpositionCache()
    for _ in range(2):
        parse(_SHAPE_BASE.encode(), Format.TEXT_004, default_timestamp_ms=0, cache=cache)
    got = parse(_SHAPE_BASE.replace("} 2\n", "} 8\n").encode(), Format.TEXT_004, default_timestamp_ms=5, cache=cache)
    assert calls and calls[-1] is not None  # read without splitting lines
    assert got.batch.values.tolist() == [1.0, 8.0, 3.0, 4.0, 1.5, 4.0, 7.0]
    assert got.batch.timestamps.tolist() == [5] * 7
    assert got.shape is cache.templates["t"]
