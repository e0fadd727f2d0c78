"""The rule manager: loads rule files, runs every group on its interval, reloads.

Time comes from an injected clock and an injected sleep, so a test drives the
schedule without waiting; :meth:`RuleManager.run_due` evaluates whatever is
due at the clock's current time and is what the background task calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubesight.model.alerts import AlertSink
from kubesight.model.instrument import Registry
from kubesight.promql import Engine, Scalar, Vector
from kubesight.rules.files import GroupSpec, load_rule_files
from kubesight.rules.group import Group, GroupOptions
from kubesight.rules.rule import AlertingRule, Rule, RuleError
from kubesight.rules.template import QueryFunc
from kubesight.store.interface import Appender, Querier

log = logging.getLogger("kubesight.rules")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def engine_query_func(engine: Engine) -> QueryFunc:
    """Rules query through PromQL: a vector as is, a scalar as one sample without labels."""

    def query(expr: str, t_ms: int) -> list[tuple[tuple[tuple[str, str], ...], float]]:
        res = engine.instant(expr, t_ms)
        v = res.value
        if isinstance(v, Vector):
            return list(zip(v.labels, v.values.tolist(), strict=True))
        if isinstance(v, Scalar):
            return [((), v.value)]
        raise RuleError("rule result is not a vector or scalar")

    return query


@dataclass
class RuleManagerOptions:
    appender: Appender
    querier: Querier
    query: QueryFunc
    sink: AlertSink | None = None
    evaluation_interval_ms: int = 60_000  # Prometheus' default global evaluation_interval
    rule_query_offset_ms: int = 0
    external_labels: dict[str, str] = field(default_factory=dict)
    external_url: str = ""
    resend_delay_ms: int = 60_000
    outage_tolerance_ms: int = 3_600_000
    for_grace_period_ms: int = 600_000
    restore: bool = True
    """Restore 'for' state from ALERTS_FOR_STATE on the first load (False: start afresh)."""
    clock: Clock = time.time
    sleep: Sleep = asyncio.sleep
    registry: Registry | None = None


class RuleManager:
    def __init__(self, opts: RuleManagerOptions) -> None:
        self.opts = opts
        self.groups: list[Group] = []
        self._next: dict[tuple[str, str], int] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._loaded_once = False
        self._lock = asyncio.Lock()
        reg = opts.registry
        self._evals = reg.counter("kubesight_rule_evaluations_total",
                                  "Rule evaluations, by group.", ["rule_group"]) if reg else None
        self._fails = reg.counter("kubesight_rule_evaluation_failures_total",
                                  "Rule evaluations that failed, by group.", ["rule_group"]) if reg else None
        if reg is not None:
            reg.gauge("kubesight_rule_groups", "Rule groups loaded.", lambda: float(len(self.groups)))

    # -- loading ---------------------------------------------------------------
    def _group_options(self) -> GroupOptions:
        o = self.opts
        return GroupOptions(
            o.appender, o.querier, o.query, o.sink, dict(o.external_labels), o.external_url,
            o.resend_delay_ms, o.outage_tolerance_ms, o.for_grace_period_ms, self._on_evaluated,
        )

    def _on_evaluated(self, group: Group, rule: Rule, failed: bool) -> None:
        name = f"{group.file};{group.name}"
        if self._evals is not None:
            self._evals.inc(1.0, name)
        if failed and self._fails is not None:
            self._fails.inc(1.0, name)

    def reload(self, files: Sequence[str | Path], extra: Sequence[GroupSpec] = ()) -> None:
        """Load rule files (already glob-expanded) plus ``extra`` groups (the defaults, PrometheusRule
        objects); on error the running groups stay (raises RuleFileError)."""
        self.update([*extra, *load_rule_files(files)])

    async def reload_async(self, files: Sequence[str | Path], extra: Sequence[GroupSpec] = ()) -> None:
        """:meth:`reload`, never while an evaluation is running (use this from the event loop)."""
        async with self._lock:
            self.reload(files, extra)

    def update(self, specs: Iterable[GroupSpec]) -> None:
        """Replace the groups, carrying state over for groups of the same file and name."""
        restored = self._loaded_once or not self.opts.restore
        opts = self._group_options()
        new = [Group(s, self.opts.evaluation_interval_ms, self.opts.rule_query_offset_ms, opts, restored)
               for s in specs]
        old = {g.key: g for g in self.groups}
        now_ms = int(self.opts.clock() * 1000)
        for g in new:
            prev = old.pop(g.key, None)
            if prev is not None:
                g.copy_state(prev)
        for g in old.values():  # removed groups: their series go stale now
            try:
                g.stale_all(now_ms)
            except Exception:
                log.exception("marking the series of removed group %s stale failed", g.name)
        self.groups = new
        self._loaded_once = True
        self._next = {g.key: self._next.get(g.key, g.eval_timestamp(now_ms) + g.interval_ms)
                      for g in new}
        for g in new:
            if g.evaluations == 0:
                self._next[g.key] = g.eval_timestamp(now_ms) + g.interval_ms
        self._wake.set()
        log.info("loaded %d rule groups with %d rules", len(new), sum(len(g.rules) for g in new))

    # -- running ---------------------------------------------------------------
    def run_due(self) -> float:
        """Evaluate every group whose time has come; return seconds until the next one is due.

        A group that fell behind skips the evaluations it missed, as Prometheus does.
        """
        now_ms = int(self.opts.clock() * 1000)
        for g in list(self.groups):
            due = self._next.get(g.key)
            if due is None or due > now_ms:
                continue
            missed = (now_ms - due) // g.interval_ms
            t = due + missed * g.interval_ms
            if missed:
                log.warning("rule group %s missed %d evaluations", g.name, missed)
            g.eval(t)
            self._next[g.key] = t + g.interval_ms
        if not self._next:
            return 3600.0
        return max(0.0, (min(self._next.values()) - now_ms) / 1000)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                async with self._lock:
                    delay = await asyncio.to_thread(self.run_due)
            except Exception:
                log.exception("rule evaluation failed; retrying")
                delay = 1.0
            sleeper = asyncio.ensure_future(self.opts.sleep(delay))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()

    # -- reading ---------------------------------------------------------------
    def alerting_rules(self) -> list[AlertingRule]:
        return [r for g in self.groups for r in g.rules if isinstance(r, AlertingRule)]
