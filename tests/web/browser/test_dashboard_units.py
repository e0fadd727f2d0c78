"""The dashboard modules' pure functions, run in chromium: interpolation, variable queries, regex and sort,
Markdown escaping, grid layout. Each test imports the served modules (static/js/dashboard/*.js)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Server

# Loads the modules once per page into window.M.
LOAD = """async (version) => {
  const base = `/static/${version}/js/dashboard/`;
  window.M = {
    i: await import(base + 'interpolate.js'), v: await import(base + 'variables.js'),
    md: await import(base + 'markdown.js'), g: await import(base + 'grid.js'),
    f: await import(base + 'fields.js'), p: await import(base + 'panels.js'),
  };
  return Object.keys(window.M).length;
}"""


@pytest.fixture
def mods(ui_server: Server, page: Any) -> Any:
    page.goto(f"{ui_server.url}/setup")
    src = page.eval_on_selector("script[type=module]", "e => e.getAttribute('src')")
    assert page.evaluate(LOAD, str(src).split("/")[2]) == 6
    return page


SCOPE = """const opts = [{text: 'All', value: '$__all'}, {text: 'x', value: 'x'}, {text: 'y.z', value: 'y.z'}];
const scope = {
  single: {value: 'node', text: 'node', multi: false, includeAll: false, options: []},
  quote: {value: "it's", text: "it's", multi: false, includeAll: false, options: []},
  dotted: {value: 'a.b', text: 'a.b', multi: false, includeAll: false, options: []},
  multi: {value: ['a.b', 'c'], text: ['a.b', 'c'], multi: true, includeAll: false,
          options: [{text: 'a.b', value: 'a.b'}, {text: 'c', value: 'c'}]},
  one: {value: ['a.b'], text: ['a.b'], multi: true, includeAll: false, options: [{text: 'a.b', value: 'a.b'}]},
  all: {value: '$__all', text: 'All', multi: true, includeAll: true, allValue: null, options: opts},
  allv: {value: ['$__all'], text: ['All'], multi: true, includeAll: true, allValue: '.+', options: opts},
  empty_all: {value: '$__all', text: 'All', multi: false, includeAll: true, allValue: null, options: [{text: 'All', value: '$__all'}]},
  named: {value: 'v1', text: 'Nice name', multi: false, includeAll: false, options: [{text: 'Nice name', value: 'v1'}]},
  ...M.i.builtins({start: 0, end: 6 * 3600e3, intervalMs: 30000, dashboard: 'Node'}),
};"""

CASES = [
    ("$single", "node"),
    ("${single}", "node"),
    ("[[single]]", "node"),
    ('up{job="$single"}', 'up{job="node"}'),
    ("$single_suffix", "$single_suffix"),  # a longer name is another (unknown) variable
    ("$nope", "$nope"),
    ("$quote", "it\\\\'s"),
    ("$dotted", "a.b"),  # one plain value is not regex-escaped (Grafana's Prometheus default)
    ("${dotted:regex}", "a\\.b"),
    ("$multi", "(a\\\\.b|c)"),  # multi: regex-escaped for a PromQL string, joined
    ("${multi}", "(a\\\\.b|c)"),
    ("$one", "a\\\\.b"),
    ("${multi:regex}", "(a\\.b|c)"),
    ("${multi:pipe}", "a.b|c"),
    ("${multi:csv}", "a.b,c"),
    ("${multi:raw}", "a.b,c"),
    ("${multi:json}", '["a.b","c"]'),
    ("${multi:text}", "a.b + c"),
    ("${multi:doublequote}", '"a.b","c"'),
    ("${multi:queryparam}", "var-multi=a.b&var-multi=c"),
    ("[[multi:csv]]", "a.b,c"),
    ("$all", "(x|y\\\\.z)"),  # All without allValue: every option
    ("${all:csv}", "x,y.z"),
    ("${all:text}", "All"),
    ("${all:pipe}", "x|y.z"),
    ("$allv", ".+"),  # All with a custom allValue: as written, not escaped
    ("${allv:regex}", ".+"),
    ("$empty_all", ".*"),  # All over no options at all
    ("${named:text}", "Nice name"),
    ("$named", "v1"),
    ("$__interval", "30s"),
    ("$__interval_ms", "30000"),
    ("$__rate_interval", "1m"),  # max(30s + 15s, 4 x 15s)
    ("$__range", "21600s"),
    ("$__range_s", "21600"),
    ("$__range_ms", "21600000"),
    ("${__range}", "21600s"),
    ("$__dashboard", "Node"),
    ("$__from $__to", "0 21600000"),
    ('rate(x{a=~"$multi", b="$single"}[$__rate_interval])', 'rate(x{a=~"(a\\\\.b|c)", b="node"}[1m])'),
]


def test_interpolation_table(mods: Any) -> None:
    got = mods.evaluate(f"""(cases) => {{ {SCOPE} return cases.map(([t]) => M.i.interpolate(t, scope)); }}""",
                        [list(c) for c in CASES])
    wrong = [(t, want, g) for (t, want), g in zip(CASES, got, strict=True) if g != want]
    assert not wrong, "\n".join(f"{t!r}: want {want!r}, got {g!r}" for t, want, g in wrong)


def test_rate_interval_and_interval_format(mods: Any) -> None:
    got = mods.evaluate("""() => [
      M.i.rateIntervalMs(60000), M.i.rateIntervalMs(15000), M.i.rateIntervalMs(1000, 1000), M.i.rateIntervalMs(300000, 30000),
      M.i.msToDuration(90000), M.i.msToDuration(3600e3), M.i.msToDuration(250),
      M.i.builtins({start: 0, end: 3600e3, intervalMs: 60000}).__rate_interval,
      M.i.builtins({start: 0, end: 3600e3, intervalMs: 5000, scrapeMs: 1000}).__rate_interval,
    ]""")
    assert got == [75000, 60000, 4000, 330000, "1m30s", "1h", "250ms", "1m15s", "6s"]


def test_referenced_names(mods: Any) -> None:
    got = mods.evaluate("""() => [...M.i.referencedNames('label_values(up{job="$job", x="${inst:csv}", y="[[z]]"}, instance)')].sort()""")
    assert got == ["inst", "job", "z"]
    deps = mods.evaluate("""() => M.v.dependencies({name: 'b', query: 'label_values(up{job="$a", b="$b"}, x)', regex: '/${c}/'},
                                                  ['a', 'b', 'c', 'd'])""")
    assert deps == ["a", "c"]


def test_variable_query_parsing(mods: Any) -> None:
    got = mods.evaluate("""() => [
      M.v.parseVariableQuery('label_values(job)'),
      M.v.parseVariableQuery('label_values(up{job="a,b", x=~"(c|d)"}, instance)'),
      M.v.parseVariableQuery(' label_values( node_uname_info , nodename ) '),
      M.v.parseVariableQuery('label_names()'),
      M.v.parseVariableQuery('label_names(up)'),
      M.v.parseVariableQuery('metrics(node_.*)'),
      M.v.parseVariableQuery('query_result(topk(5, sum by (handler) (rate(x[5m]))))'),
      M.v.parseVariableQuery('up == 1'),
      M.v.parseVariableQuery(''),
    ]""")
    assert got == [
        {"kind": "label_values", "label": "job", "match": ""},
        {"kind": "label_values", "match": 'up{job="a,b", x=~"(c|d)"}', "label": "instance"},
        {"kind": "label_values", "match": "node_uname_info", "label": "nodename"},
        {"kind": "label_names", "match": ""},
        {"kind": "label_names", "match": "up"},
        {"kind": "metrics", "regex": "node_.*"},
        {"kind": "query_result", "expr": "topk(5, sum by (handler) (rate(x[5m])))"},
        {"kind": "query_result", "expr": "up == 1"},
        {"kind": "empty"},
    ]


def test_variable_queries_call_the_right_api(mods: Any) -> None:
    got = mods.evaluate("""async () => {
      const calls = [];
      const f = {
        labelValues: async (l, m, s, e) => { calls.push(['values', l, m, s, e]); return l === '__name__' ? ['node_load1', 'up', 'node_load5'] : ['a', 'b']; },
        labelNames: async (m) => { calls.push(['names', m]); return ['job']; },
        instant: async (q, t) => { calls.push(['instant', q, t]);
          return {resultType: 'vector', result: [{metric: {__name__: 'up', job: 'x', instance: 'h:1'}, value: [1700000000.5, '1']}]}; },
      };
      const r = {start: 1000, end: 2000};
      const out = [
        await M.v.queryValues('label_values(job)', r, f),
        await M.v.queryValues('label_values(up{a="1"}, job)', r, f),
        await M.v.queryValues('label_names()', r, f),
        await M.v.queryValues('metrics(^node_)', r, f),
        await M.v.queryValues('query_result(up)', r, f),
      ];
      return {out, calls};
    }""")
    assert got["out"] == [["a", "b"], ["a", "b"], ["job"], ["node_load1", "node_load5"],
                          ['up{job="x",instance="h:1"} 1 1700000000500']]
    assert got["calls"] == [["values", "job", [], 1000, 2000], ["values", "job", ['up{a="1"}'], 1000, 2000],
                            ["names", []], ["values", "__name__", [], 1000, 2000], ["instant", "up", 2000]]


def test_regex_filter_and_capture(mods: Any) -> None:
    got = mods.evaluate("""() => [
      M.v.applyRegex(['{handler="/a"} 1 2', '{handler="/b"} 3 4', 'other', '{handler="/a"} 5 6'], '/handler="([^"]+)"/'),
      M.v.applyRegex(['eth0', 'veth12', 'lo'], '/^(?!veth).*$/'),
      M.v.applyRegex(['k1:v1', 'k2:v2'], '/(?<text>[^:]+):(?<value>.+)/'),
      M.v.applyRegex(['Ab', 'ab'], '/^a/i'),
      M.v.applyRegex(['x', 'y'], ''),
    ]""")
    assert got == [
        [{"text": "/a", "value": "/a"}, {"text": "/b", "value": "/b"}],
        [{"text": "eth0", "value": "eth0"}, {"text": "lo", "value": "lo"}],
        [{"text": "k1", "value": "v1"}, {"text": "k2", "value": "v2"}],
        [{"text": "Ab", "value": "Ab"}, {"text": "ab", "value": "ab"}],
        [{"text": "x", "value": "x"}, {"text": "y", "value": "y"}],
    ]
    err = mods.evaluate("() => { try { M.v.applyRegex(['x'], '/(/'); return ''; } catch (e) { return e.message; } }")
    assert err.startswith("regex /(/:")


def test_sort_codes(mods: Any) -> None:
    got = mods.evaluate("""() => {
      const o = ['b10', 'a2', 'B1', 'a10'].map((t) => ({text: t, value: t}));
      return [0, 1, 2, 3, 4, 5, 6, 7, 8].map((c) => M.v.sortOptions(o, c).map((x) => x.text));
    }""")
    assert got == [
        ["b10", "a2", "B1", "a10"],
        ["B1", "a10", "a2", "b10"], ["b10", "a2", "a10", "B1"],
        ["B1", "a2", "b10", "a10"], ["a10", "b10", "a2", "B1"],
        ["a10", "a2", "B1", "b10"], ["b10", "B1", "a2", "a10"],
        ["a2", "a10", "B1", "b10"], ["b10", "B1", "a10", "a2"],  # natural: numbers by value, case aside
    ]


def test_current_value_kept_or_first(mods: Any) -> None:
    got = mods.evaluate("""() => {
      const o = [{text: 'a', value: 'a'}, {text: 'b', value: 'b'}];
      const all = [{text: 'All', value: '$__all'}, ...o];
      return [
        M.v.pickCurrent({multi: false}, o, 'b'), M.v.pickCurrent({multi: false}, o, 'gone'),
        M.v.pickCurrent({multi: true}, o, ['b', 'gone']), M.v.pickCurrent({multi: true}, o, ['gone']),
        M.v.pickCurrent({multi: true, includeAll: true}, all, undefined),
        M.v.pickCurrent({multi: true, includeAll: true}, all, 'All'),
        M.v.pickCurrent({multi: false}, [], 'x'),
      ];
    }""")
    assert got == ["b", "a", ["b"], ["a"], ["$__all"], ["$__all"], ""]


def test_markdown_is_escaped(mods: Any) -> None:
    got = mods.evaluate("""() => M.md.renderMarkdown([
      '# Title <script>alert(1)</script>',
      '',
      'Some **bold**, *italic*, `<code>` and [a link](https://example.com/x?a=1&b=2).',
      '',
      '- one',
      '- [bad](javascript:alert(1))',
      '- [bad2](JaVaScRiPt:alert(1))',
      '- [bad3]( java\\tscript:alert(1))',
      '- [data](data:text/html,<b>x</b>)',
      '',
      '<img src=x onerror="alert(1)">',
      '<a href="javascript:alert(1)">raw</a>',
      '',
      '```',
      '<script>x</script>',
      '```',
    ].join('\\n'))""")
    # Tags and script URLs from the source survive only as escaped text.
    assert "<script" not in got and "<img" not in got and 'href="javascript' not in got.lower()
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;raw&lt;/a&gt;" in got
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in got
    assert "<h1>Title" in got and "<strong>bold</strong>" in got and "<em>italic</em>" in got
    assert "<code>&lt;code&gt;</code>" in got
    assert '<a href="https://example.com/x?a=1&amp;b=2" rel="noopener noreferrer">a link</a>' in got
    assert "<li>bad</li>" in got and "<li>bad2</li>" in got and "data:" not in got.replace("&lt;", "")
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in got
    # The rendered HTML holds no element besides the formatting ones, and no event handler or script URL.
    tags = mods.evaluate("""(html) => { const d = document.createElement('div'); d.innerHTML = html;
      return [[...new Set([...d.querySelectorAll('*')].map((e) => e.tagName))].sort(),
              [...d.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name + '=' + a.value))]; }""", got)
    assert set(tags[0]) <= {"A", "CODE", "EM", "H1", "LI", "P", "PRE", "STRONG", "UL"}, tags[0]
    assert all(a.startswith(("href=https://", "rel=")) for a in tags[1]), tags[1]


def test_html_mode_only_when_trivially_safe(mods: Any) -> None:
    got = mods.evaluate("""() => ['<p>Data from <b>node</b>.</p>', '<a href="https://x.org/">ok</a>',
      '<img src=x onerror=alert(1)>', '<p onclick="alert(1)">x</p>', '<a href="javascript:alert(1)">x</a>',
      '<script>alert(1)</script>', '<style>body{}</style>', '<iframe src="/"></iframe>'].map((s) => {
        const f = M.md.htmlToSafe(s); if (!f) return null;
        const d = document.createElement('div'); d.append(f); return d.innerHTML; })""")
    assert got == ["<p>Data from <b>node</b>.</p>", '<a href="https://x.org/" rel="noopener noreferrer">ok</a>',
                   None, None, None, None, None, None]


def test_grid_layout(mods: Any) -> None:
    got = mods.evaluate("""() => {
      const P = (x, y, w, h, extra = {}) => ({gridPos: {x, y, w, h}, ...extra});
      const h3 = M.g.repeatPanel({gridPos: {x: 0, y: 2, w: 6, h: 4}, repeatDirection: 'h', maxPerRow: null}, ['a', 'b', 'c']);
      const h5 = M.g.repeatPanel({gridPos: {x: 0, y: 0, w: 6, h: 4}, repeatDirection: 'h', maxPerRow: 2}, ['a', 'b', 'c']);
      const v = M.g.repeatPanel({gridPos: {x: 4, y: 1, w: 10, h: 3}, repeatDirection: 'v'}, ['a', 'b']);
      const none = M.g.repeatPanel({gridPos: {x: 1, y: 1, w: 2, h: 2}, repeatDirection: 'h'}, []);
      // A repeat grows into the panel below: it moves down; side-by-side panels keep their place.
      const placed = M.g.placeItems([P(0, 0, 12, 8, {id: 'a'}), P(12, 0, 12, 8, {id: 'b'}), P(0, 4, 12, 8, {id: 'c'}),
                                     P(30, 20, 40, 0, {id: 'd'})]);
      return {h3: h3.map((x) => x.gridPos), h5: h5.map((x) => x.gridPos), v: v.map((x) => x.gridPos),
              none: none.map((x) => x.gridPos), placed: placed.map((x) => [x.id, x.gridPos]),
              px: [M.g.heightPx(1), M.g.heightPx(8)], style: M.g.gridStyle({x: 3, y: 2, w: 6, h: 5})};
    }""")
    assert got["h3"] == [{"x": 0, "y": 2, "w": 8, "h": 4}, {"x": 8, "y": 2, "w": 8, "h": 4}, {"x": 16, "y": 2, "w": 8, "h": 4}]
    assert got["h5"] == [{"x": 0, "y": 0, "w": 12, "h": 4}, {"x": 12, "y": 0, "w": 12, "h": 4}, {"x": 0, "y": 4, "w": 12, "h": 4}]
    assert got["v"] == [{"x": 4, "y": 1, "w": 10, "h": 3}, {"x": 4, "y": 4, "w": 10, "h": 3}]
    assert got["none"] == [{"x": 1, "y": 1, "w": 2, "h": 2}]
    assert got["placed"] == [["a", {"x": 0, "y": 0, "w": 12, "h": 8}], ["b", {"x": 12, "y": 0, "w": 12, "h": 8}],
                             ["c", {"x": 0, "y": 8, "w": 12, "h": 8}], ["d", {"x": 0, "y": 20, "w": 24, "h": 8}]]
    assert got["px"] == [30, 296]
    assert got["style"] == {"gridColumn": "4 / span 6", "gridRow": "3 / span 5"}


def test_field_config_thresholds_and_mappings(mods: Any) -> None:
    got = mods.evaluate("""() => {
      const fc = {defaults: {unit: 'bytes', decimals: 1, custom: {lineWidth: 1}},
        overrides: [{matcher: {id: 'byName', options: 'rx'}, properties: [{id: 'unit', value: 'bps'}, {id: 'custom.lineWidth', value: 3}]},
                    {matcher: {id: 'byRegexp', options: '/^tx/'}, properties: [{id: 'displayName', value: 'sent'}]},
                    {matcher: {id: 'byFrameRefID', options: 'B'}, properties: [{id: 'decimals', value: 0}]}]};
      const t = {mode: 'absolute', steps: [{color: 'green', value: null}, {color: 'red', value: 80}]};
      const pct = {mode: 'percentage', steps: [{color: 'green', value: null}, {color: '#123456', value: 50}]};
      const maps = [{type: 'value', options: {'1': {text: 'UP', color: 'green'}}},
                    {type: 'range', options: {from: 10, to: 20, result: {text: 'teen'}}},
                    {type: 'special', options: {match: 'null', result: {text: 'N/A'}}}];
      return [M.f.fieldConfig(fc, ['rx'], 'A'), M.f.fieldConfig(fc, ['tx0'], 'A').displayName, M.f.fieldConfig(fc, ['x'], 'B').decimals,
        M.f.thresholdColor(79, t), M.f.thresholdColor(80, t), M.f.thresholdColor(5, pct, 0, 10), M.f.thresholdColor(4, pct, 0, 10),
        M.f.mapValue(1, maps), M.f.mapValue(15, maps), M.f.mapValue(null, maps), M.f.mapValue(3, maps),
        M.f.displayName('${__field.labels.device} rx', 'x', {device: 'eth0'})];
    }""")
    assert got[0] == {"unit": "bps", "decimals": 1, "custom": {"lineWidth": 3}}
    assert got[1:3] == ["sent", 0]
    assert got[3:7] == ["#73BF69", "#F2495C", "#123456", "#73BF69"]
    assert got[7:11] == [{"text": "UP", "color": "green"}, {"text": "teen"}, {"text": "N/A"}, None]
    assert got[11] == "eth0 rx"


def test_table_merges_targets_and_organizes(mods: Any) -> None:
    got = mods.evaluate("""() => {
      const panel = {fieldConfig: {defaults: {}, overrides: [{matcher: {id: 'byName', options: 'Used'}, properties: [{id: 'unit', value: 'bytes'}]}]},
        transformations: [{id: 'merge', options: {}}, {id: 'organize', options: {excludeByName: {Time: true},
          indexByName: {ns: 0, 'Value #B': 1, 'Value #A': 2}, renameByName: {'Value #A': 'Used', 'Value #B': 'Pods'}}}]};
      const frames = [
        {target: {refId: 'A'}, series: [{metric: {ns: 'a'}, value: 5, time: 0}, {metric: {ns: 'b'}, value: 7, time: 0}]},
        {target: {refId: 'B'}, series: [{metric: {ns: 'a'}, value: 2, time: 0}]},
      ];
      const t = M.p.buildTable(panel, frames);
      return {cols: t.columns.map((c) => [c.key, c.name, c.cfg.unit ?? null]), rows: t.rows.map((r) => [r.ns, r['Value #A'], r['Value #B'] ?? null])};
    }""")
    assert got["cols"] == [["ns", "ns", "string"], ["Value #B", "Pods", None], ["Value #A", "Used", "bytes"]]
    assert got["rows"] == [["a", 5, 2], ["b", 7, None]]


def test_query_helpers(mods: Any) -> None:
    got = mods.evaluate("""() => [
      M.p.intervalMs('>30s'), M.p.intervalMs('1m'), M.p.intervalMs(''), M.p.intervalMs('$x'),
      M.p.isInstant('stat', {instant: true, range: false}), M.p.isInstant('timeseries', {instant: true, range: true}),
      M.p.isInstant('table', {instant: true, range: true}), M.p.isInstant('stat', {instant: false, range: true}),
      M.p.exploreHref(['up', 'rate(x[1m])'], 0, 3600e3),
      M.p.panelRange({timeFrom: '1h', timeShift: ''}, {start: 0, end: 6 * 3600e3}),
      M.p.panelRange({timeFrom: 'now-$w', timeShift: '1d'}, {start: 0, end: 6 * 3600e3}, {w: '2h'}),
      M.p.panelRange({timeFrom: '', timeShift: ''}, {start: 5, end: 10}),
      M.p.exploreHref(['up'], 0, 3600e3, {from: 'now-1h', to: 'now'}),
    ]""")
    assert got[12].startswith("/graph?from=now-1h&to=now&g0.expr=up&")
    assert got[9:12] == [{"start": 5 * 3600e3, "end": 6 * 3600e3}, {"start": 4 * 3600e3 - 86400e3, "end": 6 * 3600e3 - 86400e3},
                       {"start": 5, "end": 10}]
    assert got[:8] == [30000, 60000, 0, 0, True, False, True, False]
    assert got[8].startswith("/graph?g0.expr=up&g0.tab=0&g0.range_input=1h&")
    assert "g1.expr=rate%28x%5B1m%5D%29" in got[8]
