"""Any text either parses or fails with a TemplateError; execution fails only with TemplateError."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from kubesight.wire.gotemplate import Template, TemplateError

PIECES = ["{{", "}}", "{{-", "-}}", " ", "\n", ".", ".A", ".b.c", "$", "$x", ":=", "=", "|", "(", ")", ",",
          "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
          '"s"', '"\\x', "`r`", "'c'", "1", "-2.5e3", "0x1F", "nil", "true", "len", "index", "printf",
          '"%d %s %v %q %x %5.2f %!"', "print", "and", "or", "not", "eq", "lt", "html", "js", "urlquery",
          "slice", "call", "/*", "*/", "x", "é"]
DATA = {"A": [1, "two", 3.5, None, {"k": "v"}], "b": {"c": {"d": True}}, "s": "str", "n": 0}


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_parse_and_execute_never_crash(pieces: list[str]) -> None:
    text = "".join(pieces)
    try:
        t = Template.parse(text, "fuzz")
    except TemplateError:
        return
    try:
        out = t.execute(DATA)
    except TemplateError:
        return
    assert isinstance(out, str)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text(text: str) -> None:
    with contextlib.suppress(TemplateError):
        Template.parse(text, "fuzz").execute(DATA)
