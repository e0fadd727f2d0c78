"""Label matchers (``=``, ``!=``, ``=~``, ``!~``) with Prometheus semantics.

Regexes are fully anchored, as in Prometheus. A matcher that matches the empty
string also matches series that lack the label, because an absent label has
the value ``""``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from functools import cached_property

from kubesight.errors import ValidationError
from kubesight.model.labels import Labels, get_label
from kubesight.model.re2 import RegexError, compile_anchored


class MatchOp(enum.Enum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


@dataclass(frozen=True)
class Matcher:
    name: str
    op: MatchOp
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def of(name: str, op: str | MatchOp, value: str) -> Matcher:
        mop = op if isinstance(op, MatchOp) else MatchOp(op)
        rx = None
        if mop in (MatchOp.RE, MatchOp.NRE):
            try:
                rx = compile_anchored(value)
            except RegexError as exc:
                raise ValidationError(f"invalid regex {value!r} for label {name!r}: {exc}") from exc
        return Matcher(name, mop, value, rx)

    def matches(self, value: str) -> bool:
        """Whether a label value (``""`` for absent) is matched."""
        if self.op is MatchOp.EQ:
            return value == self.value
        if self.op is MatchOp.NE:
            return value != self.value
        assert self._regex is not None
        hit = self._regex.search(value) is not None
        return hit if self.op is MatchOp.RE else not hit

    def matches_labels(self, labels: Labels) -> bool:
        return self.matches(get_label(labels, self.name))

    @cached_property
    def matches_empty(self) -> bool:
        return self.matches("")

    @cached_property
    def literal_alternatives(self) -> tuple[str, ...] | None:
        """For ``=~"a|b|c"`` of plain literals, the alternatives (a fast path)."""
        if self.op is not MatchOp.RE or not self.value:
            return None
        parts = self.value.split("|")
        if all(p and re.escape(p) == p for p in parts):
            return tuple(parts)
        return None

    def __str__(self) -> str:
        v = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op.value}"{v}"'
