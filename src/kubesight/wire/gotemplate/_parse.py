"""The parser of Go's text/template: tokens into a tree of nodes.

It follows the grammar of Go's ``text/template/parse`` (pipelines, commands,
operands and field chains; if/range/with with else and ``else if``; define,
template and block; break and continue), with its error messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Container
from dataclasses import dataclass, field

from kubesight.wire.gotemplate._errors import TemplateSyntaxError
from kubesight.wire.gotemplate._lex import T, Token, lex


@dataclass
class Text:
    pos: int
    text: str

    def __str__(self) -> str:
        return repr(self.text)


@dataclass
class Field:
    pos: int
    ident: list[str]  # without dots

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


@dataclass
class Variable:
    pos: int
    ident: list[str]  # ["$x", "A", "B"]

    def __str__(self) -> str:
        return ".".join(self.ident)


@dataclass
class Chain:
    pos: int
    node: Node
    fields: list[str]

    def __str__(self) -> str:
        inner = f"({self.node})" if isinstance(self.node, Pipe) else str(self.node)
        return inner + "".join("." + f for f in self.fields)


@dataclass
class Identifier:
    pos: int
    ident: str

    def __str__(self) -> str:
        return self.ident


@dataclass
class Dot:
    pos: int

    def __str__(self) -> str:
        return "."


@dataclass
class Nil:
    pos: int

    def __str__(self) -> str:
        return "nil"


@dataclass
class Bool:
    pos: int
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass
class Number:
    pos: int
    text: str
    value: int | float

    def __str__(self) -> str:
        return self.text


@dataclass
class String:
    pos: int
    quoted: str
    text: str

    def __str__(self) -> str:
        return self.quoted


@dataclass
class Command:
    pos: int
    args: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, Pipe) else str(a) for a in self.args)


@dataclass
class Pipe:
    pos: int
    line: int
    is_assign: bool = False
    decl: list[Variable] = field(default_factory=list)
    cmds: list[Command] = field(default_factory=list)

    def __str__(self) -> str:
        s = ""
        if self.decl:
            s = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return s + " | ".join(str(c) for c in self.cmds)


@dataclass
class ListNode:
    pos: int
    nodes: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(str(n) if not isinstance(n, Text) else n.text for n in self.nodes)


@dataclass
class Action:
    pos: int
    line: int
    pipe: Pipe

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass
class Branch:
    """``if``, ``range`` or ``with``."""

    kind: str
    pos: int
    line: int
    pipe: Pipe
    list: ListNode
    else_list: ListNode | None

    def __str__(self) -> str:
        s = "{{" + self.kind + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            s += "{{else}}" + str(self.else_list)
        return s + "{{end}}"


@dataclass
class TemplateCall:
    pos: int
    line: int
    name: str
    pipe: Pipe | None

    def __str__(self) -> str:
        q = '"' + self.name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if self.pipe is None:
            return "{{template " + q + "}}"
        return "{{template " + q + " " + str(self.pipe) + "}}"


@dataclass
class Break:
    pos: int
    line: int

    def __str__(self) -> str:
        return "{{break}}"


@dataclass
class Continue:
    pos: int
    line: int

    def __str__(self) -> str:
        return "{{continue}}"


@dataclass
class _End:
    pos: int

    def __str__(self) -> str:
        return "{{end}}"


@dataclass
class _Else:
    pos: int
    line: int

    def __str__(self) -> str:
        return "{{else}}"


Node = (
    Text | Field | Variable | Chain | Identifier | Dot | Nil | Bool | Number | String | Command
    | Pipe | ListNode | Action | Branch | TemplateCall | Break | Continue | _End | _Else
)


@dataclass
class Tree:
    name: str
    root: ListNode
    text: str  # the source, for error positions

    def is_empty(self) -> bool:
        return all(isinstance(n, Text) and not n.text.strip() for n in self.root.nodes)


class _Parser:
    def __init__(self, name: str, text: str, funcs: Container[str]) -> None:
        self.name = name
        self.text = text
        self.funcs = funcs
        self.tokens = lex(name, text)
        self.i = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.trees: dict[str, Tree] = {}
        self.line = 1

    # -- tokens --------------------------------------------------------------
    def next(self) -> Token:
        tok = self.tokens[min(self.i, len(self.tokens) - 1)]
        self.i += 1
        self.line = tok.line
        return tok

    def backup(self, n: int = 1) -> None:
        self.i -= n

    def peek(self) -> Token:
        return self.tokens[min(self.i, len(self.tokens) - 1)]

    def next_non_space(self) -> Token:
        tok = self.next()
        while tok.typ is T.SPACE:
            tok = self.next()
        return tok

    def peek_non_space(self) -> Token:
        tok = self.next_non_space()
        self.backup()
        return tok

    def fail(self, msg: str) -> TemplateSyntaxError:
        return TemplateSyntaxError(self.name, self.line, msg)

    def unexpected(self, tok: Token, context: str) -> TemplateSyntaxError:
        if tok.typ is T.EOF:
            return self.fail(f"unexpected EOF in {context}")
        return self.fail(f"unexpected {tok.describe()} in {context}")

    def expect(self, typ: T, context: str) -> Token:
        tok = self.next_non_space()
        if tok.typ is not typ:
            raise self.unexpected(tok, context)
        return tok

    # -- top level -----------------------------------------------------------
    def parse(self) -> dict[str, Tree]:
        root = ListNode(self.peek().pos)
        while self.peek().typ is not T.EOF:
            if self.peek().typ is T.LEFT:
                save = self.i
                self.next()
                tok = self.next_non_space()
                if tok.typ is T.KEYWORD and tok.val == "define":
                    self._definition()
                    continue
                self.i = save
            n = self._text_or_action()
            if isinstance(n, _End | _Else):
                raise self.fail(f"unexpected {n}")
            root.nodes.append(n)
        self._add(Tree(self.name, root, self.text))
        return self.trees

    def _add(self, tree: Tree) -> None:
        old = self.trees.get(tree.name)
        # Go keeps a non-empty definition when an empty one (whitespace only) comes later.
        if old is not None and tree.is_empty() and not old.is_empty():
            return
        self.trees[tree.name] = tree

    def _definition(self) -> None:
        context = "define clause"
        tok = self.next_non_space()
        name = self._template_name(tok, context)
        self.expect(T.RIGHT, context)
        saved = self.vars
        self.vars = ["$"]
        body, end = self._item_list()
        self.vars = saved
        if not isinstance(end, _End):
            raise self.fail(f"unexpected {end} in {context}")
        self._add(Tree(name, body, self.text))

    def _template_name(self, tok: Token, context: str) -> str:
        if tok.typ in (T.STRING, T.RAW):
            return _unquote(tok.val, self.fail)
        raise self.unexpected(tok, context)

    def _item_list(self) -> tuple[ListNode, Node]:
        lst = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ is not T.EOF:
            n = self._text_or_action()
            if isinstance(n, _End | _Else):
                return lst, n
            lst.nodes.append(n)
        raise self.fail("unexpected EOF")

    def _text_or_action(self) -> Node:
        tok = self.next_non_space()
        if tok.typ is T.TEXT:
            return Text(tok.pos, tok.val)
        if tok.typ is T.LEFT:
            return self._action()
        raise self.unexpected(tok, "input")

    def _action(self) -> Node:
        tok = self.next_non_space()
        if tok.typ is T.KEYWORD:
            kw = tok.val
            if kw == "block":
                return self._block()
            if kw in ("break", "continue"):
                self.expect(T.RIGHT, kw)
                if not self.range_depth:
                    raise self.fail(f"{{{{{kw}}}}} outside {{{{range}}}}")
                return Break(tok.pos, tok.line) if kw == "break" else Continue(tok.pos, tok.line)
            if kw == "else":
                peek = self.peek_non_space()
                if peek.typ is T.KEYWORD and peek.val in ("if", "with"):
                    return _Else(peek.pos, peek.line)
                end = self.expect(T.RIGHT, "else")
                return _Else(end.pos, end.line)
            if kw == "end":
                end = self.expect(T.RIGHT, "end")
                return _End(end.pos)
            if kw in ("if", "range", "with"):
                return self._control(kw)
            if kw == "template":
                return self._template_call()
            if kw == "define":
                raise self.fail("unexpected <define> in command")
        self.backup()
        tok = self.peek()
        return Action(tok.pos, tok.line, self._pipeline("command", T.RIGHT))

    def _control(self, context: str) -> Branch:
        mark = len(self.vars)
        pipe = self._pipeline(context, T.RIGHT)
        if context == "range":
            self.range_depth += 1
        body, nxt = self._item_list()
        if context == "range":
            self.range_depth -= 1
        else_list: ListNode | None = None
        if isinstance(nxt, _Else):
            peek = self.peek_non_space()
            if context in ("if", "with") and peek.typ is T.KEYWORD and peek.val == context:
                self.next_non_space()
                else_list = ListNode(nxt.pos, [self._control(context)])
            else:
                else_list, nxt = self._item_list()
                if not isinstance(nxt, _End):
                    raise self.fail(f"expected end; found {nxt}")
        del self.vars[mark:]
        return Branch(context, pipe.pos, pipe.line, pipe, body, else_list)

    def _template_call(self) -> TemplateCall:
        context = "template clause"
        tok = self.next_non_space()
        name = self._template_name(tok, context)
        pipe: Pipe | None = None
        if self.next_non_space().typ is not T.RIGHT:
            self.backup()
            pipe = self._pipeline(context, T.RIGHT)
        return TemplateCall(tok.pos, tok.line, name, pipe)

    def _block(self) -> TemplateCall:
        context = "block clause"
        tok = self.next_non_space()
        name = self._template_name(tok, context)
        pipe = self._pipeline(context, T.RIGHT)
        saved = self.vars
        self.vars = ["$"]
        body, end = self._item_list()
        self.vars = saved
        if not isinstance(end, _End):
            raise self.fail(f"unexpected {end} in {context}")
        self._add(Tree(name, body, self.text))
        return TemplateCall(tok.pos, tok.line, name, pipe)

    # -- pipelines -----------------------------------------------------------
    def _pipeline(self, context: str, end: T) -> Pipe:
        tok = self.peek_non_space()
        pipe = Pipe(tok.pos, tok.line)
        while True:  # declarations
            v = self.peek_non_space()
            if v.typ is not T.VAR:
                break
            save = self.i
            self.next_non_space()
            nxt = self.peek_non_space()
            if nxt.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = nxt.typ is T.ASSIGN
                self.next_non_space()
                pipe.decl.append(Variable(v.pos, [v.val]))
                if pipe.is_assign and v.val not in self.vars:
                    raise self.fail(f"undefined variable {_q(v.val)}")
                self.vars.append(v.val)
                break
            if nxt.typ is T.COMMA:
                self.next_non_space()
                pipe.decl.append(Variable(v.pos, [v.val]))
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (T.VAR, T.RIGHT, T.RPAREN):
                        continue
                    raise self.fail("range can only initialize variables")
                raise self.fail(f"too many declarations in {context}")
            self.i = save  # not a declaration: the variable is an operand
            break
        if pipe.decl and not pipe.is_assign:
            for d in pipe.decl:
                if d.ident[0] not in self.vars:
                    self.vars.append(d.ident[0])
        while True:
            tok = self.next_non_space()
            if tok.typ is end:
                self._check_pipeline(pipe, context)
                return pipe
            if tok.typ in (T.BOOL, T.CHAR, T.DOT, T.FIELD, T.IDENT, T.NUMBER, T.NIL, T.RAW,
                           T.STRING, T.VAR, T.LPAREN):
                self.backup()
                pipe.cmds.append(self._command())
            else:
                raise self.unexpected(tok, context)

    def _check_pipeline(self, pipe: Pipe, context: str) -> None:
        if not pipe.cmds:
            raise self.fail(f"missing value for {context}")
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], Bool | Dot | Nil | Number | String):
                raise self.fail(f"non executable command in pipeline stage {i + 2}")

    def _command(self) -> Command:
        cmd = Command(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self._operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.typ is T.SPACE:
                continue
            if tok.typ in (T.RIGHT, T.RPAREN):
                self.backup()
            elif tok.typ is not T.PIPE:
                raise self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.fail("empty command")
        return cmd

    def _operand(self) -> Node | None:
        node = self._term()
        if node is None:
            return None
        if self.peek().typ is T.FIELD:
            # Go positions a chained field or variable at its first chained field
            pos = self.peek().pos
            fields: list[str] = []
            while self.peek().typ is T.FIELD:
                fields.append(self.next().val[1:])
            if isinstance(node, Field):
                return Field(pos, node.ident + fields)
            if isinstance(node, Variable):
                return Variable(pos, node.ident + fields)
            if isinstance(node, Bool | String | Number | Nil | Dot):
                raise self.fail(f"unexpected . after term {_q(str(node))}")
            return Chain(pos, node, fields)
        return node

    def _term(self) -> Node | None:
        tok = self.next_non_space()
        typ = tok.typ
        if typ is T.IDENT:
            if tok.val not in self.funcs:
                raise self.fail(f"function {_q(tok.val)} not defined")
            return Identifier(tok.pos, tok.val)
        if typ is T.DOT:
            return Dot(tok.pos)
        if typ is T.NIL:
            return Nil(tok.pos)
        if typ is T.VAR:
            if tok.val not in self.vars:
                raise self.fail(f"undefined variable {_q(tok.val)}")
            return Variable(tok.pos, [tok.val])
        if typ is T.FIELD:
            return Field(tok.pos, [tok.val[1:]])
        if typ is T.BOOL:
            return Bool(tok.pos, tok.val == "true")
        if typ in (T.NUMBER, T.CHAR):
            return Number(tok.pos, tok.val, _number(tok.val, self.fail))
        if typ is T.LPAREN:
            return self._pipeline("parenthesized pipeline", T.RPAREN)
        if typ in (T.STRING, T.RAW):
            return String(tok.pos, tok.val, _unquote(tok.val, self.fail))
        self.backup()
        return None


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(quoted: str, fail: Callable[[str], TemplateSyntaxError]) -> str:
    if quoted.startswith("`"):
        return quoted[1:-1].replace("\r", "")
    body = quoted[1:-1]
    out: list[str] = []
    i = 0
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
              "\\": "\\", '"': '"', "'": "'"}
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1] if i + 1 < len(body) else ""
        if e in simple and e != "'":
            out.append(simple[e])
            i += 2
        elif e in "xuU" and e:
            n = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i + 2:i + 2 + n]
            if len(digits) != n or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise fail("invalid syntax")
            code = int(digits, 16)
            if e == "x":
                out.append(bytes([code]).decode("latin-1") if code < 0x80 else chr(code))
            else:
                if code > 0x10FFFF or 0xD800 <= code < 0xE000:
                    raise fail("invalid syntax")
                out.append(chr(code))
            i += 2 + n
        elif e and e in "01234567":
            digits = body[i + 1:i + 4]
            if len(digits) != 3 or any(d not in "01234567" for d in digits) or int(digits, 8) > 255:
                raise fail("invalid syntax")
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise fail("invalid syntax")
    return "".join(out)


def _number(text: str, fail: Callable[[str], TemplateSyntaxError]) -> int | float:
    if text.startswith("'"):
        inner = text[1:-1]
        if inner == "\\'":
            inner = "'"
        elif inner.startswith("\\"):
            inner = _unquote('"' + inner + '"', fail)
        if len(inner) != 1:
            raise fail(f"malformed character constant: {text}")
        return ord(inner)
    if text.endswith("i"):
        raise fail(f"complex numbers are not supported: {text}")
    clean = text.replace("_", "")
    lower = clean.lower().lstrip("+-")
    is_hex = lower.startswith("0x")
    try:
        if ("." in lower or "p" in lower) and is_hex:
            return float.fromhex(clean)
        if not is_hex and any(c in lower for c in ".e"):
            f = float(clean)
            if math.isinf(f):
                raise ValueError(text)  # Go: out of range is a syntax error
            return f
        if lower.startswith(("0o", "0b", "0x")):
            return int(clean, 0)
        if len(lower) > 1 and lower.startswith("0"):
            return int(clean, 8)  # Go: a leading 0 means octal
        value = int(clean, 10)
    except ValueError:
        raise fail(f"illegal number syntax: {_q(text)}") from None
    if not -(2**64) <= value < 2**64:  # beyond uint64 Go cannot read it at all
        raise fail(f"illegal number syntax: {_q(text)}")
    return value  # beyond int64: Go says "overflows int" when it runs


def parse_trees(name: str, text: str, funcs: Container[str]) -> dict[str, Tree]:
    """All templates in ``text``: the top level under ``name`` plus each define/block."""
    return _Parser(name, text, funcs).parse()

