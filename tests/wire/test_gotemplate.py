"""kubesight's Go text/template engine against text Go gives (tests/rules/template_cases.py),
plus cases over data shapes Prometheus cannot express (lists, nested maps, objects)."""

from __future__ import annotations

from typing import Any

import pytest

from kubesight.wire.gotemplate import (
    Template,
    TemplateError,
    TemplateExecError,
    TemplateSyntaxError,
)
from tests.rules.template_cases import CASES, LABELS, VALUE

# What Prometheus puts before an alert's template (rules/alerting.go does the same).
PROMETHEUS_DEFS = (
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}"
)


def expand_like_prometheus(text: str) -> str:
    data = {"Labels": LABELS, "ExternalLabels": {}, "ExternalURL": "", "Value": VALUE}
    try:
        return Template.parse(PROMETHEUS_DEFS + text, "__alert_T", missing_key="zero").execute(data)
    except TemplateError as exc:
        return f"ERROR:{exc}"


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_as_go_does(text: str, expected: str) -> None:
    assert expand_like_prometheus(text) == expected


def run(text: str, data: Any = None, **kw: Any) -> str:
    return Template.parse(text, "t", **kw).execute(data)


class Obj:
    def __init__(self) -> None:
        self.Name = "obj"
        self.Items = [1, 2]

    def Greet(self, who: str) -> str:  # noqa: N802 - a Go method name
        return f"hello {who}"


class KV(dict[str, str]):
    def SortedPairs(self) -> list[tuple[str, str]]:  # noqa: N802 - a Go method name
        return sorted(self.items())


DATA_CASES: list[tuple[str, Any, str]] = [
    ("{{ range $i, $e := .l }}{{ $i }}:{{ $e }} {{ end }}", {"l": ["a", "b"]}, "0:a 1:b "),
    ("{{ range .l }}{{ . }}{{ else }}empty{{ end }}", {"l": []}, "empty"),
    ("{{ range .missing }}x{{ else }}none{{ end }}", {}, "none"),
    ("{{ .a.b.c }}", {"a": {"b": {"c": 7}}}, "7"),
    ("{{ .a.b.c }}", {"a": {}}, "<no value>"),
    ("{{ .l }} {{ .m }}", {"l": [1, "x", 2.5], "m": {"b": 1, "a": [True]}}, "[1 x 2.5] map[a:[true] b:1]"),
    ("{{ index .l 1 0 }}", {"l": [[1], [2, 3]]}, "2"),
    ("{{ (index .l 1).x }}", {"l": [0, {"x": "y"}]}, "y"),
    ("{{ .Name }} {{ .Greet \"you\" }} {{ len .Items }}", Obj(), "obj hello you 2"),
    ("{{ range .SortedPairs }}{{ index . 0 }}={{ index . 1 }},{{ end }}", KV(b="2", a="1"), "a=1,b=2,"),
    ("{{ .keys }}", {"keys": "a dict key, not the method"}, "a dict key, not the method"),
    ("{{ . }}", None, "<no value>"),
    ("{{ if .x }}t{{ else }}f{{ end }}", {"x": [0]}, "t"),
    ("{{ if .x }}t{{ else }}f{{ end }}", {"x": {}}, "f"),
    ("{{ with .x }}{{ .y }}{{ end }}", {"x": {"y": "inner"}}, "inner"),
    ("{{ call .f 2 }}", {"f": lambda x: x * 21}, "42"),
    ("{{ eq .a .b }}", {"a": None, "b": None}, "true"),
    ("{{ eq .a \"x\" }}", {"a": None}, "false"),
    ("{{ slice .l 1 }}", {"l": [1, 2, 3]}, "[2 3]"),
    ("{{ range $i, $c := .s }}{{ $c }}{{ end }}", {"s": {"2": "b", "1": "a"}}, "ab"),
    ("{{ range 3 }}{{ . }}{{ end }}", None, "012"),
    ("{{ printf \"%v|%s|%d\" .l .l .l }}", {"l": [1, 2]}, "[1 2]|[%!s(int=1) %!s(int=2)]|[1 2]"),
    ("{{ printf \"%v\" nil }}", None, "<nil>"),
    ("{{ printf \"%.2f %v %v\" .inf .inf .nan }}", {"inf": float("inf"), "nan": float("nan")}, "+Inf +Inf NaN"),
]


@pytest.mark.parametrize(("text", "data", "expected"), DATA_CASES, ids=[c[0][:40] for c in DATA_CASES])
def test_data_shapes(text: str, data: Any, expected: str) -> None:
    assert run(text, data) == expected


def test_missing_key_options() -> None:
    assert run("[{{ .x }}]", {"a": "b"}) == "[<no value>]"
    assert run("[{{ .x }}]", {"a": "b"}, missing_key="zero") == "[]"
    assert run("[{{ .x }}]", {"a": 1}, missing_key="zero") == "[<no value>]"
    with pytest.raises(TemplateExecError, match='map has no entry for key "x"'):
        run("{{ .x }}", {}, missing_key="error")


def test_funcs_are_pluggable_and_checked() -> None:
    funcs = {"double": lambda x: x * 2, "fail": lambda: 1 / 0}
    assert Template.parse("{{ 4 | double }}", "t", funcs).execute(None) == "8"
    with pytest.raises(TemplateExecError, match=r"wrong number of args for double: want 1 got 2"):
        Template.parse("{{ double 1 2 }}", "t", funcs).execute(None)
    with pytest.raises(TemplateExecError, match=r'executing "t" at <fail>: error calling fail: division by zero'):
        Template.parse("{{ fail }}", "t", funcs).execute(None)
    with pytest.raises(TemplateSyntaxError, match='function "double" not defined'):
        Template.parse("{{ double 1 }}", "t")
    # user functions take precedence over builtins, as in Go
    assert Template.parse('{{ len "x" }}', "t", {"len": lambda s: "mine"}).execute(None) == "mine"


def test_template_sets() -> None:
    base = Template.parse('{{ define "title" }}[{{ .Status }}] {{ .Name }}{{ end }}', "base")
    t = base.new('{{ template "title" . }}!', "msg")
    assert t.execute({"Status": "firing", "Name": "X"}) == "[firing] X!"
    assert t.templates == ["base", "msg", "title"]
    assert base.execute_template("title", {"Status": "s", "Name": "n"}) == "[s] n"
    # redefining in a copy leaves the original alone; an empty redefinition is ignored
    t2 = base.new('{{ define "title" }}new{{ end }}{{ define "title" }} {{ end }}{{ template "title" }}')
    assert t2.execute(None) == "new"
    assert base.execute_template("title", {"Status": "s", "Name": "n"}) == "[s] n"
    with pytest.raises(TemplateError, match='no template "nope"'):
        base.execute_template("nope", None)


def test_recursion_is_bounded() -> None:
    t = Template.parse('{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}', "t")
    with pytest.raises(TemplateExecError, match="exceeded maximum template depth"):
        t.execute(None)


def test_errors_name_line_and_column() -> None:
    with pytest.raises(TemplateExecError) as info:
        Template.parse("line one\n  {{ .a.b }}", "mytmpl").execute({"a": 5})
    assert str(info.value) == (
        'template: mytmpl:2:7: executing "mytmpl" at <.a.b>: can\'t evaluate field b in type int'
    )
    assert (info.value.line, info.value.col) == (2, 7)  # Go points at the last field
    with pytest.raises(TemplateSyntaxError) as sinfo:
        Template.parse("a\nb\n{{ if .x }}", "f")
    assert str(sinfo.value) == "template: f:3: unexpected EOF"
