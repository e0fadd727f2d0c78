"""A rule group: its rules evaluated in order at one timestamp, results appended.

As in Prometheus, a later rule sees what earlier rules of the group recorded
at the same timestamp; a series a rule stops returning gets a staleness
marker; a failing rule is marked unhealthy and the others still run; alerts
go to the sink right after their rule is evaluated; and after a restart the
``for`` state of pending and firing alerts comes back from ``ALERTS_FOR_STATE``.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from kubesight.model import Matcher, MatchOp, SampleBatch
from kubesight.model.alerts import ALERT_NAME, Alert, AlertSink
from kubesight.model.labels import METRIC_NAME, Labels
from kubesight.model.samples import is_stale_nan, stale_nan
from kubesight.rules.files import GroupSpec
from kubesight.rules.rule import (
    ALERT_FOR_STATE_METRIC,
    AlertingRule,
    Health,
    RecordingRule,
    Rule,
    Sample,
    restore_active_at,
)
from kubesight.rules.template import QueryFunc
from kubesight.store.interface import Appender, Querier

log = logging.getLogger("kubesight.rules")


@dataclass
class GroupOptions:
    appender: Appender
    querier: Querier
    query: QueryFunc
    sink: AlertSink | None = None
    external_labels: dict[str, str] = field(default_factory=dict)
    external_url: str = ""
    resend_delay_ms: int = 60_000  # Prometheus' --rules.alert.resend-delay
    outage_tolerance_ms: int = 3_600_000  # --rules.alert.for-outage-tolerance
    for_grace_period_ms: int = 600_000  # --rules.alert.for-grace-period
    on_evaluated: Callable[[Group, Rule, bool], None] | None = None
    """Called after each rule (for self-metrics): the group, the rule, whether it failed."""


class Group:
    def __init__(self, spec: GroupSpec, interval_ms: int, query_offset_ms: int, opts: GroupOptions,
                 restored: bool) -> None:
        self.spec = spec
        self.interval_ms = spec.interval_ms or interval_ms
        self.query_offset_ms = spec.query_offset_ms if spec.query_offset_ms is not None else query_offset_ms
        self.opts = opts
        group_labels = dict(spec.labels)
        self.rules: list[Rule] = []
        for r in spec.rules:
            labels = tuple(sorted({**group_labels, **dict(r.labels)}.items()))
            if r.alert:
                self.rules.append(AlertingRule(r, labels, opts.external_labels, opts.external_url, restored))
            else:
                self.rules.append(RecordingRule(r, labels))
        self.should_restore = not restored
        self.evaluations = 0
        self.last_evaluation_ms = 0
        self.evaluation_seconds = 0.0
        self._previous: list[set[Labels]] = [set() for _ in self.rules]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def file(self) -> str:
        return self.spec.file

    @property
    def key(self) -> tuple[str, str]:
        return (self.spec.file, self.spec.name)

    def eval_timestamp(self, now_ms: int) -> int:
        """The latest aligned evaluation time at or before ``now_ms``.

        Groups are spread over their interval by a hash of file and name, as
        Prometheus does, so that they do not all query at once.
        """
        offset = zlib.crc32(f"{self.file};{self.name}".encode()) % self.interval_ms
        adj = now_ms - offset
        return adj - adj % self.interval_ms + offset

    def copy_state(self, old: Group) -> None:
        """Carry alerts and series over a reload, for rules of the same name and kind."""
        by_name: dict[tuple[str, bool], list[int]] = {}
        for i, r in enumerate(old.rules):
            by_name.setdefault((r.name, isinstance(r, AlertingRule)), []).append(i)
        for i, r in enumerate(self.rules):
            slots = by_name.get((r.name, isinstance(r, AlertingRule)))
            if not slots:
                continue
            j = slots.pop(0)
            o = old.rules[j]
            r.status = o.status
            self._previous[i] = old._previous[j]
            if isinstance(r, AlertingRule) and isinstance(o, AlertingRule):
                r.active = o.active
                r.restored = o.restored
        self.evaluations = old.evaluations
        self.last_evaluation_ms = old.last_evaluation_ms
        self.evaluation_seconds = old.evaluation_seconds
        self.should_restore = old.should_restore

    def eval(self, t_ms: int) -> None:
        """Evaluate every rule at ``t_ms`` (restoring 'for' state first if it is due)."""
        if self.should_restore and self.evaluations > 0:
            self.restore_for_state(t_ms)
            self.should_restore = False
        start = time.perf_counter()
        query_t = t_ms - self.query_offset_ms
        for i, rule in enumerate(self.rules):
            r_start = time.perf_counter()
            failed = False
            try:
                samples = rule.eval(query_t, self.opts.query, self.spec.limit)
            except Exception as exc:  # a failing rule never stops the others
                rule.status.health = Health.ERR
                rule.status.last_error = str(exc)
                failed = True
                log.warning("evaluating rule %s of group %s failed: %s", rule.name, self.name, exc)
            else:
                rule.status.health = Health.OK
                rule.status.last_error = ""
                if isinstance(rule, AlertingRule):
                    self._send(rule.alerts_to_send(t_ms, self.opts.resend_delay_ms, self.interval_ms))
                try:
                    self._append(i, rule, samples, query_t)
                except Exception as exc:  # the store refused (overloaded, closing): say so on the rule
                    rule.status.health = Health.ERR
                    rule.status.last_error = f"appending the results failed: {exc}"
                    log.warning("appending results of rule %s failed: %s", rule.name, exc)
                failed = rule.status.health is Health.ERR
            rule.status.last_evaluation_ms = t_ms
            rule.status.evaluation_seconds = time.perf_counter() - r_start
            if self.opts.on_evaluated is not None:
                self.opts.on_evaluated(self, rule, failed)
        self.evaluations += 1
        self.last_evaluation_ms = t_ms
        self.evaluation_seconds = time.perf_counter() - start

    def _send(self, alerts: list[Alert]) -> None:
        if alerts and self.opts.sink is not None:
            try:
                self.opts.sink.send(alerts)
            except Exception:
                log.exception("handing alerts of group %s to the sink failed", self.name)

    def _append(self, i: int, rule: Rule, samples: list[Sample], t_ms: int) -> None:
        returned = {lbls for lbls, _ in samples}
        gone = sorted(self._previous[i] - returned)
        series = [lbls for lbls, _ in samples] + gone
        values = [v for _, v in samples] + [stale_nan()] * len(gone)
        self._previous[i] = returned
        if not series:
            return
        batch = SampleBatch(
            series, np.arange(len(series), dtype=np.int32),
            np.full(len(series), t_ms, dtype=np.int64), np.asarray(values, dtype=np.float64),
        )
        res = self.opts.appender.append(batch)
        if res.errors or res.samples_rejected:
            rule.status.health = Health.ERR
            rule.status.last_error = "; ".join(res.errors) or f"{res.samples_rejected} samples rejected"

    def stale_all(self, t_ms: int) -> None:
        """Mark every series of this group stale (the group was removed)."""
        for i, rule in enumerate(self.rules):
            self._append(i, rule, [], t_ms)

    def restore_for_state(self, now_ms: int) -> None:
        """Prometheus' RestoreForState: resume the 'for' clock of alerts active before a restart."""
        mint = now_ms - self.opts.outage_tolerance_ms
        grace = self.opts.for_grace_period_ms
        for rule in self.rules:
            if not isinstance(rule, AlertingRule):
                continue
            hold = rule.spec.for_ms
            if hold < grace:
                rule.restored = True
                continue
            for alert in rule.active.values():
                matchers = [Matcher(METRIC_NAME, MatchOp.EQ, ALERT_FOR_STATE_METRIC)]
                matchers += [Matcher(k, MatchOp.EQ, v) for k, v in alert.labels]
                data = self.opts.querier.select(matchers, mint, now_ms)
                want = tuple(sorted((*alert.labels, (METRIC_NAME, ALERT_FOR_STATE_METRIC))))
                for j, lbls in enumerate(data.labels):
                    if lbls != want:
                        continue
                    ts, vs = data.samples(j)
                    if len(ts) == 0 or bool(is_stale_nan(vs[-1:])[0]):
                        break
                    down_at = int(ts[-1]) // 1000 * 1000
                    active_at = int(vs[-1]) * 1000
                    alert.active_at_ms = restore_active_at(active_at, down_at, now_ms, hold, grace)
                    log.debug("restored 'for' state of %s %s", rule.name, dict(alert.labels).get(ALERT_NAME))
                    break
            rule.restored = True
