"""Prometheus' position-bearing syntax errors for queries promql-parser rejects.

promql-parser says *what* is wrong ("unclosed left parenthesis") but not
*where*, and sometimes only "invalid promql query". Prometheus answers
``1:16: parse error: unclosed left parenthesis``. This module re-reads a
rejected query with a lexer that follows Prometheus' ``promql/parser/lex.go``
and a recursive-descent locator that follows its yacc grammar
(``generated_parser.y``) and checks (``parse.go``): it finds the *first*
error Prometheus would report and words it as Prometheus does.

It never evaluates and never decides whether a query is valid: it runs only
after promql-parser has refused one. Where it cannot tell, it keeps
promql-parser's wording and only adds a position it can justify (end of
input for "end of input"/"unclosed" errors), or none.

Pure: a string in, a message out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["locate"]

# --- lexer (lex.go) ---------------------------------------------------------

OPERATORS = {
    "+": "ADD", "-": "SUB", "*": "MUL", "/": "DIV", "%": "MOD", "^": "POW",
    "==": "EQLC", "!=": "NEQ", "<": "LSS", "<=": "LTE", ">": "GTR", ">=": "GTE",
    "=~": "EQL_REGEX", "!~": "NEQ_REGEX", "@": "AT",
}
AGGREGATORS = frozenset(
    {"sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk",
     "bottomk", "count_values", "quantile", "limitk", "limit_ratio"}
)
PARAM_AGGREGATORS = frozenset({"topk", "bottomk", "count_values", "quantile", "limitk", "limit_ratio"})
KEYWORDS = frozenset({"offset", "by", "without", "on", "ignoring", "group_left", "group_right", "bool"})
WORD_OPERATORS = {"and": "LAND", "or": "LOR", "unless": "LUNLESS", "atan2": "ATAN2"}
PREPROCESSORS = frozenset({"start", "end"})
DURATION_KEYWORDS = frozenset({"step", "range", "max_of", "min_of"})
# Bracket tokens are described by their quoted text (ItemTypeStr in lex.go).
PUNCT = {"(": "LEFT_PAREN", ")": "RIGHT_PAREN", "{": "LEFT_BRACE", "}": "RIGHT_BRACE",
         "[": "LEFT_BRACKET", "]": "RIGHT_BRACKET", ",": "COMMA", "=": "EQL", ":": "COLON"}

# Binary operator precedence, lowest first (the %left/%right lines of the grammar).
PRECEDENCE = {"LOR": 1, "LAND": 2, "LUNLESS": 2, "EQLC": 3, "NEQ": 3, "LSS": 3, "LTE": 3,
              "GTR": 3, "GTE": 3, "ADD": 4, "SUB": 4, "MUL": 5, "DIV": 5, "MOD": 5,
              "ATAN2": 5, "POW": 6}
COMPARISONS = frozenset({"EQLC", "NEQ", "LSS", "LTE", "GTR", "GTE"})
SET_OPS = frozenset({"LAND", "LOR", "LUNLESS"})


@dataclass(frozen=True)
class Tok:
    typ: str
    pos: int
    val: str


class LexError(Exception):
    def __init__(self, pos: int, msg: str) -> None:
        super().__init__(msg)
        self.pos = pos
        self.msg = msg


def _is_alpha(c: str) -> bool:
    return c == "_" or ("a" <= c <= "z") or ("A" <= c <= "Z")


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _is_alnum(c: str) -> bool:
    return _is_alpha(c) or _is_digit(c)


def _go_quote(s: str) -> str:
    """Go's %q for the ASCII text a query's tokens consist of."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _go_rune_quote(ch: str) -> str:
    """Go's %q for a rune; "" is lex.go's eof (-1), which Go prints as U+FFFD."""
    if ch == "":
        return "'\ufffd'"
    if ch == "'":
        return "'\\''"
    if ch == "\\":
        return "'\\\\'"
    if ch == "\n":
        return "'\\n'"
    if ch == "\t":
        return "'\\t'"
    if ord(ch) < 0x20:
        return f"'\\x{ord(ch):02x}'"
    return f"'{ch}'"


def _go_rune_u(ch: str) -> str:
    """Go's %#U (``U+0071 'q'``)."""
    return f"U+{ord(ch):04X} '{ch}'" if ch.isprintable() else f"U+{ord(ch):04X}"


class Lexer:
    """Prometheus' state machine, as far as its tokens and errors go."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.paren = 0
        self.brace = False
        self.bracket = False
        self.colon = False
        self.dexpr = False  # lexDurationExpr: straight after "[", until a number
        self.got_duration = False

    def _peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def _accept(self, chars: str) -> bool:
        c = self._peek()
        if c and c in chars:
            self.i += 1
            return True
        return False

    def _scan_number(self) -> bool:
        digits = "0123456789"
        if self._peek() == "0" and self._peek(1) in ("x", "X") and self._peek(1):
            self.i += 2
            digits = "0123456789abcdefABCDEF"
        while self._accept(digits):
            pass
        if self._accept("."):
            while self._accept(digits):
                pass
        if self._accept("eE"):
            self._accept("+-")
            while self._accept("0123456789"):
                pass
        return not _is_alnum(self._peek())

    def _remaining_duration(self) -> bool:
        if not self._accept("smhdwy"):
            return False
        self._accept("s")
        while self._accept("0123456789"):
            while self._accept("0123456789"):
                pass
            if not self._accept("smhdw"):
                return False
            self._accept("s")
        # lex.go consumes the next rune to test it and backs up on success.
        c = self._peek()
        self.i += 1 if c else 0
        if _is_alnum(c):
            return False
        self.i -= 1 if c else 0
        return True

    def _string(self, start: int, quote: str) -> Tok:
        i = start + 1
        s = self.s
        while True:
            c = s[i] if i < len(s) else ""
            i += 1
            if quote == "`":
                if c == "":
                    raise LexError(start, "unterminated raw string")
                if c == "`":
                    break
                continue
            if c == "\\":
                i = self._escape(start, i, quote)
            elif c in ("", "\n"):
                raise LexError(start, "unterminated quoted string")
            elif c == quote:
                break
        self.i = i
        return Tok("STRING", start, s[start:i])

    def _escape(self, start: int, i: int, quote: str) -> int:
        s = self.s
        ch = s[i] if i < len(s) else ""
        i += 1
        if ch != "" and ch in "abfnrtv\\" + quote:
            return i
        if ch == "":
            raise LexError(start, "escape sequence not terminated")
        if ch in "01234567":
            n, base, top = 3, 8, 255
        elif ch in "xuU":
            n, base, top = {"x": (2, 16, 255), "u": (4, 16, 0x10FFFF), "U": (8, 16, 0x10FFFF)}[ch]
            ch = s[i] if i < len(s) else ""
            i += 1
        else:
            raise LexError(start, f"unknown escape sequence {_go_rune_u(ch)}")
        x = 0
        while n > 0:
            d = int(ch, 16) if ch and ch in "0123456789abcdefABCDEF" else 16
            if d >= base:
                if ch == "":
                    raise LexError(start, "escape sequence not terminated")
                raise LexError(start, f"illegal character {_go_rune_u(ch)} in escape sequence")
            x = x * base + d
            n -= 1
            if n > 0:
                ch = s[i] if i < len(s) else ""
                i += 1
        if x > top or 0xD800 <= x < 0xE000:
            raise LexError(start, "escape sequence is an invalid Unicode code point")
        return i

    def next(self) -> Tok:
        s = self.s
        if self.dexpr:
            return self._duration_expr()
        while True:
            if s.startswith("#", self.i):
                while self.i < len(s) and s[self.i] not in "\r\n":
                    self.i += 1
                continue
            if self._peek() in (" ", "\t", "\n", "\r") and self._peek():
                self.i += 1
                continue
            break
        start = self.i
        c = self._peek()
        if self.brace:
            return self._inside_braces(start, c)
        if c == "":
            if self.paren:
                raise LexError(start, "unclosed left parenthesis")
            if self.bracket:
                raise LexError(start, "unclosed left bracket")
            return Tok("EOF", start, "")
        self.i += 1
        two = s[start:start + 2]
        if c in "*/%+-^,@":
            return Tok(PUNCT.get(c) or OPERATORS[c], start, c)
        if c == "=":
            if two == "==":
                self.i += 1
                return Tok("EQLC", start, two)
            if two == "=~":
                raise LexError(start, "unexpected character after '=': '~'")
            return Tok("EQL", start, c)
        if c == "!":
            if two == "!=":
                self.i += 1
                return Tok("NEQ", start, two)
            nxt = s[start + 1:start + 2]
            self.i += 1 if nxt else 0
            raise LexError(start, f"unexpected character after '!': {_go_rune_quote(nxt)}")
        if c in "<>":
            if two in ("<=", ">="):
                self.i += 1
                return Tok(OPERATORS[two], start, two)
            return Tok(OPERATORS[c], start, c)
        if _is_digit(c) or (c == "." and _is_digit(self._peek())):
            self.i = start
            if self._scan_number():
                return Tok("NUMBER", start, s[start:self.i])
            if self._remaining_duration():
                return Tok("DURATION", start, s[start:self.i])
            raise LexError(start, f"bad number or duration syntax: {_go_quote(s[start:self.i])}")
        if c in "\"'`":
            return self._string(start, c)
        if _is_alpha(c) or c == ":":
            if not self.bracket:
                while _is_alnum(self._peek()) or self._peek() == ":":
                    self.i += 1
                word = s[start:self.i]
                low = word.lower()
                if low in ("inf", "nan"):
                    return Tok("NUMBER", start, word)
                if low in WORD_OPERATORS:
                    return Tok(WORD_OPERATORS[low], start, word)
                if low in AGGREGATORS or low in KEYWORDS or low in PREPROCESSORS:
                    return Tok(low.upper(), start, word)
                return Tok("METRIC_IDENTIFIER" if ":" in word else "IDENTIFIER", start, word)
            if c == ":":
                if self.colon:
                    raise LexError(start, "unexpected colon ':'")
                self.colon = True
                return Tok("COLON", start, c)
            keyword = self._duration_keyword(start)
            if keyword is not None:
                return keyword
            raise LexError(start, f"unexpected character: {_go_rune_quote(c)}, expected ':'")
        if c == "(":
            self.paren += 1
            return Tok("LEFT_PAREN", start, c)
        if c == ")":
            self.paren -= 1
            if self.paren < 0:
                # lex.go emits the token first, so the error sits just after it.
                raise LexError(start + 1, "unexpected right parenthesis ')'")
            return Tok("RIGHT_PAREN", start, c)
        if c == "{":
            self.brace = True
            return Tok("LEFT_BRACE", start, c)
        if c == "[":
            if self.bracket:
                raise LexError(start, "unexpected left bracket '['")
            self.colon = False
            self.bracket = True
            self.dexpr = True
            return Tok("LEFT_BRACKET", start, c)
        if c == "]":
            if not self.bracket:
                raise LexError(start, "unexpected right bracket ']'")
            self.bracket = False
            return Tok("RIGHT_BRACKET", start, c)
        raise LexError(start, f"unexpected character: {_go_rune_quote(c)}")

    def _duration_keyword(self, start: int) -> Tok | None:
        """scanDurationKeyword: step, range, max_of, min_of inside brackets."""
        if self.s[start].lower() not in "srm":
            return None
        self.i = start
        while _is_alpha(self._peek()):
            self.i += 1
        word = self.s[start:self.i].lower()
        if word in DURATION_KEYWORDS:
            return Tok(word.upper(), start, self.s[start:self.i])
        return None

    def _duration_expr(self) -> Tok:
        """lexDurationExpr of 3.x: what may follow "[" before the first number."""
        while self._peek() in (" ", "\t", "\n", "\r") and self._peek():
            self.i += 1
        start = self.i
        c = self._peek()
        if c == "":
            raise LexError(start, "unexpected end of input in duration expression")
        self.i += 1
        if c == "]":
            self.bracket = self.colon = self.dexpr = False
            return Tok("RIGHT_BRACKET", start, c)
        if c == ":":
            # lex.go emits the colon first, so these errors sit just after it.
            if not self.got_duration:
                raise LexError(start + 1, "unexpected colon before duration in duration expression")
            if self.colon:
                raise LexError(start + 1, "unexpected repeated colon in duration expression")
            self.colon = True
            return Tok("COLON", start, c)
        if c == "(":
            self.paren += 1
            return Tok("LEFT_PAREN", start, c)
        if c == ")":
            self.paren -= 1
            if self.paren < 0:
                raise LexError(start + 1, "unexpected right parenthesis ')'")
            return Tok("RIGHT_PAREN", start, c)
        if c in "+-*/%^,":
            return Tok(PUNCT.get(c) or OPERATORS[c], start, c)
        if _is_alpha(c):
            keyword = self._duration_keyword(start)
            if keyword is not None:
                return keyword
        elif _is_digit(c) or (c == "." and _is_digit(self._peek())):
            self.got_duration = True
            self.dexpr = False
            self.i = start
            if self._scan_number():
                return Tok("NUMBER", start, self.s[start:self.i])
            if self._remaining_duration():
                return Tok("DURATION", start, self.s[start:self.i])
            raise LexError(start, f"bad number or duration syntax: {_go_quote(self.s[start:self.i])}")
        raise LexError(start, f"unexpected character in duration expression: {_go_rune_quote(c)}")

    def _inside_braces(self, start: int, c: str) -> Tok:
        s = self.s
        if c == "":
            raise LexError(start, "unexpected end of input inside braces")
        self.i += 1
        if _is_alpha(c):
            while _is_alnum(self._peek()):
                self.i += 1
            return Tok("IDENTIFIER", start, s[start:self.i])
        if c == ",":
            return Tok("COMMA", start, c)
        if c in "\"'`":
            return self._string(start, c)
        if c == "=":
            if self._peek() == "~":
                self.i += 1
                return Tok("EQL_REGEX", start, "=~")
            return Tok("EQL", start, c)
        if c == "!":
            nr = self._peek()
            if nr in ("~", "=") and nr:
                self.i += 1
                return Tok("NEQ_REGEX" if nr == "~" else "NEQ", start, "!" + nr)
            raise LexError(start, f"unexpected character after '!' inside braces: {_go_rune_quote(nr)}")
        if c == "{":
            raise LexError(start, "unexpected left brace '{'")
        if c == "}":
            self.brace = False
            return Tok("RIGHT_BRACE", start, c)
        raise LexError(start, f"unexpected character inside braces: {_go_rune_quote(c)}")


def describe(t: Tok) -> str:
    """Item.desc() of lex.go: how an unexpected token is named."""
    if t.typ == "EOF":
        return "end of input"
    if t.typ in ("IDENTIFIER", "METRIC_IDENTIFIER"):
        kind = "identifier" if t.typ == "IDENTIFIER" else "metric identifier"
        return f"{kind} {_go_quote(t.val)}"
    if t.typ in OPERATORS.values() or t.typ in WORD_OPERATORS.values():
        # 3.x lists "@" in ItemTypeStr; 2.42 did not and printed
        # `"<Item 57385>" <op:@>`.
        return f"<op:{t.val}>"
    if t.typ.lower() in AGGREGATORS:
        return f"<aggr:{t.val}>"
    if t.typ.lower() in KEYWORDS:
        return f"<{t.val}>"
    # Punctuation, preprocessors (start, end, step...) and literals print
    # their quoted text, Go's %.10q... past ten characters.
    text = _go_quote(t.val) if len(t.val) <= 10 else _go_quote(t.val[:10]) + "..."
    kind = {"NUMBER": "number ", "STRING": "string ", "DURATION": "duration "}.get(t.typ, "")
    return kind + text


# --- locator (generated_parser.y and parse.go) -------------------------------

# Function signatures of Prometheus 3.x (promql/parser/functions.go): argument
# types (v instant vector, m range vector, s scalar, t string) and Variadic.
FUNCTIONS: dict[str, tuple[str, int]] = {
    "abs": ("v", 0), "absent": ("v", 0), "absent_over_time": ("m", 0), "acos": ("v", 0),
    "acosh": ("v", 0), "asin": ("v", 0), "asinh": ("v", 0), "atan": ("v", 0),
    "atanh": ("v", 0), "avg_over_time": ("m", 0), "ceil": ("v", 0), "changes": ("m", 0),
    "clamp": ("vss", 0), "clamp_max": ("vs", 0), "clamp_min": ("vs", 0), "cos": ("v", 0),
    "cosh": ("v", 0), "count_over_time": ("m", 0), "days_in_month": ("v", 1),
    "day_of_month": ("v", 1), "day_of_week": ("v", 1), "day_of_year": ("v", 1),
    "deg": ("v", 0), "delta": ("m", 0), "deriv": ("m", 0), "exp": ("v", 0),
    "first_over_time": ("m", 0), "floor": ("v", 0), "histogram_avg": ("v", 0),
    "histogram_count": ("v", 0), "histogram_sum": ("v", 0), "histogram_stddev": ("v", 0),
    "histogram_stdvar": ("v", 0), "histogram_fraction": ("ssv", 0),
    "histogram_quantile": ("sv", 0), "double_exponential_smoothing": ("mss", 0),
    "hour": ("v", 1), "idelta": ("m", 0), "increase": ("m", 0), "info": ("vv", 1),
    "irate": ("m", 0), "label_replace": ("vtttt", 0), "label_join": ("vttt", -1),
    "last_over_time": ("m", 0), "ln": ("v", 0), "log10": ("v", 0), "log2": ("v", 0),
    "mad_over_time": ("m", 0), "max_over_time": ("m", 0), "min_over_time": ("m", 0),
    "ts_of_first_over_time": ("m", 0), "ts_of_max_over_time": ("m", 0),
    "ts_of_min_over_time": ("m", 0), "ts_of_last_over_time": ("m", 0),
    "minute": ("v", 1), "month": ("v", 1), "pi": ("", 0), "predict_linear": ("ms", 0),
    "present_over_time": ("m", 0), "quantile_over_time": ("sm", 0), "rad": ("v", 0),
    "rate": ("m", 0), "resets": ("m", 0), "round": ("vs", 1), "scalar": ("v", 0),
    "sgn": ("v", 0), "sin": ("v", 0), "sinh": ("v", 0), "sort": ("v", 0),
    "sort_desc": ("v", 0), "sort_by_label": ("vt", -1), "sort_by_label_desc": ("vt", -1),
    "sqrt": ("v", 0), "stddev_over_time": ("m", 0), "stdvar_over_time": ("m", 0),
    "sum_over_time": ("m", 0), "tan": ("v", 0), "tanh": ("v", 0), "time": ("", 0),
    "timestamp": ("v", 0), "vector": ("s", 0), "year": ("v", 1),
}
SCALAR_FUNCTIONS = frozenset({"scalar", "time", "pi"})
TYPE_CODES = {"v": "vector", "m": "matrix", "s": "scalar", "t": "string"}
# DocumentedType() of parse.go.
DOCUMENTED = {"vector": "instant vector", "matrix": "range vector", "scalar": "scalar", "string": "string"}

METRIC_IDENT_TYPES = frozenset(
    {"AVG", "BOTTOMK", "BY", "COUNT", "COUNT_VALUES", "GROUP", "IDENTIFIER", "LAND", "LOR",
     "LUNLESS", "MAX", "METRIC_IDENTIFIER", "MIN", "OFFSET", "QUANTILE", "STDDEV", "STDVAR",
     "SUM", "TOPK", "WITHOUT", "START", "END", "LIMITK", "LIMIT_RATIO"}
)
LABEL_TYPES = METRIC_IDENT_TYPES | {"BOOL", "GROUP_LEFT", "GROUP_RIGHT", "IGNORING", "ON", "ATAN2"}
EXPR_START = METRIC_IDENT_TYPES | {"NUMBER", "STRING", "LEFT_PAREN", "LEFT_BRACE", "ADD", "SUB"}
MATCH_OPS = frozenset({"EQL", "NEQ", "EQL_REGEX", "NEQ_REGEX"})
_DURATION_RE = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")


@dataclass
class Node:
    kind: str  # vs matrix subquery call agg binary unary paren number string
    start: int
    typ: str
    children: list[Node] = field(default_factory=list)
    name: str = ""
    offset: bool = False
    at: bool = False
    matchers: list[tuple[str, str, str]] = field(default_factory=list)
    op: str = ""
    op_pos: int = 0
    bool_mod: bool = False
    card: str = "one"
    on: bool = False
    labels: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=list)
    has_matching: bool = False


class FirstError(Exception):
    """The parser stops at its first syntax error, as yacc's error recovery
    only ever adds errors after the first one."""


class Locator:
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

    def err(self, pos: int, msg: str) -> None:
        self.errors.append((pos, msg))

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
            elif t.typ in PRECEDENCE and PRECEDENCE[t.typ] >= min_prec:
                self.take()
                node = Node("binary", left.start, "", op=t.typ, op_pos=t.pos)
                self.bin_modifiers(node)
                prec = PRECEDENCE[t.typ]
                # "^" is right-associative, every other operator left.
                right = self.expr(prec if t.typ == "POW" else prec + 1)
                node.children = [left, right]
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
                if self.peek().typ not in EXPR_START - {"LEFT_PAREN"}:
                    node.include = self.grouping()

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
        if t.typ == "IDENTIFIER" and self.peek().typ == "LEFT_PAREN":
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
        scale = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
        return float(sum(int(g) * k for g, k in zip(m.groups(), scale, strict=True) if g))

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
            self.number(t)
            value = _float_or_zero(t.val)
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
        if t.typ in ("ADD", "SUB"):
            t = self.take()
        if t.typ == "DURATION":
            self.duration(t)
        elif t.typ == "NUMBER":
            self.number(t)
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
            if low in ("inf", "nan"):
                # Go's %f of ±Inf and NaN.
                shown = "NaN" if low == "nan" else ("-Inf" if sign == "-" else "+Inf")
                self.err(e.start, f"timestamp out of bounds for @ modifier: {shown}")
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

    # checkAST of parse.go: types, arity, matching; children before parents
    def expect(self, node: Node, want: str, context: str) -> None:
        got = self.check(node)
        if got != want:
            self.err(node.start, f"expected type {DOCUMENTED[want]} in {context}, got {DOCUMENTED[got]}")

    def check(self, n: Node) -> str:
        if n.kind in ("paren", "matrix"):
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
            if not n.name and all(_matches_empty(m) for m in n.matchers):
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


def _go_number_error(val: str) -> str:
    """Why Go's ParseInt(val, 0, 64) and ParseFloat(val, 64) both refuse a
    NUMBER token, or "" when one accepts it."""
    low = val.lower()
    digits = low.replace("_", "")
    try:
        int(digits, 16 if digits.startswith("0x") else 10)
        if digits.startswith("0x") and len(digits) > 2:
            return ""
        if not digits.startswith("0x"):
            return ""
    except ValueError:
        pass
    if low.startswith("0x"):
        # A hexadecimal float needs a "p" exponent, which the lexer never takes.
        return "invalid syntax"
    try:
        f = float(val)
    except ValueError:
        return "invalid syntax"
    if f in (float("inf"), float("-inf")) and low not in ("inf", "+inf", "-inf", "infinity"):
        return "value out of range"
    return ""


def _float_or_zero(val: str) -> float:
    try:
        return float(int(val, 0)) if val.lower().startswith("0x") else float(val)
    except ValueError:
        return 0.0


def _is_label(s: str) -> bool:
    return bool(s) and _is_alpha(s[0]) and all(_is_alnum(c) for c in s[1:])


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unquote(raw: str) -> str:
    """strutil.Unquote for strings the lexer has already validated."""
    body = raw[1:-1]
    if raw[0] == "`":
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[e])
            i += 2
        elif e in "01234567":
            out.append(chr(int(body[i + 1:i + 4], 8)))
            i += 4
        elif e in "xuU":
            n = {"x": 2, "u": 4, "U": 8}[e]
            out.append(chr(int(body[i + 2:i + 2 + n], 16)))
            i += 2 + n
        else:
            out.append(e)
            i += 2
    return "".join(out)


def _regex_error(value: str) -> str | None:
    """Go's regexp error for the anchored matcher regex, for the cases whose
    wording we can reproduce; other invalid regexes fall back to promql-parser."""
    anchored = f"^(?:{value})$"
    try:
        re.compile(anchored)
    except re.error as exc:
        text = str(exc)
        if text.startswith("missing ), unterminated subpattern"):
            return f"error parsing regexp: missing closing ): `{anchored}`"
        if text.startswith("unbalanced parenthesis"):
            return f"error parsing regexp: unexpected ): `{anchored}`"
        if text.startswith("unterminated character set") and exc.pos is not None:
            return f"error parsing regexp: missing closing ]: `{anchored[exc.pos:]}`"
        if text.startswith("nothing to repeat") and exc.pos is not None:
            return f"error parsing regexp: missing argument to repetition operator: `{anchored[exc.pos]}`"
        return ""
    return None


def _matches_empty(m: tuple[str, str, str]) -> bool:
    _, op, value = m
    if op == "EQL":
        return value == ""
    if op == "NEQ":
        return value != ""
    try:
        hit = re.fullmatch(f"(?:{value})", "", re.S) is not None
    except re.error:
        return True
    return hit if op == "EQL_REGEX" else not hit


def _position(query: str, pos: int) -> str:
    """line:column as ParseErr.Error() counts them: 1-based, columns in bytes."""
    before = query.encode()[:pos].decode(errors="ignore") if not query.isascii() else query[:pos]
    line = before.count("\n") + 1
    col = len(before[before.rfind("\n") + 1:].encode()) + 1
    return f"{line}:{col}"


def locate(query: str, fallback: str) -> str:
    """Prometheus' ``L:C: parse error: ...`` for a query promql-parser rejected
    with message ``fallback``."""
    loc = Locator(query)
    try:
        loc.parse()
    except Exception:  # a locator bug must not turn a 400 into a 500: fall back
        loc.errors = []
    if loc.errors and loc.errors[0][1]:
        pos, msg = loc.errors[0]
        if not query.isascii():
            pos = len(query[:pos].encode())
        return f"{_position(query, pos)}: parse error: {msg}"
    if "end of input" in fallback or fallback.startswith("unclosed"):
        # These are only ever reported where the input ends.
        return f"{_position(query, len(query.encode()))}: parse error: {fallback}"
    return f"parse error: {fallback}"
