"""Template errors, worded and positioned as Go's text/template reports them.

::

    TemplateError (a KubesightError)
    ├── TemplateSyntaxError   ``template: NAME:LINE: message`` (parse time)
    └── TemplateExecError     ``template: NAME:LINE:COL: executing "NAME" at <node>: message``
"""

from __future__ import annotations

from kubesight.errors import KubesightError


class TemplateError(KubesightError):
    """A template could not be parsed or executed."""


class TemplateSyntaxError(TemplateError):
    def __init__(self, name: str, line: int, message: str) -> None:
        super().__init__(f"template: {name}:{line}: {message}")
        self.name = name
        self.line = line
        self.message = message


class TemplateExecError(TemplateError):
    def __init__(self, name: str, line: int, col: int, context: str, message: str, tmpl: str) -> None:
        super().__init__(f"template: {name}:{line}:{col}: executing {_quote(tmpl)} at <{context}>: {message}")
        self.name = name
        self.line = line
        self.col = col
        self.message = message


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
