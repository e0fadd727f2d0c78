"""Unit tests of Explore's pure JS modules (lang.js, state.js), run in chromium through page.evaluate."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server


@pytest.fixture
def js(ui_server: Server, page: Any) -> Any:
    page.goto(f"{ui_server.url}/graph")
    version = str(page.eval_on_selector("script[type=module]", "e => e.getAttribute('src')").split("/")[2])

    def call(module: str, body: str, *args: Any) -> Any:
        return page.evaluate(
            f"async (args) => {{ const m = await import('/static/{version}/js/explore/{module}.js'); return ({body})(...args); }}",
            list(args))
    return call


def ctx(js: Any, text: str, pos: int | None = None) -> dict[str, Any]:
    """The completion context with the cursor at `pos` (default: the end; a "|" in text marks it)."""
    if "|" in text and pos is None:
        pos = text.index("|")
        text = text.replace("|", "", 1)
    result: dict[str, Any] = js("lang", "(t, p) => m.completionContext(t, p)", text, len(text) if pos is None else pos)
    return result


def test_context_after_metric_name(js: Any) -> None:
    c = ctx(js, "demo_req")
    assert c["kind"] == "expr" and c["prefix"] == "demo_req" and c["from"] == 0 and c["to"] == 8
    c = ctx(js, "demo_req|uests_total")  # a pick replaces the whole word around the cursor
    assert c["kind"] == "expr" and c["prefix"] == "demo_req" and c["to"] == len("demo_requests_total")
    c = ctx(js, "up ")
    assert c["kind"] == "operator" and c["prefix"] == ""
    c = ctx(js, "up o")
    assert c["kind"] == "operator" and c["prefix"] == "o" and c["from"] == 3
    c = ctx(js, "sum b")
    assert c["kind"] == "operator" and c["only"] == ["by", "without"]
    c = ctx(js, "up + nod")
    assert c["kind"] == "expr" and c["prefix"] == "nod"


def test_context_inside_braces(js: Any) -> None:
    c = ctx(js, "demo_requests_total{")
    assert c["kind"] == "labelName" and c["metric"] == "demo_requests_total" and c["prefix"] == ""
    c = ctx(js, 'demo_requests_total{code="200", po|}')
    assert c["kind"] == "labelName" and c["prefix"] == "po" and c["matchers"] == ['code="200"']
    c = ctx(js, "{__name__=~\"x\",jo")
    assert c["kind"] == "labelName" and c["metric"] == "" and c["prefix"] == "jo"
    c = ctx(js, 'up{job="a b c')  # inside a string that is not a matcher value
    assert c["kind"] == "labelValue"
    c = ctx(js, 'label_replace(up, "ds')
    assert c["kind"] == "none"


def test_context_after_matcher_operator(js: Any) -> None:
    for op in ("=", "!=", "=~", "!~"):
        c = ctx(js, f"demo_requests_total{{pod{op}")
        assert c["kind"] == "labelValue" and c["label"] == "pod" and c["quote"] == "", op
    c = ctx(js, 'demo_requests_total{pod="we|"}')
    assert c["kind"] == "labelValue" and c["label"] == "pod" and c["prefix"] == "we" and c["quote"] == '"'
    # the pick replaces from the opening quote through the closing one
    assert c["from"] == len("demo_requests_total{pod=") and c["to"] == len('demo_requests_total{pod="we"')
    c = ctx(js, "rate(x{job='a', code=~'5")
    assert c["kind"] == "labelValue" and c["label"] == "code" and c["quote"] == "'" and c["matchers"] == ["job='a'"]


def test_context_after_bracket(js: Any) -> None:
    assert ctx(js, "rate(demo_requests_total[")["kind"] == "duration"
    assert ctx(js, "rate(demo_requests_total[5")["kind"] == "duration"
    assert ctx(js, "max_over_time(rate(x[5m])[1h:")["kind"] == "duration"
    assert ctx(js, "rate(x[5m]) ")["kind"] == "operator"


def test_context_inside_function_args(js: Any) -> None:
    c = ctx(js, "rate(demo_")
    assert c["kind"] == "expr" and c["prefix"] == "demo_"
    c = ctx(js, "histogram_quantile(0.9, sum by (le) (rate(demo_lat")
    assert c["kind"] == "expr" and c["prefix"] == "demo_lat"
    assert ctx(js, "topk(5, ")["kind"] == "expr"
    assert ctx(js, "topk(5")["kind"] == "none"  # typing a number


def test_context_after_by(js: Any) -> None:
    c = ctx(js, "sum by (")
    assert c["kind"] == "grouping" and c["metric"] == ""
    c = ctx(js, "sum by (p|) (rate(demo_requests_total[5m]))")
    assert c["kind"] == "grouping" and c["prefix"] == "p" and c["metric"] == "demo_requests_total"
    c = ctx(js, "sum(rate(demo_requests_total[5m])) without (code, ")
    assert c["kind"] == "grouping" and c["metric"] == "demo_requests_total"
    c = ctx(js, "a / on(pod) group_left(na")
    assert c["kind"] == "grouping" and c["metric"] == "a" and c["prefix"] == "na"
    # after the grouping closes, an expression starts
    assert ctx(js, "sum by (pod) (dem")["kind"] == "expr"


def test_first_metric_skips_labels_and_functions(js: Any) -> None:
    def first(t: str) -> Any:
        return js("lang", "(t) => m.firstMetric(t)", t)
    assert first("sum by (pod) (rate(demo_requests_total{code=\"200\"}[5m]))") == "demo_requests_total"
    assert first("sum without (job) (x)") == "x"
    assert first("{job=\"a\"}") == ""


def test_error_positions(js: Any) -> None:
    def pos(msg: str, text: str) -> Any:
        return js("lang", "(m2, t) => m.parseErrorPosition(m2, t)", msg, text)
    p = pos('invalid parameter "query": 1:16: parse error: unclosed left parenthesis', "sum(rate(x[5m])")
    assert (p["line"], p["col"], p["offset"]) == (1, 16, 15)
    assert p["message"] == "parse error: unclosed left parenthesis"
    p = pos('2:8: parse error: unexpected "}" in label matching, expected string', "1 +\n foo{a=}")
    assert (p["line"], p["col"], p["offset"]) == (2, 8, 11)
    p = pos("1:5-1:9: parse error: bad", "foo bar baz")
    assert (p["offset"], p["endOffset"]) == (4, 8)
    assert pos("query timed out in expression evaluation", "up") is None
    # a column past the line's end is clamped to the line's end
    p = pos("1:99: parse error: x", "up")
    assert p["offset"] == 2


def test_lexer_tokens(js: Any) -> None:
    toks = js("lang", "(t) => m.lex(t).filter(x => x.t !== 'ws').map(x => [x.t, x.v])",
              'sum by (pod) (rate(x{a=~"b\\"c"}[5m:1m])) # note')
    assert toks == [["ident", "sum"], ["ident", "by"], ["punct", "("], ["ident", "pod"], ["punct", ")"], ["punct", "("],
                    ["ident", "rate"], ["punct", "("], ["ident", "x"], ["punct", "{"], ["ident", "a"], ["op", "=~"],
                    ["str", '"b\\"c"'], ["punct", "}"], ["punct", "["], ["dur", "5m"], ["punct", ":"], ["dur", "1m"],
                    ["punct", "]"], ["punct", ")"], ["punct", ")"], ["comment", "# note"]]
    assert js("lang", "(t) => m.lex(t).map(x => x.t)", "job:rate5m:sum") == ["ident"]


def test_url_state_round_trip(js: Any) -> None:
    state = js("state", "(q) => m.readState(new URLSearchParams(q))",
               "g0.expr=up&g0.tab=1&g0.range_input=30m&g0.stacked=1&g0.step_input=15&g0.show_exemplars=0"
               "&g1.expr=rate(x%5B5m%5D)&g1.tab=explain&g1.moment_input=2026-01-02%2003:04:05&from=x")
    assert state["rangeMs"] == 30 * 60_000 and state["endMs"] is None
    p0, p1 = state["panels"]
    assert p0 == {"expr": "up", "tab": "table", "rangeMs": 1_800_000, "endMs": None, "momentMs": None,
                  "stepMs": 15_000, "stacked": True}
    assert p1["expr"] == "rate(x[5m])" and p1["tab"] == "explain" and p1["momentMs"] == 1767323045000
    assert [js("state", "(v) => m.parseTab(v)", v) for v in ("0", "1", "2", "graph", "table", "explain", "", "9")] == \
        ["graph", "table", "explain", "graph", "table", "explain", "graph", "graph"]
    # written back, read again: the same panels; other keys kept, stale g<i>.* dropped
    back = js("state", """(panels) => {
        const p = m.writeState("from=now-1h&g5.expr=old", panels, {rangeMs: 1800000, endMs: 1767323045000});
        return [p.toString(), m.readState(p)];
    }""", state["panels"])
    qs, again = back
    assert "from=now-1h" in qs and "g5.expr" not in qs and "g0.range_input=30m" in qs
    assert "g0.end_input=2026-01-02+03%3A04%3A05" in qs and "g0.tab=table" in qs and "g0.display_mode=stacked" in qs
    assert [p["expr"] for p in again["panels"]] == ["up", "rate(x[5m])"]
    assert again["panels"][0]["stacked"] is True and again["panels"][0]["stepMs"] == 15_000
    assert again["endMs"] == 1767323045000 and again["rangeMs"] == 1_800_000
    # Prometheus 3's display_mode wins over the legacy flag
    s = js("state", "(q) => m.readState(new URLSearchParams(q)).panels[0].stacked", "g0.expr=x&g0.display_mode=lines&g0.stacked=1")
    assert s is False


def test_prometheus_times(js: Any) -> None:
    def parse(s: str) -> Any:
        return js("state", "(s) => m.parsePromTime(s)", s)
    assert parse("2026-01-02 03:04:05") == 1767323045000
    assert parse("1767323045") == 1767323045000 and parse("1767323045000") == 1767323045000
    assert parse("2026-01-02T03:04:05Z") == 1767323045000
    assert parse("yesterday") is None
    assert js("state", "(t) => m.formatPromTime(t)", 1767323045000) == "2026-01-02 03:04:05"


def test_to_promql_from_parse_query(js: Any, ui_server: Server) -> None:
    import httpx
    for q in ('sum by (pod) (rate(demo_requests_total{code="200"}[5m])) / on (pod) group_left () sum by (pod) (rate(demo_requests_total[5m]))',
              'max_over_time(rate(x[5m])[1h:1m] offset 5m)', 'topk(3, -up > bool 0)', 'label_replace(up, "a", "$1", "job", "(.*)")'):
        ast = httpx.get(f"{ui_server.url}/api/v1/parse_query", params={"query": q}).json()["data"]
        text = js("lang", "(a) => m.toPromQL(a)", ast)
        # the text parses to the same tree
        again = httpx.get(f"{ui_server.url}/api/v1/parse_query", params={"query": text}).json()
        assert again["status"] == "success", (q, text, again)
        assert again["data"] == ast, (q, text)

