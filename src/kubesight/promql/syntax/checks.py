"""checkAST of Prometheus' ``parse.go``: types, arity and matching, children before parents."""

from __future__ import annotations

from kubesight.promql.syntax.lexer import COMPARISONS, _go_quote
from kubesight.promql.syntax.literals import _matches_empty
from kubesight.promql.syntax.tables import DOCUMENTED, FUNCTIONS, TYPE_CODES, Node


class Checks:
    """Mixed into the locator: records errors in ``self.errors`` as parse.go adds them."""

    errors: list[tuple[int, str]]

    def err(self, pos: int, msg: str) -> None:
        self.errors.append((pos, msg))

    def expect(self, node: Node, want: str, context: str) -> None:
        got = self.check(node)
        if got != want:
            self.err(node.start, f"expected type {DOCUMENTED[want]} in {context}, got {DOCUMENTED[got]}")

    def check(self, n: Node) -> str:
        if n.kind == "paren":
            # A parenthesised binary expression has its type once checked.
            return self.check(n.children[0])
        if n.kind == "matrix":
            self.check(n.children[0])
        elif n.kind == "agg" and n.children:
            self.expect(n.children[-1], "vector", "aggregation expression")
            if n.op in ("topk", "bottomk", "quantile", "limitk", "limit_ratio"):
                self.expect(n.children[0], "scalar", "aggregation parameter")
            elif n.op == "count_values":
                self.expect(n.children[0], "string", "aggregation parameter")
        elif n.kind == "call" and n.name:
            self.check_call(n)
        elif n.kind == "unary":
            t = self.check(n.children[0])
            if t not in ("scalar", "vector"):
                self.err(n.start, "unary expression only allowed on expressions of type scalar "
                                  f"or instant vector, got {_go_quote(DOCUMENTED[t])}")
        elif n.kind == "subquery":
            t = self.check(n.children[0])
            if t != "vector":
                self.err(n.start, f"subquery is only allowed on instant vector, got {t} instead")
        elif n.kind == "vs":
            for label, _, value in n.matchers:
                if n.name and label == "__name__":
                    self.err(n.start, "metric name must not be set twice: "
                                      f"{_go_quote(n.name)} or {_go_quote(value)}")
            if not n.name and not n.bypass_empty_check and all(_matches_empty(m) for m in n.matchers):
                self.err(n.start, "vector selector must contain at least one non-empty matcher")
        elif n.kind == "binary":
            return self.check_binary(n)
        return n.typ

    def check_call(self, n: Node) -> None:
        types, variadic = FUNCTIONS[n.name]
        nargs, got = len(types), len(n.children)
        quoted = _go_quote(n.name)
        if variadic == 0:
            if nargs != got:
                self.err(n.start, f"expected {nargs} argument(s) in call to {quoted}, got {got}")
        elif nargs - 1 > got:
            self.err(n.start, f"expected at least {nargs - 1} argument(s) in call to {quoted}, got {got}")
        elif variadic > 0 and nargs - 1 + variadic < got:
            self.err(n.start, f"expected at most {nargs - 1 + variadic} argument(s) in call to {quoted}, got {got}")
        if n.name == "info" and got > 1:
            arg = n.children[1]
            typ = _static_type(arg)
            if typ != "vector":
                self.err(n.start, f"expected type instant vector in call to function {quoted}, "
                                  f"got {DOCUMENTED[typ]}")
            if arg.kind == "vs" and arg.name:
                self.err(arg.start, "expected label selectors only, got vector selector instead")
            elif arg.kind == "vs":
                arg.bypass_empty_check = True
            else:
                self.err(arg.start, "expected label selectors only")
        for i, arg in enumerate(n.children):
            if i >= nargs:
                if variadic == 0:
                    break
                i = nargs - 1
            self.expect(arg, TYPE_CODES[types[i]], f"call to function {quoted}")

    def check_binary(self, n: Node) -> str:
        lhs, rhs = n.children
        lt, rt = self.check(lhs), self.check(rhs)
        if n.bool_mod and n.op not in COMPARISONS:
            self.err(n.op_pos, "bool modifier can only be used on comparison operators")
        if n.op in COMPARISONS and not n.bool_mod and lt == rt == "scalar":
            self.err(n.op_pos, "comparisons between scalars must use BOOL modifier")
        if n.on:
            for label in n.labels:
                if label in n.include:
                    self.err(n.op_pos, f"label {_go_quote(label)} must not occur in ON and GROUP clause at once")
        if lt not in ("scalar", "vector"):
            self.err(lhs.start, "binary expression must contain only scalar and instant vector types")
        if rt not in ("scalar", "vector"):
            self.err(rhs.start, "binary expression must contain only scalar and instant vector types")
        op_word = {"LAND": "and", "LOR": "or", "LUNLESS": "unless"}.get(n.op, "")
        if lt != "vector" or rt != "vector":
            if n.labels:
                self.err(n.start, "vector matching only allowed between instant vectors")
        elif op_word and n.card != "one":
            self.err(n.start, f"no grouping allowed for {_go_quote(op_word)} operation")
            self.err(n.start, "set operations must always be many-to-many")
        if "scalar" in (lt, rt) and op_word:
            self.err(n.start, f"set operator {_go_quote(op_word)} not allowed in binary scalar expression")
        return "scalar" if lt == rt == "scalar" else "vector"


def _static_type(n: Node) -> str:
    """Expr.Type() of parse.go: what a node evaluates to, without checking it."""
    if n.kind in ("paren", "unary"):
        return _static_type(n.children[0])
    if n.kind == "binary":
        both = [_static_type(c) for c in n.children]
        return "scalar" if both == ["scalar", "scalar"] else "vector"
    return n.typ
