"""Prometheus' PromQL lexer (``promql/parser/lex.go``), as far as its tokens and errors go."""

from __future__ import annotations

from dataclasses import dataclass

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
KEYWORDS = frozenset(
    {"offset", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
     "anchored", "smoothed", "fill", "fill_left", "fill_right"}
)
# 3.x lexes these as keywords only when "(" follows, so they stay usable as metric names.
FILL_KEYWORDS = frozenset({"fill", "fill_left", "fill_right"})
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
                if low in FILL_KEYWORDS and not self._followed_by_paren():
                    return Tok("IDENTIFIER", start, word)
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

    def _followed_by_paren(self) -> bool:
        """peekFollowedByLeftParen: the next non-blank character is "("."""
        rest = self.s[self.i:].lstrip(" \t\n\r")
        return rest.startswith("(")

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
