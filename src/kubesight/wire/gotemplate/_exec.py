"""Execution of a parsed template tree over Python data, with Go's semantics.

Data model: a ``Mapping`` is a Go map (``.key`` looks the key up, a missing
key gives "no value"), any other object a struct (``.Name`` reads the
attribute; a callable attribute is a method and takes the arguments), ``None``
is nil. Values print with Go's fmt (see :mod:`._fmt`).
"""

from __future__ import annotations

import inspect
import urllib.parse
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubesight.wire.gotemplate import _parse as p
from kubesight.wire.gotemplate._errors import TemplateError, TemplateExecError
from kubesight.wire.gotemplate._fmt import sprint, sprintf, sprintln, type_name, value_str

Func = Callable[..., Any]
MAX_DEPTH = 100  # nested {{template}} calls; Go allows 100000 but Python's stack is smaller
_MISSING = object()  # "no piped value" (Go's missingVal)


class _Break(Exception):  # noqa: N818 - control flow, not a user-facing error
    pass


class _Continue(Exception):  # noqa: N818 - control flow, not a user-facing error
    pass


class _Fail(Exception):  # noqa: N818 - control flow, not a user-facing error
    """An execution error before it gets its position (raised from helpers)."""


def go_truth(v: Any) -> bool:
    """Go's ``if``: false, 0, nil, and empty strings, slices and maps are false."""
    if v is None:
        return False
    if isinstance(v, bool | int | float):
        return v != 0
    if isinstance(v, str | Mapping | list | tuple):
        return len(v) > 0
    if hasattr(v, "__len__"):
        return len(v) > 0
    return True


def _zero_of(m: Mapping[Any, Any]) -> Any:
    """The zero value of a map's element type: "" for a map of strings (map[string]string)."""
    return "" if all(isinstance(x, str) for x in m.values()) else None


class State:
    def __init__(
        self,
        trees: Mapping[str, p.Tree],
        funcs: Mapping[str, Func],
        missing_key: str,
    ) -> None:
        self.trees = trees
        self.funcs = funcs
        self.missing_key = missing_key
        self.out: list[str] = []
        self.vars: list[list[Any]] = []
        self.tree: p.Tree | None = None
        self.node: Any = None
        self.depth = 0

    # -- errors ----------------------------------------------------------------
    def error(self, msg: str) -> TemplateExecError:
        tree = self.tree
        assert tree is not None
        pos = getattr(self.node, "pos", 0)
        text = tree.text[:pos]
        nl = text.rfind("\n")
        col = pos if nl < 0 else pos - nl - 1
        line = 1 + text.count("\n")
        ctx = str(self.node) if self.node is not None else ""
        if len(ctx) > 100:  # Go truncates the context of long nodes
            ctx = ctx[:100] + "..."
        return TemplateExecError(tree.name, line, col, ctx, msg, tree.name)

    def at(self, node: Any) -> None:
        self.node = node

    # -- entry -----------------------------------------------------------------
    def run(self, tree: p.Tree, data: Any) -> str:
        self.tree = tree
        self.vars = [["$", data]]
        try:
            self.walk(data, tree.root)
        except RecursionError:
            raise self.error("template too deeply nested") from None
        return "".join(self.out)

    # -- walking ---------------------------------------------------------------
    def walk(self, dot: Any, node: p.Node) -> None:
        self.at(node)
        if isinstance(node, p.Text):
            self.out.append(node.text)
        elif isinstance(node, p.Action):
            val = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.at(node)
                self.out.append(self.print_value(val))
        elif isinstance(node, p.ListNode):
            for n in node.nodes:
                self.walk(dot, n)
        elif isinstance(node, p.Branch):
            if node.kind == "range":
                self.walk_range(dot, node)
            else:
                self.walk_if_with(dot, node)
        elif isinstance(node, p.TemplateCall):
            self.walk_template(dot, node)
        elif isinstance(node, p.Break):
            raise _Break
        elif isinstance(node, p.Continue):
            raise _Continue
        else:
            raise self.error(f"unknown node: {node}")

    def print_value(self, v: Any) -> str:
        if v is None:
            return "<no value>"
        return value_str(v)

    def walk_if_with(self, dot: Any, node: p.Branch) -> None:
        mark = len(self.vars)
        try:
            val = self.eval_pipeline(dot, node.pipe)
            if go_truth(val):
                self.walk(val if node.kind == "with" else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: p.Branch) -> None:
        mark = len(self.vars)
        try:
            val = self.eval_pipeline(dot, node.pipe)
            items: Sequence[tuple[Any, Any]]
            if val is None:
                items = []
            elif isinstance(val, Mapping):
                items = [(k, val[k]) for k in sorted(val, key=_map_key)]
            elif isinstance(val, list | tuple):
                items = list(enumerate(val))
            elif isinstance(val, int) and not isinstance(val, bool):
                if len(node.pipe.decl) > 1:
                    raise self.error(f"can't use {val} to iterate over more than one variable")
                items = [(i, i) for i in range(val)]
            else:
                raise self.error(f"range can't iterate over {value_str(val)}")
            inner = len(self.vars)
            for index, elem in items:
                decl = node.pipe.decl
                if decl:
                    if node.pipe.is_assign:
                        self.set_var(decl[0].ident[0], index if len(decl) > 1 else elem)
                        if len(decl) > 1:
                            self.set_var(decl[1].ident[0], elem)
                    else:
                        self.vars[-1][1] = elem
                        if len(decl) > 1:
                            self.vars[-2][1] = index
                try:
                    self.walk(elem, node.list)
                except _Continue:
                    pass
                except _Break:
                    break
                finally:
                    del self.vars[inner:]
            if not items and node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_template(self, dot: Any, node: p.TemplateCall) -> None:
        tree = self.trees.get(node.name)
        if tree is None:
            raise self.error(f"template {_q(node.name)} not defined")
        if self.depth >= MAX_DEPTH:
            raise self.error(f"exceeded maximum template depth ({MAX_DEPTH})")
        new_dot = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else None
        saved = (self.tree, self.vars)
        self.tree = tree
        self.vars = [["$", new_dot]]
        self.depth += 1
        try:
            self.walk(new_dot, tree.root)
        finally:
            self.depth -= 1
            self.tree, self.vars = saved

    # -- variables -------------------------------------------------------------
    def set_var(self, name: str, value: Any) -> None:
        for entry in reversed(self.vars):
            if entry[0] == name:
                entry[1] = value
                return
        raise self.error(f"undefined variable: {name}")

    def var_value(self, name: str) -> Any:
        for entry in reversed(self.vars):
            if entry[0] == name:
                return entry[1]
        raise self.error(f"undefined variable: {name}")

    # -- pipelines -------------------------------------------------------------
    def eval_pipeline(self, dot: Any, pipe: p.Pipe) -> Any:
        self.at(pipe)
        value: Any = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.ident[0], value)
            else:
                self.vars.append([var.ident[0], value])
        return value

    def not_a_function(self, args: Sequence[p.Node], final: Any) -> None:
        if len(args) > 1 or final is not _MISSING:
            raise self.error(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, cmd: p.Command, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, p.Field):
            return self.eval_field_chain(dot, dot, first, first.ident, cmd.args, final)
        if isinstance(first, p.Chain):
            return self.eval_chain(dot, first, cmd.args, final)
        if isinstance(first, p.Identifier):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, p.Pipe):
            self.at(first)
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, p.Variable):
            return self.eval_variable(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, p.Bool):
            return first.value
        if isinstance(first, p.Dot):
            return dot
        if isinstance(first, p.Nil):
            raise self.error("nil is not a command")
        if isinstance(first, p.Number):
            return self.number(first)
        if isinstance(first, p.String):
            return first.text
        raise self.error(f"can't evaluate command {_q(str(first))}")

    def eval_chain(self, dot: Any, chain: p.Chain, args: Sequence[p.Node], final: Any) -> Any:
        if isinstance(chain.node, p.Nil):
            raise self.error(f"indirection through explicit nil in {chain}")
        recv = self.eval_arg(dot, chain.node)
        return self.eval_field_chain(dot, recv, chain, chain.fields, args, final)

    def eval_variable(self, dot: Any, var: p.Variable, args: Sequence[p.Node], final: Any) -> Any:
        self.at(var)
        value = self.var_value(var.ident[0])
        if len(var.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, var, var.ident[1:], args, final)

    def eval_field_chain(
        self, dot: Any, recv: Any, node: p.Node, ident: Sequence[str], args: Sequence[p.Node], final: Any
    ) -> Any:
        for name in ident[:-1]:
            recv = self.eval_field(dot, name, node, (), _MISSING, recv)
        return self.eval_field(dot, ident[-1], node, args, final, recv)

    def eval_field(
        self, dot: Any, name: str, node: p.Node, args: Sequence[p.Node], final: Any, recv: Any
    ) -> Any:
        self.at(node)
        if recv is None:
            if self.missing_key == "error":
                raise self.error(f"nil data; no entry for key {_q(name)}")
            return None
        method = _method(recv, name)
        if method is not None:
            return self.call(dot, method, node, name, args, final)
        has_args = len(args) > 1 or final is not _MISSING
        if isinstance(recv, Mapping):
            if has_args:
                raise self.error(f"{name} is not a method but has arguments")
            if name in recv:
                return recv[name]
            if self.missing_key == "error":
                raise self.error(f"map has no entry for key {_q(name)}")
            if self.missing_key == "zero":
                return _zero_of(recv)
            return None
        if not name.startswith("_") and not isinstance(recv, str | int | float | list | tuple):
            try:
                value = getattr(recv, name)
            except AttributeError:
                pass
            else:
                if has_args:
                    raise self.error(f"{name} has arguments but cannot be invoked as function")
                return value
        raise self.error(f"can't evaluate field {name} in type {type_name(recv)}")

    # -- functions -------------------------------------------------------------
    def eval_function(
        self, dot: Any, ident: p.Identifier, cmd: p.Command, args: Sequence[p.Node], final: Any
    ) -> Any:
        self.at(ident)
        name = ident.ident
        fn = self.funcs.get(name)
        if fn is None:
            builtin = BUILTINS.get(name)
            if builtin is None:
                raise self.error(f"{_q(name)} is not a defined function")
            return builtin(self, dot, cmd, name, args[1:], final)
        return self.call(dot, fn, cmd, name, args, final)

    def eval_args(self, dot: Any, args: Sequence[p.Node], final: Any) -> list[Any]:
        values = [self.eval_arg(dot, a) for a in args]
        if final is not _MISSING:
            values.append(final)
        return values

    def call(self, dot: Any, fn: Func, node: p.Node, name: str, args: Sequence[p.Node], final: Any) -> Any:
        # Go checks the count before evaluating, positioned at the function's name
        self.at(args[0] if args else node)
        problem = _arity_problem(fn, max(len(args) - 1, 0) + (final is not _MISSING))
        if problem:
            raise self.error(f"wrong number of args for {name}: {problem}")
        values = self.eval_args(dot, args[1:], final)
        self.at(node)
        try:
            return fn(*values)
        except (TemplateError, _Break, _Continue):
            raise
        except Exception as exc:  # a function's failure is the template's error, as in Go
            self.at(node)
            raise self.error(f"error calling {name}: {exc}") from exc

    def eval_arg(self, dot: Any, n: p.Node) -> Any:
        self.at(n)
        if isinstance(n, p.Bool):
            return n.value
        if isinstance(n, p.Dot):
            return dot
        if isinstance(n, p.Field):
            return self.eval_field_chain(dot, dot, n, n.ident, (), _MISSING)
        if isinstance(n, p.Variable):
            return self.eval_variable(dot, n, (), _MISSING)
        if isinstance(n, p.Pipe):
            return self.eval_pipeline(dot, n)
        if isinstance(n, p.Identifier):
            return self.eval_function(dot, n, p.Command(n.pos, [n]), [n], _MISSING)
        if isinstance(n, p.Chain):
            return self.eval_chain(dot, n, (), _MISSING)
        if isinstance(n, p.Nil):
            return None
        if isinstance(n, p.Number):
            return self.number(n)
        if isinstance(n, p.String):
            return n.text
        raise self.error(f"can't handle {n} for arg")

    def number(self, n: p.Number) -> int | float:
        if isinstance(n.value, int) and not -(2**63) <= n.value < 2**63:
            self.at(n)
            raise self.error(f"{n.text} overflows int")  # Go finds out when it runs, as here
        return n.value


def _map_key(k: Any) -> tuple[int, Any]:
    if isinstance(k, int | float) and not isinstance(k, bool):
        return (0, k)
    return (1, str(k))


def _method(recv: Any, name: str) -> Func | None:
    """A Go method: a callable attribute (for a mapping, only one its class defines)."""
    if name.startswith("_") or isinstance(recv, str | int | float | bool | list | tuple):
        return None
    if isinstance(recv, Mapping):
        if type(recv) is dict or not name[:1].isupper():
            return None
        attr = getattr(type(recv), name, None)
        return getattr(recv, name) if callable(attr) else None
    attr = getattr(recv, name, None)
    if callable(attr) and not isinstance(attr, type):
        return attr  # type: ignore[no-any-return]
    return None


_ARITY: weakref.WeakKeyDictionary[Any, tuple[int, int] | None] = weakref.WeakKeyDictionary()


def _arity(fn: Func) -> tuple[int, int] | None:
    """(least, most) positional arguments of ``fn`` (most -1: variadic), None if unknown."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    lo = hi = 0
    for prm in sig.parameters.values():
        if prm.kind is prm.VAR_POSITIONAL:
            hi = -1
        elif prm.kind in (prm.POSITIONAL_ONLY, prm.POSITIONAL_OR_KEYWORD):
            if prm.default is prm.empty:
                lo += 1
            if hi >= 0:
                hi += 1
    return (lo, hi)


def _arity_problem(fn: Func, n: int) -> str:
    try:
        bounds = _ARITY[fn]
    except KeyError:
        bounds = _ARITY[fn] = _arity(fn)
    except TypeError:  # not weakly referenceable
        bounds = _arity(fn)
    if bounds is None:
        return ""
    lo, hi = bounds
    if hi < 0:
        return f"want at least {lo} got {n}" if n < lo else ""
    if lo == hi and n != lo:
        return f"want {lo} got {n}"
    if not lo <= n <= hi:
        return f"want {lo} to {hi} got {n}"
    return ""


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- builtins ---------------------------------------------------------------------
Builtin = Callable[[State, Any, p.Command, str, Sequence[p.Node], Any], Any]


def _wrap(fn: Callable[..., Any], lo: int, hi: int = -2) -> Builtin:
    """A builtin over evaluated arguments, with Go's arity errors."""
    hi = lo if hi == -2 else hi

    def run(st: State, dot: Any, cmd: p.Command, name: str, args: Sequence[p.Node], final: Any) -> Any:
        # Go checks the count before evaluating, positioned at the function's name
        n = len(args) + (final is not _MISSING)
        st.at(cmd.args[0])
        if hi == -1 and n < lo:
            raise st.error(f"wrong number of args for {name}: want at least {lo} got {n}")
        if hi >= 0 and n != lo and not lo <= n <= hi:
            raise st.error(f"wrong number of args for {name}: want {lo} got {n}")
        values = st.eval_args(dot, args, final)
        st.at(cmd)
        try:
            return fn(*values)
        except _Fail as exc:
            raise st.error(f"error calling {name}: {exc}") from None

    return run


def _and_or(st: State, dot: Any, cmd: p.Command, name: str, args: Sequence[p.Node], final: Any) -> Any:
    n = len(args) + (final is not _MISSING)
    if n < 1:
        st.at(cmd)
        raise st.error(f"wrong number of args for {name}: want at least 1 got 0")
    want = name == "or"
    val: Any = None
    for a in args:
        val = st.eval_arg(dot, a)
        if go_truth(val) == want:
            return val
    if final is not _MISSING:
        val = final
    return val


def _not(v: Any) -> bool:
    return not go_truth(v)


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if v is None:
        return "invalid"
    return "other"


def _eq(a: Any, *rest: Any) -> bool:
    if not rest:
        raise _Fail("missing argument for comparison")
    ka = _kind(a)
    for b in rest:
        kb = _kind(b)
        if ka != kb:
            if a is not None and b is not None:
                raise _Fail("incompatible types for comparison")
            continue
        if ka == "other":
            try:
                if a == b:
                    return True
            except Exception:
                raise _Fail(f"non-comparable type {value_str(a)}: {type_name(a)}") from None
            continue
        if a == b:
            return True
    return False


def _ne(a: Any, b: Any) -> bool:
    return not _eq(a, b)


def _lt(a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka in ("invalid", "other", "bool") or kb in ("invalid", "other", "bool"):
        raise _Fail("invalid type for comparison")
    if ka != kb:
        raise _Fail("incompatible types for comparison")
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or _eq(a, b)


def _gt(a: Any, b: Any) -> bool:
    return not _le(a, b)


def _ge(a: Any, b: Any) -> bool:
    return not _lt(a, b)


def _len(v: Any) -> int:
    if isinstance(v, str):
        return len(v.encode("utf-8"))
    if isinstance(v, Mapping | list | tuple):
        return len(v)
    if v is None:
        raise _Fail("len of nil pointer")
    raise _Fail(f"len of type {type_name(v)}")


def _index(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise _Fail("index of untyped nil")
    for ix in indexes:
        if item is None:
            raise _Fail("index of nil pointer")
        if isinstance(item, Mapping):
            item = item[ix] if ix in item else _zero_of(item)
        elif isinstance(item, list | tuple | str):
            if not isinstance(ix, int) or isinstance(ix, bool):
                raise _Fail(f"cannot index slice/array with type {type_name(ix)}")
            seq: Any = item.encode("utf-8") if isinstance(item, str) else item
            if not 0 <= ix < len(seq):
                raise _Fail(f"index out of range: {ix}")
            item = seq[ix]
        else:
            raise _Fail(f"can't index item of type {type_name(item)}")
    return item


def _slice(item: Any, *idx: Any) -> Any:
    if item is None:
        raise _Fail("slice of untyped nil")
    if len(idx) > 3:
        raise _Fail(f"too many slice indexes: {len(idx)}")
    if not isinstance(item, list | tuple | str):
        raise _Fail(f"can't slice item of type {type_name(item)}")
    if isinstance(item, str) and len(idx) == 3:
        raise _Fail("cannot 3-index slice a string")
    n = len(item)
    bounds = [0, n]
    for i, x in enumerate(idx[:2]):
        if not isinstance(x, int) or isinstance(x, bool):
            raise _Fail(f"cannot index slice/array with type {type_name(x)}")
        if not 0 <= x <= n:
            raise _Fail(f"index out of range: {x}")
        bounds[i] = x
    if bounds[0] > bounds[1]:
        raise _Fail(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    return item[bounds[0]:bounds[1]]


def _text_arg(args: Sequence[Any]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(args)


def html_escape(s: str) -> str:
    """Go's template.HTMLEscapeString."""
    return (
        s.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&#34;").replace("\x00", "\ufffd")
    )


_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}


def js_escape(s: str) -> str:
    """Go's template.JSEscapeString."""
    out: list[str] = []
    for ch in s:
        o = ord(ch)
        if ch in _JS:
            out.append(_JS[ch])
        elif o < 0x20:
            out.append(f"\\u00{o:02X}")
        elif o >= 0x80 and not ch.isprintable():
            out.append(f"\\u{o:04X}")
        else:
            out.append(ch)
    return "".join(out)


def _call(fn: Any, *args: Any) -> Any:
    if not callable(fn):
        raise _Fail(f"non-function of type {type_name(fn)}")
    try:
        return fn(*args)
    except Exception as exc:
        raise _Fail(str(exc)) from exc


BUILTINS: dict[str, Builtin] = {
    "and": _and_or,
    "or": _and_or,
    "not": _wrap(_not, 1),
    "eq": _wrap(_eq, 1, -1),
    "ne": _wrap(_ne, 2),
    "lt": _wrap(_lt, 2),
    "le": _wrap(_le, 2),
    "gt": _wrap(_gt, 2),
    "ge": _wrap(_ge, 2),
    "len": _wrap(_len, 1),
    "index": _wrap(_index, 1, -1),
    "slice": _wrap(_slice, 1, -1),
    "print": _wrap(lambda *a: sprint(a), 0, -1),
    "println": _wrap(lambda *a: sprintln(a), 0, -1),
    "printf": _wrap(lambda f, *a: sprintf(f, a) if isinstance(f, str) else _bad_format(f), 1, -1),
    "html": _wrap(lambda *a: html_escape(_text_arg(a)), 0, -1),
    "js": _wrap(lambda *a: js_escape(_text_arg(a)), 0, -1),
    "urlquery": _wrap(lambda *a: urllib.parse.quote_plus(_text_arg(a), safe=""), 0, -1),
    "call": _wrap(_call, 1, -1),
}


def _bad_format(f: Any) -> str:
    raise _Fail(f"wrong type for value; expected string; got {type_name(f)}")
