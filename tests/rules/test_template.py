"""Prometheus' template functions, as promtool (Go) expands them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubesight.rules.template import expand_alert_text
from tests.rules.promtool import expand_with_promtool

LABELS = {"instance": "node-1:9100", "job": "node"}
VALUE = 1234.5
EXTERNAL = {"cluster": "c1"}
URL = "http://prom.example:9090/prefix"

CASES: list[tuple[str, str]] = [
    ("{{ humanize 0 }} {{ humanize 1 }} {{ humanize 999.9 }} {{ humanize 1000 }} {{ humanize 1234567.0 }} "
     "{{ humanize 1e30 }} {{ humanize -1234.5 }}", "0 1 999.9 1k 1.235M 1e+06Y -1.234k"),
    ('{{ humanize 0.1 }} {{ humanize 0.00012 }} {{ humanize 1e-20 }} {{ humanize "12345" }} '
     '{{ humanize "+Inf" }} {{ humanize "NaN" }}', "100m 120u 10z 12.35k +Inf NaN"),
    ("{{ humanize1024 0 }} {{ humanize1024 1 }} {{ humanize1024 1023 }} {{ humanize1024 1024 }} "
     "{{ humanize1024 1536.0 }} {{ humanize1024 1e15 }} {{ humanize1024 0.5 }}", "0 1 1023 1ki 1.5ki 909.5Ti 0.5"),
    ("{{ humanizeDuration 0 }} {{ humanizeDuration 1 }} {{ humanizeDuration 59.5 }} {{ humanizeDuration 60 }} "
     "{{ humanizeDuration 3725.5 }} {{ humanizeDuration 90061 }} {{ humanizeDuration -3725 }}",
     "0s 1s 59.5s 1m 0s 1h 2m 5s 1d 1h 1m 1s -1h 2m 5s"),
    ('{{ humanizeDuration 0.5 }} {{ humanizeDuration 0.0012 }} {{ humanizeDuration 1.5e-7 }} '
     '{{ humanizeDuration "120" }}', "500ms 1.2ms 150ns 2m 0s"),
    ("{{ humanizePercentage 0 }} {{ humanizePercentage 0.12345 }} {{ humanizePercentage 1.5 }} "
     "{{ humanizePercentage 0.000012 }}", "0% 12.35% 150% 0.0012%"),
    ("{{ humanizeTimestamp 0 }} {{ humanizeTimestamp 1750000000.5 }} {{ humanizeTimestamp 1435065584.128 }}",
     "1970-01-01 00:00:00 +0000 UTC 2025-06-15 15:06:40.5 +0000 UTC 2015-06-23 13:19:44.128 +0000 UTC"),
    ("{{ $value | humanize }} {{ $value | humanize1024 }} {{ $value | humanizeDuration }} "
     "{{ $value | humanizePercentage }}", "1.234k 1.206ki 20m 34s 1.234e+05%"),
    ('{{ title "hello world-foo_bar x.y" }} {{ toUpper "aé" }} {{ toLower "ÀB" }}', "Hello World-Foo_bar X.Y AÉ àb"),
    ('{{ reReplaceAll "(.*):(\\\\d+)" "$1 port $2" "node-1:9100" }} {{ reReplaceAll "o" "0" "foo boo" }} '
     '{{ reReplaceAll "(?P<h>[a-z]+)-(\\\\d)" "${h}_$2x" "ab-1 cd-2" }}', "node-1 port 9100 f00 b00 ab_ cd_"),
    ('{{ match "^node" "node-1" }} {{ match "x$" "node" }} {{ if match "n.d" $labels.instance }}m{{ end }}',
     "true false m"),
    ('{{ safeHtml "<b>" }} {{ stripPort "host:9100" }} {{ stripPort "[::1]:80" }} {{ stripPort "noport" }} '
     '{{ stripPort "::1" }}', "<b> host ::1 noport ::1"),
    ('{{ graphLink "rate(x[5m]) > 1" }} {{ tableLink "up{job=\\"a b\\"}" }}',
     "/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1&g0.tab=0 /graph?g0.expr=up%7Bjob%3D%22a+b%22%7D&g0.tab=1"),
    ('{{ with args 1 "b" }}{{ .arg0 }} {{ .arg1 }}{{ end }} {{ parseDuration "1h30m" }}', "1 b 5400"),
    ("{{ $externalURL }}|{{ $externalLabels.cluster }}", f"{URL}|c1"),
    ('{{ humanize "abc" }}', 'ERROR:template: __alert_T:1:115: executing "__alert_T" at <humanize "abc">: '
     'error calling humanize: strconv.ParseFloat: parsing "abc": invalid syntax'),
    ("{{ humanize $labels }}", 'ERROR:template: __alert_T:1:115: executing "__alert_T" at <humanize $labels>: '
     "error calling humanize: can't convert map[string]string to float"),
    ("{{ nosuch }}", 'ERROR:template: __alert_T:1: function "nosuch" not defined'),
    ("{{ .Nope }}", 'ERROR:template: __alert_T:1:115: executing "__alert_T" at <.Nope>: can\'t evaluate field '
     "Nope in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; "
     "Value float64 }"),
    ("{{ . }}", "{map[instance:node-1:9100 job:node] map[cluster:c1] http://prom.example:9090/prefix 1234.5}"),
    ("{{ .Labels.job }} {{ .Value }} {{ len .ExternalLabels }}", "node 1234.5 1"),
]


def ours(text: str) -> str:
    out = expand_alert_text(text, "T", LABELS, VALUE, external_labels=EXTERNAL, external_url=URL)
    prefix = "<error expanding template: "
    if out.startswith(prefix):  # compare Go's own message, as the promtool harness reads it
        return "ERROR:" + out[len(prefix):-1].split(": ", 1)[1]
    return out


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_functions(text: str, expected: str) -> None:
    assert ours(text) == expected


def test_functions_outside_promtool() -> None:
    # promtool runs without an external URL (these crash there), so they are checked here only
    assert ours("{{ externalURL }}|{{ pathPrefix }}") == f"{URL}|/prefix"
    query = lambda q, t: [((("__name__", "up"), ("instance", "b")), 0.0), ((("instance", "a"),), 1.0)]  # noqa: E731
    text = ('{{ range query "up" | sortByLabel "instance" }}{{ .Labels.instance }}={{ .Value }} {{ end }}'
            '{{ with query "up" }}{{ . | first | label "instance" }} {{ . | first | value }}{{ end }}')
    assert expand_alert_text(text, "T", {}, 0, query=query) == "a=1 b=0 b 0"
    empty = expand_alert_text('{{ query "x" | first | value }}', "T", {}, 0, query=lambda q, t: [])
    assert "first() called on vector with no elements" in empty
    assert expand_alert_text("plain text", "T", {}, 0) == "plain text"


@pytest.mark.peer
def test_promtool_gives_the_same(tmp_path: Path) -> None:
    got = expand_with_promtool(tmp_path, [t for t, _ in CASES], LABELS, VALUE,
                               external_labels=EXTERNAL, external_url=URL)
    assert got == [e for _, e in CASES]
