"""A recursive-descent reading of Prometheus' yacc grammar (``generated_parser.y``) that stops at its first error."""

from __future__ import annotations

from kubesight.promql.syntax.checks import Checks
from kubesight.promql.syntax.lexer import (
    AGGREGATORS,
    PARAM_AGGREGATORS,
    PRECEDENCE,
    Lexer,
    LexError,
    Tok,
    _go_quote,
    describe,
)
from kubesight.promql.syntax.literals import (
    _float_or_zero,
    _go_number_error,
    _is_label,
    _regex_error,
    _unquote,
)
from kubesight.promql.syntax.tables import (
    _DURATION_RE,
    EXPR_START,
    FILL_TOKENS,
    FUNCTIONS,
    LABEL_TYPES,
    MATCH_OPS,
    METRIC_IDENT_TYPES,
    SCALAR_FUNCTIONS,
    FirstError,
    Node,
)

_MAX_INT64 = 2**63 - 1


class Locator(Checks):
    def __init__(self, query: str) -> None:
        self.q = query
        self.lx = Lexer(query)
        self.tok: Tok | None = None
        self.errors: list[tuple[int, str]] = []
        self.contexts: list[str] = []

    # tokens
    def peek(self) -> Tok:
        if self.tok is None:
            try:
                self.tok = self.lx.next()
            except LexError as exc:
                self.errors.append((exc.pos, exc.msg))
                raise FirstError from exc
        return self.tok

    def take(self) -> Tok:
        t = self.peek()
        self.tok = None
        return t

    def unexpected(self, t: Tok, context: str = "", expected: str = "") -> FirstError:
        if not context and self.contexts:
            # yacc pops its stack to the nearest state with an error rule; the
            # only one that encloses whole sub-expressions is "aggregate_op error".
            context = self.contexts[-1]
        msg = f"unexpected {describe(t)}"
        if context:
            msg += f" in {context}"
        if expected:
            msg += f", expected {expected}"
        self.errors.append((t.pos, msg))
        return FirstError()

    # grammar
    def parse(self) -> None:
        try:
            if self.peek().typ == "EOF":
                self.err(0, "no expression found in input")
                return
            root = self.expr(0)
            t = self.peek()
            if t.typ != "EOF":
                raise self.unexpected(t)
        except FirstError:
            return
        if not self.errors:
            self.check(root)

    def expr(self, min_prec: int) -> Node:
        left = self.unary()
        while True:
            t = self.peek()
            if t.typ == "LEFT_BRACKET":
                left = self.range_or_subquery(left)
            elif t.typ == "OFFSET":
                self.offset(left)
            elif t.typ == "AT":
                self.at_modifier(left)
            elif t.typ in ("ANCHORED", "SMOOTHED"):
                self.take()
                # setAnchored/setSmoothed of parse.go, with the feature off (3.x's default).
                self.err(left.start, f"{t.val.lower()} modifier is experimental and not enabled")
            elif t.typ in PRECEDENCE and PRECEDENCE[t.typ] >= min_prec:
                self.take()
                node = Node("binary", left.start, "", op=t.typ, op_pos=t.pos)
                self.bin_modifiers(node)
                prec = PRECEDENCE[t.typ]
                # "^" is right-associative, every other operator left.
                right = self.expr(prec if t.typ == "POW" else prec + 1)
                node.children = [left, right]
                if node.fill:
                    # newBinaryExpression, with the feature off (3.x's default).
                    self.err(node.start, "binop fill modifiers are experimental and not enabled")
                left = node
            else:
                return left

    def bin_modifiers(self, node: Node) -> None:
        if self.peek().typ == "BOOL":
            self.take()
            node.bool_mod = True
        if self.peek().typ in ("ON", "IGNORING"):
            node.on = self.take().typ == "ON"
            node.has_matching = True
            node.labels = self.grouping()
            if self.peek().typ in ("GROUP_LEFT", "GROUP_RIGHT"):
                node.card = "many" if self.take().typ == "GROUP_LEFT" else "one_to_many"
                # The label list is optional, but a token that cannot start
                # the right-hand side is reported as a bad list.
                if self.peek().typ not in (EXPR_START - {"LEFT_PAREN"}) | FILL_TOKENS:
                    node.include = self.grouping()
        seen: set[str] = set()
        while self.peek().typ in FILL_TOKENS - seen and len(seen) < 2:
            # fill_modifiers: fill(v), or fill_left(v) and/or fill_right(v).
            kind = self.take().typ
            seen.add(kind)
            if kind == "FILL":
                seen |= FILL_TOKENS
            t = self.take()
            if t.typ != "LEFT_PAREN":
                raise self.unexpected(t)
            t = self.take()
            if t.typ in ("ADD", "SUB"):
                t = self.take()
            if t.typ not in ("NUMBER", "DURATION"):
                raise self.unexpected(t)
            t = self.take()
            if t.typ != "RIGHT_PAREN":
                raise self.unexpected(t)
            node.fill = True

    def unary(self) -> Node:
        t = self.peek()
        if t.typ in ("ADD", "SUB"):
            self.take()
            # %prec MUL: the operand takes only "^" (and the postfix modifiers).
            operand = self.expr(PRECEDENCE["POW"])
            if operand.kind == "number":
                operand.start = t.pos
                return operand
            return Node("unary", t.pos, operand.typ, [operand], op=t.typ)
        return self.primary()

    def primary(self) -> Node:
        t = self.take()
        if t.typ == "NUMBER":
            self.number(t)
            return Node("number", t.pos, "scalar")
        if t.typ == "STRING":
            return Node("string", t.pos, "string")
        if t.typ == "LEFT_PAREN":
            inner = self.expr(0)
            close = self.take()
            if close.typ != "RIGHT_PAREN":
                raise self.unexpected(close)
            return Node("paren", t.pos, inner.typ, [inner])
        if t.typ.lower() in AGGREGATORS and self.peek().typ in ("LEFT_PAREN", "BY", "WITHOUT"):
            # Otherwise the word is a metric name ("sum" alone selects a metric).
            return self.aggregation(t)
        if t.typ in ("IDENTIFIER", "START", "END") and self.peek().typ == "LEFT_PAREN":
            # start() and end() are functions too (3.x, experimental).
            return self.call(t)
        if t.typ in METRIC_IDENT_TYPES:
            node = Node("vs", t.pos, "vector", name=t.val)
            if self.peek().typ == "LEFT_BRACE":
                self.take()
                node.matchers = self.matchers()
            return node
        if t.typ == "LEFT_BRACE":
            return Node("vs", t.pos, "vector", matchers=self.matchers())
        raise self.unexpected(t)

    def matchers(self) -> list[tuple[str, str, str]]:
        out: list[tuple[str, str, str]] = []
        if self.peek().typ == "RIGHT_BRACE":
            self.take()
            return out
        while True:
            name = self.take()
            if name.typ != "IDENTIFIER":
                raise self.unexpected(name, "label matching", 'identifier or "}"')
            op = self.take()
            if op.typ not in MATCH_OPS:
                raise self.unexpected(op, "label matching", "label matching operator")
            val = self.take()
            if val.typ != "STRING":
                raise self.unexpected(val, "label matching", "string")
            value = _unquote(val.val)
            if op.typ in ("EQL_REGEX", "NEQ_REGEX"):
                problem = _regex_error(value)
                if problem is not None:
                    self.err(name.pos, problem)
            out.append((name.val, op.typ, value))
            t = self.take()
            if t.typ == "COMMA":
                if self.peek().typ == "RIGHT_BRACE":
                    self.take()
                    return out
                continue
            if t.typ == "RIGHT_BRACE":
                return out
            raise self.unexpected(t, "label matching", '"," or "}"')

    def grouping(self) -> list[str]:
        t = self.take()
        if t.typ != "LEFT_PAREN":
            raise self.unexpected(t, "grouping opts", '"("')
        out: list[str] = []
        if self.peek().typ == "RIGHT_PAREN":
            self.take()
            return out
        while True:
            label = self.take()
            if label.typ not in LABEL_TYPES:
                raise self.unexpected(label, "grouping opts", "label")
            if not _is_label(label.val):
                raise self.unexpected(label, "grouping opts", "label")
            out.append(label.val)
            t = self.take()
            if t.typ == "COMMA":
                if self.peek().typ == "RIGHT_PAREN":
                    self.take()
                    return out
                continue
            if t.typ == "RIGHT_PAREN":
                return out
            raise self.unexpected(t, "grouping opts", '"," or ")"')

    def args(self) -> list[Node]:
        """function_call_body: "(" args ")"; the "(" is the next token."""
        self.take()
        out: list[Node] = []
        if self.peek().typ == "RIGHT_PAREN":
            self.take()
            return out
        while True:
            out.append(self.expr(0))
            t = self.take()
            if t.typ == "RIGHT_PAREN":
                return out
            if t.typ != "COMMA":
                raise self.unexpected(t)
            if self.peek().typ == "RIGHT_PAREN":
                self.err(t.pos, "trailing commas not allowed in function call args")
                self.take()
                return out

    def aggregation(self, op: Tok) -> Node:
        self.contexts.append("aggregation")
        node = Node("agg", op.pos, "vector", op=op.typ.lower())
        t = self.peek()
        if t.typ in ("BY", "WITHOUT"):
            self.take()
            node.labels = self.grouping()
            if self.peek().typ != "LEFT_PAREN":
                raise self.unexpected(self.peek())
            args = self.args()
        elif t.typ == "LEFT_PAREN":
            args = self.args()
            if self.peek().typ in ("BY", "WITHOUT"):
                self.take()
                node.labels = self.grouping()
        else:
            raise self.unexpected(t, "aggregation")
        self.contexts.pop()
        if not args:
            self.err(op.pos, "no arguments for aggregate expression provided")
            return node
        want = 2 if node.op in PARAM_AGGREGATORS else 1
        if len(args) != want:
            self.err(op.pos, "wrong number of arguments for aggregate expression provided, "
                             f"expected {want}, got {len(args)}")
            return node
        node.children = args
        return node

    def call(self, name: Tok) -> Node:
        args = self.args()
        if name.val not in FUNCTIONS:
            self.err(name.pos, f"unknown function with name {_go_quote(name.val)}")
            return Node("call", name.pos, "vector", args, name="")
        typ = "scalar" if name.val in SCALAR_FUNCTIONS else "vector"
        return Node("call", name.pos, typ, args, name=name.val)

    def number(self, t: Tok) -> None:
        """parse.go's number(): strconv.ParseInt(base 0), then ParseFloat."""
        problem = _go_number_error(t.val)
        if problem:
            self.err(t.pos, f"error parsing number: strconv.ParseFloat: parsing {_go_quote(t.val)}: {problem}")

    def duration(self, t: Tok) -> float:
        """model.ParseDuration: units largest first, each at most once."""
        m = _DURATION_RE.match(t.val)
        if not m or not t.val:
            self.err(t.pos, f"not a valid duration string: {_go_quote(t.val)}")
            return 0.0
        scale_ms = (365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1)
        ms = sum(int(g) * k for g, k in zip(m.groups(), scale_ms, strict=True) if g)
        if ms * 1_000_000 > _MAX_INT64:
            # model.ParseDuration yields a time.Duration: nanoseconds in an int64.
            self.err(t.pos, "duration out of range")
            return 0.0
        return ms / 1000

    def number_duration(self, t: Tok, sign_pos: int | None = None) -> float:
        """A NUMBER where a duration goes: seconds, within durationLiteralOutOfRange."""
        self.number(t)
        value = _float_or_zero(t.val)
        if abs(value) > _MAX_INT64 / 1e9:
            self.err(t.pos if sign_pos is None else sign_pos, "duration out of range")
        return value

    def range_or_subquery(self, left: Node) -> Node:
        bracket = self.take()
        self.positive_duration("subquery or range selector", "number, duration, step(), or range()")
        t = self.take()
        if t.typ == "RIGHT_BRACKET":
            problem = ""
            if left.kind != "vs":
                problem = "ranges only allowed for vector selectors"
            elif left.offset:
                problem = "no offset modifiers allowed before range"
            elif left.at:
                problem = "no @ modifiers allowed before range"
            if problem:
                self.err(bracket.pos, problem)
            return Node("matrix", left.start, "matrix", [left])
        if t.typ != "COLON":
            raise self.unexpected(t, "subquery or range", '":" or "]"')
        if self.peek().typ != "RIGHT_BRACKET":
            self.positive_duration("subquery selector", 'number, duration, step(), range(), or "]"')
            t = self.take()
            if t.typ != "RIGHT_BRACKET":
                raise self.unexpected(t, "subquery selector", '"]"')
        else:
            self.take()
        return Node("subquery", left.start, "matrix", [left])

    def positive_duration(self, context: str, expected: str) -> None:
        """positive_duration_expr: a literal must be > 0; yacc reports any
        error inside the expression with the enclosing bracket's rule."""
        start = self.peek().pos
        value = self.duration_expr(context, expected, 0)
        if value is not None and value <= 0:
            self.err(start, "duration must be greater than 0")

    def duration_expr(self, context: str, expected: str, min_prec: int) -> float | None:
        """A duration expression; its value when it is a (signed) literal."""
        t = self.take()
        value: float | None
        if t.typ in ("ADD", "SUB"):
            inner = self.duration_expr(context, expected, PRECEDENCE["POW"])
            value = None if inner is None else (-inner if t.typ == "SUB" else inner)
        elif t.typ == "NUMBER":
            value = self.number_duration(t)
        elif t.typ == "DURATION":
            value = self.duration(t)
        elif t.typ in ("STEP", "RANGE", "MAX_OF", "MIN_OF", "LEFT_PAREN"):
            opening = t
            value = None
            if t.typ != "LEFT_PAREN":
                t = self.take()
                if t.typ != "LEFT_PAREN":
                    raise self.unexpected(t, context, expected)
            if t.val == "(" and self.peek().typ != "RIGHT_PAREN":
                self.duration_expr(context, expected, 0)
                while self.peek().typ == "COMMA":
                    self.take()
                    self.duration_expr(context, expected, 0)
            t = self.take()
            if t.typ != "RIGHT_PAREN":
                raise self.unexpected(t, context, expected)
            # Reported when the rule is reduced, after its closing ")".
            self.err(opening.pos, "experimental duration expression is not enabled")
            t = opening
        else:
            raise self.unexpected(t, context, expected)
        while True:
            op = self.peek()
            if op.typ not in ("ADD", "SUB", "MUL", "DIV", "MOD", "POW") or PRECEDENCE[op.typ] < min_prec:
                return value
            self.take()
            prec = PRECEDENCE[op.typ]
            self.duration_expr(context, expected, prec if op.typ == "POW" else prec + 1)
            # The rule is reduced, and its check run, once yacc has read the
            # token after the right operand.
            self.peek()
            if value is not None:
                self.err(t.pos, "experimental duration expression is not enabled")
            value = None

    def _modifiable(self, e: Node, what: str) -> Node | None:
        target = e
        if e.kind == "matrix":
            target = e.children[0]
        if e.kind not in ("vs", "matrix", "subquery"):
            self.err(e.start, f"{what} modifier must be preceded by an instant vector selector "
                              "or range vector selector or a subquery")
            return None
        return target

    def offset(self, e: Node) -> None:
        self.take()
        t = self.take()
        sign = t
        if t.typ in ("ADD", "SUB"):
            t = self.take()
        if t.typ == "DURATION":
            self.duration(t)
        elif t.typ == "NUMBER":
            self.number_duration(t, sign.pos if sign is not t else None)
        elif t.typ == "IDENTIFIER" and t.val.lower() in ("step", "range") and self.peek().typ == "LEFT_PAREN":
            # 3.x lexes step and range as keywords: offset step() is a duration expression.
            self.take()
            close = self.take()
            if close.typ != "RIGHT_PAREN":
                raise self.unexpected(close, "offset", "number, duration, step(), or range()")
            self.err(sign.pos, "experimental duration expression is not enabled")
        else:
            raise self.unexpected(t, "offset", "number, duration, step(), or range()")
        target = self._modifiable(e, "offset")
        if target is None:
            return
        if target.offset:
            self.err(e.start, "offset may not be set multiple times")
        target.offset = True

    def at_modifier(self, e: Node) -> None:
        self.take()
        t = self.take()
        sign = ""
        if t.typ in ("ADD", "SUB"):
            sign = t.val
            t = self.take()
            if t.typ != "NUMBER":
                raise self.unexpected(t, "@", "timestamp")
        if t.typ == "NUMBER":
            self.number(t)
            low = t.val.lower()
            value = _float_or_zero(t.val) * (-1 if sign == "-" else 1)
            if low in ("inf", "nan"):
                # Go's %f of ±Inf and NaN.
                shown = "NaN" if low == "nan" else ("-Inf" if sign == "-" else "+Inf")
                self.err(e.start, f"timestamp out of bounds for @ modifier: {shown}")
            elif abs(value) >= 9.223372036854775807e18:
                # setTimestamp: beyond int64 (the seconds, before they become milliseconds).
                self.err(e.start, f"timestamp out of bounds for @ modifier: {value:f}")
        elif t.typ in ("START", "END"):
            t = self.take()
            if t.typ != "LEFT_PAREN":
                raise self.unexpected(t, "@", "timestamp")
            t = self.take()
            if t.typ != "RIGHT_PAREN":
                raise self.unexpected(t, "@", "timestamp")
        else:
            raise self.unexpected(t, "@", "timestamp")
        target = self._modifiable(e, "@")
        if target is None:
            return
        if target.at:
            self.err(e.start, "@ <timestamp> may not be set multiple times")
        target.at = True
