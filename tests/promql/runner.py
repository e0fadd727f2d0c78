"""A small data-driven PromQL test format of our own, and its runner.

::

    # comment
    load 1m                         # then indented series lines
      metric{a="b"} 0+10x10         # start+step x count -> count+1 samples
      other 1 _ 3 stale NaN Inf -Inf 5x2 _x3 10-1x4
    clear                           # empty the store

    eval instant at 5m30s <expr>    # expected samples follow, indented
      {a="b"} 50                    # labels (metric name included if kept) value
    eval range from 0 to 10m step 1m <expr>
      {a="b"} 0 10 _ 30             # one value per step, _ = absent
    eval_ordered instant at 5m <expr>   # result order matters (sort, topk)
    eval instant at 5m <expr>
      expect fail <regex>           # the query must fail with a matching message
    eval instant at 5m <expr>
      expect warn <regex>           # the result must carry a matching warning
      expect info <regex>           # ... a matching info annotation

An instant result that is a scalar is written as a bare value line.
Values compare with NaN == NaN and 1e-9 relative tolerance.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kubesight.model import SampleBatch, labels_from_dict, stale_nan
from kubesight.model.durations import parse_duration_ms
from kubesight.promql import Engine, Matrix, PromQLError, Scalar, String, Vector
from kubesight.store.memory import MemoryStore

_SERIES = re.compile(r"^\s*(?P<sel>[^\s{]*(\{[^}]*\})?)\s*(?P<vals>.*)$")
_LABEL = re.compile(r'\s*([^=\s,]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def parse_labels(text: str) -> tuple[tuple[str, str], ...]:
    text = text.strip()
    name, _, rest = text.partition("{")
    d: dict[str, str] = {}
    if name:
        d["__name__"] = name
    body = rest.rstrip("}")
    pos = 0
    while pos < len(body):
        m = _LABEL.match(body, pos)
        if not m:
            raise ValueError(f"bad label set: {text!r}")
        d[m.group(1)] = bytes(m.group(2), "utf-8").decode("unicode_escape")
        pos = m.end()
    return labels_from_dict(d)


def _num(tok: str) -> float:
    t = tok.lower()
    if t in ("nan",):
        return math.nan
    if t in ("inf", "+inf"):
        return math.inf
    if t == "-inf":
        return -math.inf
    return float(tok)


def expand_values(text: str) -> list[float | None]:
    """Series notation -> values (None = no sample at that step)."""
    out: list[float | None] = []
    for tok in text.split():
        if tok == "_":
            out.append(None)
        elif tok == "stale":
            out.append(stale_nan())
        elif m := re.fullmatch(r"_x(\d+)", tok):
            out.extend([None] * int(m.group(1)))
        elif m := re.fullmatch(r"([-+]?[\d.eE]+|[-+]?Inf|NaN)([-+])([\d.eE]+)x(\d+)", tok):
            a, sign, b, n = _num(m.group(1)), m.group(2), float(m.group(3)), int(m.group(4))
            d = b if sign == "+" else -b
            out.extend(a + d * i for i in range(n + 1))
        elif m := re.fullmatch(r"([-+]?[\d.eE]+|[-+]?Inf|NaN)x(\d+)", tok):
            out.extend([_num(m.group(1))] * (int(m.group(2)) + 1))
        else:
            out.append(_num(tok))
    return out


@dataclass
class Eval:
    line: int
    expr: str
    instant: bool
    start: int
    end: int
    step: int
    ordered: bool
    expected: list[tuple[tuple[tuple[str, str], ...] | None, list[float | None]]] = field(
        default_factory=list
    )
    fail: str | None = None
    warn: str | None = None
    info: str | None = None


@dataclass
class Load:
    interval: int
    series: list[tuple[tuple[tuple[str, str], ...], list[float | None]]]


@dataclass
class Clear:
    pass


Command = Load | Eval | Clear


def _dur(text: str) -> int:
    text = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return int(float(text) * 1000)
    neg = text.startswith("-")
    v = parse_duration_ms(text.lstrip("-"))
    return -v if neg else v


def parse_file(text: str) -> list[Command]:
    cmds: list[Command] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        i += 1
        if not line.strip():
            continue
        if line.startswith("load "):
            load = Load(_dur(line[5:]), [])
            while i < len(lines) and lines[i].startswith((" ", "\t")) and lines[i].strip():
                m = _SERIES.match(lines[i])
                assert m, lines[i]
                load.series.append((parse_labels(m.group("sel")), expand_values(m.group("vals"))))
                i += 1
            cmds.append(load)
        elif line.strip() == "clear":
            cmds.append(Clear())
        elif line.startswith(("eval ", "eval_ordered ")):
            ordered = line.startswith("eval_ordered")
            rest = line.split(" ", 1)[1]
            if m := re.match(r"instant at (\S+) (.*)$", rest):
                t = _dur(m.group(1))
                ev = Eval(i, m.group(2), True, t, t, 0, ordered)
            elif m := re.match(r"range from (\S+) to (\S+) step (\S+) (.*)$", rest):
                ev = Eval(i, m.group(4), False, _dur(m.group(1)), _dur(m.group(2)), _dur(m.group(3)), ordered)
            else:
                raise ValueError(f"line {i}: bad eval: {line}")
            while i < len(lines) and lines[i].startswith((" ", "\t")) and lines[i].strip():
                body = lines[i].strip()
                i += 1
                if body.startswith("expect fail"):
                    ev.fail = body[len("expect fail") :].strip()
                    continue
                if body.startswith("expect warn"):
                    ev.warn = body[len("expect warn") :].strip()
                    continue
                if body.startswith("expect info"):
                    ev.info = body[len("expect info") :].strip()
                    continue
                if re.fullmatch(r"[-+]?([\d.eE+-]+|Inf|NaN)", body):
                    ev.expected.append((None, [_num(body)]))
                    continue
                m2 = _SERIES.match(body)
                assert m2, body
                ev.expected.append((parse_labels(m2.group("sel")), expand_values(m2.group("vals"))))
            cmds.append(ev)
        else:
            raise ValueError(f"line {i}: unknown command: {line}")
    return cmds


def load_into(store: MemoryStore, load: Load) -> None:
    items = []
    for lbls, vals in load.series:
        samples = [(k * load.interval, v) for k, v in enumerate(vals) if v is not None]
        items.append((lbls, samples))
    store.append(SampleBatch.from_series(items))


def _close(a: float, b: float, rel_tol: float = 1e-9) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    return abs(a - b) <= rel_tol * max(abs(a), abs(b))


def run_eval(engine: Engine, ev: Eval, rel_tol: float = 1e-9) -> str | None:
    """None if the evaluation matches its expectation, else a description of the mismatch."""
    try:
        if ev.instant:
            res = engine.instant(ev.expr, ev.start)
        else:
            res = engine.range(ev.expr, ev.start, ev.end, ev.step)
    except PromQLError as exc:
        if ev.fail is not None and re.search(ev.fail, str(exc)):
            return None
        return f"unexpected error: {exc}"
    if ev.fail is not None:
        return f"expected failure /{ev.fail}/, got {res.value}"
    if ev.warn is not None and not any(re.search(ev.warn, w) for w in res.warnings):
        return f"expected warning /{ev.warn}/, got {res.warnings}"
    if ev.info is not None and not any(re.search(ev.info, w) for w in res.infos):
        return f"expected info /{ev.info}/, got {res.infos}"
    got: list[tuple[tuple[tuple[str, str], ...] | None, list[float | None]]] = []
    v = res.value
    if isinstance(v, Scalar):
        got.append((None, [v.value]))
    elif isinstance(v, String):
        return "string results are not comparable"
    elif isinstance(v, Vector):
        got.extend((lb, [float(x)]) for lb, x in zip(v.labels, v.values.tolist(), strict=True))
    else:
        assert isinstance(v, Matrix)
        steps = (
            np.arange(ev.start, ev.end + 1, ev.step, dtype=np.int64)
            if not ev.instant
            else None
        )
        for i, lb in enumerate(v.labels):
            ts, vals = v.samples(i)
            if steps is None:
                got.append((lb, [float(x) for x in vals.tolist()]))
                continue
            row: list[float | None] = [None] * len(steps)
            pos = ((ts - ev.start) // ev.step).tolist()
            for p, x in zip(pos, vals.tolist(), strict=True):
                row[p] = float(x)
            got.append((None if lb == () and _scalar_expected(ev) else lb, row))
    return _compare(ev, got, rel_tol)


def _scalar_expected(ev: Eval) -> bool:
    return len(ev.expected) == 1 and ev.expected[0][0] is None


def _compare(
    ev: Eval,
    got: list[tuple[tuple[tuple[str, str], ...] | None, list[float | None]]],
    rel_tol: float = 1e-9,
) -> str | None:
    exp = ev.expected
    if not ev.ordered:
        def key(x: tuple[tuple[tuple[str, str], ...] | None, list[float | None]]) -> tuple[tuple[str, str], ...]:
            return x[0] or ()

        exp = sorted(exp, key=key)
        got = sorted(got, key=key)
    if len(exp) != len(got):
        return f"expected {len(exp)} series, got {len(got)}: {got}"
    for (el, ev_), (gl, gv) in zip(exp, got, strict=True):
        if (el or ()) != (gl or ()):
            return f"label mismatch: expected {el}, got {gl} (all: {got})"
        if len(ev_) != len(gv):
            return f"{el}: expected {ev_}, got {gv}"
        for a, b in zip(ev_, gv, strict=True):
            if (a is None) != (b is None) or (
                a is not None and b is not None and not _close(a, b, rel_tol)
            ):
                return f"{el}: expected {ev_}, got {gv}"
    return None


def run_file(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, expr, failure or None) for every eval in a file."""
    store = MemoryStore()
    engine = Engine(store)
    out: list[tuple[int, str, str | None]] = []
    for cmd in parse_file(path.read_text()):
        if isinstance(cmd, Load):
            load_into(store, cmd)
        elif isinstance(cmd, Clear):
            store = MemoryStore()
            engine = Engine(store)
        else:
            out.append((cmd.line, cmd.expr, run_eval(engine, cmd)))
    return out
