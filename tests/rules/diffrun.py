"""The kubesight side of the differential rule tests: promtool's input notation into a
MemoryStore, rules evaluated on promtool's schedule, the same instant queries answered."""

from __future__ import annotations

import math
import re

from kubesight.model import SampleBatch
from kubesight.model.labels import labels_from_dict
from kubesight.model.samples import stale_nan
from kubesight.promql import Engine, Vector
from kubesight.rules import GroupSpec, RuleManager, RuleManagerOptions, engine_query_func
from kubesight.store.memory import MemoryStore
from tests.rules.promtool import Vec


def expand_values(text: str) -> list[float | None]:
    """promtool's expanding notation: ``1+2x3``, ``5x2``, ``_``, ``_x3``, ``stale``."""
    out: list[float | None] = []
    for item in text.split():
        if item == "stale":
            out.append(stale_nan())
            continue
        m = re.fullmatch(r"(_|[-+]?[0-9.e]+)(?:([-+])([0-9.e]+))?(?:x(\d+))?", item)
        assert m, item
        start, sign, step, times = m.groups()
        n = int(times) if times else 0
        if start == "_":
            out.extend([None] * (n if times else 1))  # "_x3" is three gaps, "1x3" four values
            continue
        s = float(start)
        d = float(step or 0) * (-1 if sign == "-" else 1)
        out.extend(s + d * k for k in range(n + 1))
    return out


def parse_series(text: str) -> dict[str, str]:
    name, _, rest = text.partition("{")
    labels = dict(re.findall(r'([\w]+)="([^"]*)"', rest))
    labels["__name__"] = name
    return labels


def load_series(store: MemoryStore, series: list[tuple[str, str]], input_s: int) -> None:
    items = []
    for s, v in series:
        samples = [(k * input_s * 1000, x) for k, x in enumerate(expand_values(v)) if x is not None]
        items.append((labels_from_dict(parse_series(s)), samples))
    store.append(SampleBatch.from_series(items))


def run_kubesight(
    groups: list[GroupSpec], series: list[tuple[str, str]], queries: list[str], times_s: list[int],
    eval_s: int = 60, input_s: int = 60,
) -> dict[tuple[str, int], Vec]:
    """Evaluate every group at every multiple of ``eval_s`` (as promtool does) and answer
    ``queries`` at each of ``times_s``."""
    store = MemoryStore()
    load_series(store, series, input_s)
    engine = Engine(store)
    mgr = RuleManager(RuleManagerOptions(
        appender=store, querier=store, query=engine_query_func(engine), restore=False, clock=lambda: 0.0,
    ))
    mgr.update(groups)
    out: dict[tuple[str, int], Vec] = {}
    for t in range(0, max(times_s) + 1, eval_s):
        for g in mgr.groups:
            g.eval(t * 1000)
        if t in times_s:
            for q in queries:
                res = engine.instant(q, t * 1000).value
                assert isinstance(res, Vector)
                out[(q, t)] = {frozenset(lb): v for lb, v in zip(res.labels, res.values.tolist(), strict=True)}
    health = [(g.name, r.name, r.status.last_error) for g in mgr.groups for r in g.rules if r.status.last_error]
    assert not health, health
    return out


def differences(prom: dict[tuple[str, int], Vec], ours: dict[tuple[str, int], Vec]) -> list[str]:
    diffs = []
    for key in sorted(prom, key=lambda k: (k[1], k[0])):
        p, o = prom[key], ours[key]
        bad_p = {_show(k): p[k] for k in p if k not in o or not _close(p[k], o[k])}
        bad_o = {_show(k): o[k] for k in o if k not in p or not _close(p[k], o[k])}
        if bad_p or bad_o:
            diffs.append(f"t={key[1]}s {key[0][:12]}: prometheus {bad_p} kubesight {bad_o}")
    return diffs


def _close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _show(k: frozenset[tuple[str, str]]) -> str:
    return ",".join(f"{a}={b}" for a, b in sorted(k))
