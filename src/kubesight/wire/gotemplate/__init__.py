"""Go's text/template, as Prometheus and Alertmanager templates use it.

Pure: parse and execute, no I/O. ``rules/`` expands alert labels and
annotations with it, ``notify/`` its notification templates; each passes its
own functions (Prometheus' ``humanize``..., Alertmanager's ``toUpper``...).

::

    t = Template.parse('{{ range $k, $v := . }}{{ $k }}={{ $v | printf "%q" }} {{ end }}',
                       name="labels")
    t.execute({"job": "node", "instance": "a:9100"})   # 'instance="a:9100" job="node" '

    base = Template.parse('{{ define "title" }}[{{ .Status }}] {{ .Name }}{{ end }}')
    base.new('{{ template "title" . }}').execute({"Status": "firing", "Name": "X"})

Data model: a ``Mapping`` is a Go map (``.key`` reads the key; a missing key
gives Go's "<no value>"), any other object a struct (``.Name`` reads the
attribute; a callable attribute is a method that takes the arguments),
``None`` is nil, ``bool``/``int``/``float``/``str`` are Go's bool, int,
float64 and string, and lists are slices. Values print as Go's fmt prints them
(``1e+06``, ``map[a:1]``, ``[x y]``).

Functions passed in ``funcs`` get the evaluated arguments as Python values
(the piped value last); what they raise becomes Go's ``error calling NAME: ...``.
They take precedence over the builtins, as in Go.

Errors (:class:`TemplateError`, a ``KubesightError``) are worded as Go's:
``template: NAME:LINE: ...`` at parse time and ``template: NAME:LINE:COL:
executing "NAME" at <node>: ...`` at execution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from kubesight.wire.gotemplate import _exec, _parse
from kubesight.wire.gotemplate._errors import (
    TemplateError,
    TemplateExecError,
    TemplateSyntaxError,
)
from kubesight.wire.gotemplate._exec import go_truth, html_escape, js_escape
from kubesight.wire.gotemplate._fmt import format_float, quote, sprint, sprintf, value_str

__all__ = [
    "Template",
    "TemplateError",
    "TemplateExecError",
    "TemplateSyntaxError",
    "format_float",
    "go_truth",
    "html_escape",
    "js_escape",
    "quote",
    "sprint",
    "sprintf",
    "value_str",
]

Func = Callable[..., Any]
_NO_FUNCS: Mapping[str, Func] = MappingProxyType({})
_MISSING_KEY = ("default", "invalid", "zero", "error")


class _Known:
    """The names the parser accepts as functions: builtins plus the given ones."""

    def __init__(self, funcs: Mapping[str, Func]) -> None:
        self.funcs = funcs

    def __contains__(self, name: object) -> bool:
        return name in self.funcs or name in _exec.BUILTINS


class Template:
    """A parsed template and the set of templates it can call (its defines).

    Immutable once made: :meth:`new` parses more text into a copy of the set.
    """

    def __init__(
        self,
        name: str,
        trees: Mapping[str, _parse.Tree],
        funcs: Mapping[str, Func],
        missing_key: str,
    ) -> None:
        self.name = name
        self._trees = dict(trees)
        self._funcs = funcs
        self._missing_key = missing_key

    @classmethod
    def parse(
        cls,
        text: str,
        name: str = "",
        funcs: Mapping[str, Func] = _NO_FUNCS,
        *,
        missing_key: str = "default",
    ) -> Template:
        """Parse ``text`` (and every ``define``/``block`` in it) as template ``name``.

        ``missing_key`` is Go's ``Option("missingkey=...")``: ``default`` (a missing
        map key prints ``<no value>``), ``zero`` (a map of strings gives ``""``)
        or ``error``. Raises :class:`TemplateSyntaxError`.
        """
        if missing_key not in _MISSING_KEY:
            raise ValueError(f"missing_key must be one of {', '.join(_MISSING_KEY)}, not {missing_key!r}")
        funcs = MappingProxyType(dict(funcs))
        trees = _parse.parse_trees(name, text, _Known(funcs))
        return cls(name, trees, funcs, "default" if missing_key == "invalid" else missing_key)

    def new(self, text: str, name: str = "") -> Template:
        """Go's ``t.Clone().New(name).Parse(text)``: more text parsed into a copy of this set."""
        trees = dict(self._trees)
        for tname, tree in _parse.parse_trees(name, text, _Known(self._funcs)).items():
            old = trees.get(tname)
            if old is not None and tree.is_empty() and not old.is_empty():
                continue
            trees[tname] = tree
        return Template(name, trees, self._funcs, self._missing_key)

    @property
    def templates(self) -> list[str]:
        """Names of every template in the set, sorted."""
        return sorted(self._trees)

    def lookup(self, name: str) -> bool:
        return name in self._trees

    def execute(self, data: Any) -> str:
        """Run the template on ``data``. Raises :class:`TemplateExecError`."""
        return self.execute_template(self.name, data)

    def execute_template(self, name: str, data: Any) -> str:
        tree = self._trees.get(name)
        if tree is None:
            raise TemplateError(f'template: no template "{name}" associated with template "{self.name}"')
        return _exec.State(self._trees, self._funcs, self._missing_key).run(tree, data)
