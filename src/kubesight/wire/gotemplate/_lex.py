"""The lexer of Go's text/template: text and ``{{ }}`` actions into tokens.

Positions are character offsets into the template text (Go counts bytes; the
two agree on ASCII, which is what templates are written in).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from kubesight.wire.gotemplate._errors import TemplateSyntaxError

LEFT = "{{"
RIGHT = "}}"
_SPACE = " \t\r\n"


class T(Enum):
    TEXT = auto()
    LEFT = auto()
    RIGHT = auto()
    SPACE = auto()
    IDENT = auto()
    FIELD = auto()
    VAR = auto()
    DOT = auto()
    STRING = auto()
    RAW = auto()
    CHAR = auto()
    NUMBER = auto()
    BOOL = auto()
    NIL = auto()
    PIPE = auto()
    LPAREN = auto()
    RPAREN = auto()
    DECLARE = auto()
    ASSIGN = auto()
    COMMA = auto()
    KEYWORD = auto()
    OTHER = auto()  # printable ASCII that means nothing here; the parser refuses it
    EOF = auto()


KEYWORDS = frozenset(
    {"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"}
)


@dataclass(frozen=True)
class Token:
    typ: T
    val: str
    pos: int
    line: int

    def describe(self) -> str:
        if self.typ is T.EOF:
            return "EOF"
        if self.typ is T.KEYWORD:
            return f"<{self.val}>"
        if self.typ is T.SPACE:
            return "space"
        return f"{self.val!r}".replace("'", '"') if self.typ is not T.STRING else self.val


def _is_alnum(c: str) -> bool:
    return c == "_" or c.isalnum()


class _Lexer:
    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self.pos = 0
        self.line = 1
        self.out: list[Token] = []
        self.paren_depth = 0

    def fail(self, msg: str, line: int | None = None) -> TemplateSyntaxError:
        return TemplateSyntaxError(self.name, line or self.line, msg)

    def emit(self, typ: T, start: int, val: str, line: int) -> None:
        self.out.append(Token(typ, val, start, line))

    def run(self) -> list[Token]:
        text = self.text
        trim_next = False
        while True:
            i = text.find(LEFT, self.pos)
            end = len(text) if i < 0 else i
            chunk = text[self.pos:end]
            if trim_next:
                stripped = chunk.lstrip(_SPACE)
                self.line += chunk.count("\n") - stripped.count("\n")
                self.pos += len(chunk) - len(stripped)
                chunk = stripped
                trim_next = False
            if i < 0:
                if chunk:
                    self.emit(T.TEXT, self.pos, chunk, self.line)
                self.line += chunk.count("\n")
                self.out.append(Token(T.EOF, "", len(text), self.line))
                return self.out
            left_trim = text.startswith("-", i + 2) and i + 3 < len(text) and text[i + 3] in _SPACE
            if left_trim:
                kept = chunk.rstrip(_SPACE)
                start_line = self.line
                if kept:
                    self.emit(T.TEXT, self.pos, kept, start_line)
                self.line += chunk.count("\n")
            else:
                if chunk:
                    self.emit(T.TEXT, self.pos, chunk, self.line)
                self.line += chunk.count("\n")
            self.pos = i
            trim_next = self._action(left_trim)

    def _action(self, left_trim: bool) -> bool:
        """Lex one ``{{ ... }}`` starting at self.pos; return whether it ends in ``-}}``."""
        text = self.text
        start_line = self.line
        self.emit(T.LEFT, self.pos, LEFT, self.line)
        self.pos += 2 + (2 if left_trim else 0)
        # A comment is the whole action: {{/* ... */}}, with optional trim markers.
        if text.startswith("/*", self.pos):
            close = text.find("*/", self.pos + 2)
            if close < 0:
                raise self.fail("unclosed comment", start_line)
            self.line += text.count("\n", self.pos, close)
            self.pos = close + 2
            trim = text.startswith(" -" + RIGHT, self.pos) or (
                self.pos < len(text) and text[self.pos] in _SPACE and text.startswith("-" + RIGHT, self.pos + 1)
            )
            if trim:
                self.pos += 2
            if not text.startswith(RIGHT, self.pos):
                raise self.fail("comment ends before closing delimiter", start_line)
            self.pos += 2
            self.out.pop()  # a comment leaves no token behind
            return trim
        while True:
            if self.pos >= len(text):
                raise self.fail("unclosed action", start_line)
            c = text[self.pos]
            if c in _SPACE and text.startswith("-" + RIGHT, self.pos + 1):
                self.line += c == "\n"
                self.pos += 1
                self._close_action(start_line)
                self.pos += 1  # the '-'
                self.emit(T.RIGHT, self.pos, RIGHT, self.line)
                self.pos += 2
                return True
            if text.startswith(RIGHT, self.pos):
                self._close_action(start_line)
                self.emit(T.RIGHT, self.pos, RIGHT, self.line)
                self.pos += 2
                return False
            self._token(c)

    def _close_action(self, start_line: int) -> None:
        if self.paren_depth > 0:
            raise self.fail("unclosed left paren", start_line)

    def _token(self, c: str) -> None:
        text = self.text
        start = self.pos
        line = self.line
        if c in _SPACE:
            j = start
            while j < len(text) and text[j] in _SPACE and not (
                text.startswith("-" + RIGHT, j + 1)
            ):
                j += 1
            if j == start:  # a lone space before -}} is handled by the caller
                j += 1
            self.line += text.count("\n", start, j)
            self.pos = j
            self.emit(T.SPACE, start, text[start:j], line)
        elif c == "|":
            self.pos += 1
            self.emit(T.PIPE, start, c, line)
        elif c == "(":
            self.pos += 1
            self.paren_depth += 1
            self.emit(T.LPAREN, start, c, line)
        elif c == ")":
            self.pos += 1
            self.paren_depth -= 1  # below zero, the parser says "unexpected )"
            self.emit(T.RPAREN, start, c, line)
        elif c == ",":
            self.pos += 1
            self.emit(T.COMMA, start, c, line)
        elif c == ":":
            if not text.startswith(":=", start):
                raise self.fail("expected :=", line)
            self.pos += 2
            self.emit(T.DECLARE, start, ":=", line)
        elif c == "=":
            self.pos += 1
            self.emit(T.ASSIGN, start, c, line)
        elif c == '"':
            self._quoted(start, line)
        elif c == "`":
            close = text.find("`", start + 1)
            if close < 0:
                raise self.fail("unterminated raw quoted string", line)
            self.line += text.count("\n", start, close)
            self.pos = close + 1
            self.emit(T.RAW, start, text[start:self.pos], line)
        elif c == "'":
            j = start + 1
            while j < len(text) and text[j] != "'":
                if text[j] == "\\":
                    j += 1
                if j >= len(text) or text[j] == "\n":
                    raise self.fail("unterminated character constant", line)
                j += 1
            if j >= len(text):
                raise self.fail("unterminated character constant", line)
            self.pos = j + 1
            self.emit(T.CHAR, start, text[start:self.pos], line)
        elif c == "$":
            j = start + 1
            while j < len(text) and _is_alnum(text[j]):
                j += 1
            self.pos = j
            self.emit(T.VAR, start, text[start:j], line)
            self._fields()
        elif c == ".":
            nxt = text[start + 1] if start + 1 < len(text) else ""
            if nxt.isdigit():
                self._number(start, line)
            elif _is_alnum(nxt):
                self._fields()
            else:
                self.pos += 1
                self.emit(T.DOT, start, ".", line)
        elif c.isdigit() or c in "+-":
            self._number(start, line)
        elif _is_alnum(c):
            j = start
            while j < len(text) and _is_alnum(text[j]):
                j += 1
            word = text[start:j]
            self.pos = j
            if word in KEYWORDS:
                self.emit(T.KEYWORD, start, word, line)
            elif word in ("true", "false"):
                self.emit(T.BOOL, start, word, line)
            elif word == "nil":
                self.emit(T.NIL, start, word, line)
            else:
                self.emit(T.IDENT, start, word, line)
            self._check_terminator(word)
        elif c.isascii() and c.isprintable():
            self.pos += 1
            self.emit(T.OTHER, start, c, line)
        else:
            raise self.fail(f"unrecognized character in action: {_rune(c)}", line)

    def _check_terminator(self, word: str) -> None:
        if self.pos >= len(self.text):
            return
        c = self.text[self.pos]
        if c in _SPACE or c in ".,|:)(=" or self.text.startswith(RIGHT, self.pos):
            return
        raise self.fail(f"bad character {_rune(c)}", self.line)

    def _fields(self) -> None:
        """Zero or more ``.Name`` fields right after a variable, a field or a paren."""
        text = self.text
        while self.pos < len(text) and text[self.pos] == "." and self.pos + 1 < len(text) and _is_alnum(
            text[self.pos + 1]
        ):
            start = self.pos
            j = start + 1
            while j < len(text) and _is_alnum(text[j]):
                j += 1
            self.pos = j
            self.emit(T.FIELD, start, text[start:j], self.line)

    def _quoted(self, start: int, line: int) -> None:
        text = self.text
        j = start + 1
        while True:
            if j >= len(text) or text[j] == "\n":
                raise self.fail("unterminated quoted string", line)
            if text[j] == "\\":
                j += 2
                continue
            if text[j] == '"':
                break
            j += 1
        self.pos = j + 1
        self.emit(T.STRING, start, text[start:self.pos], line)

    def _number(self, start: int, line: int) -> None:
        text = self.text
        j = start
        if j < len(text) and text[j] in "+-":
            j += 1
        digits = "0123456789_"
        if text.startswith(("0x", "0X"), j):
            digits = "0123456789abcdefABCDEF_"
            j += 2
        elif text.startswith(("0o", "0O"), j):
            digits = "01234567_"
            j += 2
        elif text.startswith(("0b", "0B"), j):
            digits = "01_"
            j += 2
        while j < len(text) and text[j] in digits:
            j += 1
        if j < len(text) and text[j] == ".":
            j += 1
            while j < len(text) and text[j] in digits:
                j += 1
        exp = "pP" if digits.startswith("0123456789a") else "eE"
        if j < len(text) and text[j] in exp:
            j += 1
            if j < len(text) and text[j] in "+-":
                j += 1
            while j < len(text) and text[j] in "0123456789_":
                j += 1
        if j < len(text) and text[j] == "i":
            j += 1
        if j < len(text) and _is_alnum(text[j]):
            j += 1
            while j < len(text) and _is_alnum(text[j]):
                j += 1
            raise self.fail(f"bad number syntax: {text[start:j]!r}".replace("'", '"'), line)
        self.pos = j
        word = text[start:j]
        if word in ("+", "-"):
            raise self.fail(f"bad number syntax: {word!r}".replace("'", '"'), line)
        self.emit(T.NUMBER, start, word, line)


def _rune(c: str) -> str:
    """Go's %#U: ``U+0021 '!'``."""
    return f"U+{ord(c):04X} '{c}'"


def lex(name: str, text: str) -> list[Token]:
    return _Lexer(name, text).run()
