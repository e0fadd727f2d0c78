"""Recording and alerting rules: one evaluation each, as Prometheus' ``rules`` package does it.

A rule gets a :data:`QueryFunc` (an instant query) and the evaluation time
and returns the samples to append. An alerting rule also keeps its alerts
between evaluations: ``inactive`` -> ``pending`` (the expression returns the
series) -> ``firing`` (after ``for``) -> resolved (gone for longer than
``keep_firing_for``), kept 15 minutes after resolving so receivers hear of
it. Its samples are the ``ALERTS`` and ``ALERTS_FOR_STATE`` series.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from kubesight.errors import KubesightError
from kubesight.model.alerts import ALERT_NAME, Alert
from kubesight.model.labels import METRIC_NAME, Labels
from kubesight.promql import parse
from kubesight.rules.files import RuleSpec
from kubesight.rules.template import QueryFunc, expand_alert_text

Sample = tuple[Labels, float]
ALERT_METRIC = "ALERTS"
ALERT_FOR_STATE_METRIC = "ALERTS_FOR_STATE"
ALERT_STATE = "alertstate"
RESOLVED_RETENTION_MS = 15 * 60_000  # Prometheus keeps resolved alerts 15m to tell Alertmanager


class RuleError(KubesightError):
    """An evaluation failed (the query, duplicate series, the limit)."""


class Health(StrEnum):
    UNKNOWN = "unknown"
    OK = "ok"
    ERR = "err"


class State(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"


@dataclass
class ActiveAlert:
    labels: Labels
    annotations: Labels
    value: float
    active_at_ms: int
    state: State = State.PENDING
    fired_at_ms: int = 0
    resolved_at_ms: int = 0
    last_sent_ms: int = 0
    valid_until_ms: int = 0
    keep_firing_since_ms: int = 0

    def needs_sending(self, now_ms: int, resend_delay_ms: int) -> bool:
        if self.state is State.PENDING:
            return False
        if self.resolved_at_ms > self.last_sent_ms:
            return True
        return self.last_sent_ms + resend_delay_ms < now_ms


def _with(labels: Labels, sets: Mapping[str, str], drop: Sequence[str] = ()) -> Labels:
    d = {k: v for k, v in labels if k not in drop}
    for k, v in sets.items():
        if v == "":
            d.pop(k, None)
        else:
            d[k] = v
    return tuple(sorted(d.items()))


@dataclass
class RuleStatus:
    health: Health = Health.UNKNOWN
    last_error: str = ""
    last_evaluation_ms: int = 0
    evaluation_seconds: float = 0.0


@dataclass
class RecordingRule:
    spec: RuleSpec
    labels: Labels = ()  # group labels merged with the rule's own
    status: RuleStatus = field(default_factory=RuleStatus)

    @property
    def name(self) -> str:
        return self.spec.name

    def eval(self, t_ms: int, query: QueryFunc, limit: int) -> list[Sample]:
        vector = query(self.spec.expr, t_ms)
        sets = {METRIC_NAME: self.name, **dict(self.labels)}
        out = [(_with(lbls, sets), v) for lbls, v in vector]
        if len({lbls for lbls, _ in out}) != len(out):
            raise RuleError("vector contains metrics with the same labelset after applying rule labels")
        if limit > 0 and len(out) > limit:
            raise RuleError(f"exceeded limit {limit} with {len(out)} series")
        return out


@dataclass
class AlertingRule:
    spec: RuleSpec
    labels: Labels = ()  # group labels merged with the rule's own (templates)
    external_labels: Mapping[str, str] = field(default_factory=dict)
    external_url: str = ""
    restored: bool = False
    """ALERTS series are written only once 'for' state has been restored (or needs none)."""
    status: RuleStatus = field(default_factory=RuleStatus)
    active: dict[Labels, ActiveAlert] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def state(self) -> State:
        states = {a.state for a in self.active.values()}
        if State.FIRING in states:
            return State.FIRING
        if State.PENDING in states:
            return State.PENDING
        return State.INACTIVE

    def eval(self, t_ms: int, query: QueryFunc, limit: int) -> list[Sample]:
        vector = query(self.spec.expr, t_ms)
        found: dict[Labels, ActiveAlert] = {}
        for lbls, value in vector:
            lmap = dict(lbls)

            def expand(text: str, lmap: dict[str, str] = lmap, value: float = value) -> str:
                return expand_alert_text(
                    text, self.name, lmap, value, external_labels=self.external_labels,
                    external_url=self.external_url, query=query, time_ms=t_ms,
                )

            sets = {k: expand(v) for k, v in self.labels}
            sets[ALERT_NAME] = self.name
            alert_labels = _with(lbls, sets, drop=(METRIC_NAME,))
            annotations = tuple((k, expand(v)) for k, v in self.spec.annotations)
            if alert_labels in found:
                raise RuleError("vector contains metrics with the same labelset after applying alert labels")
            found[alert_labels] = ActiveAlert(alert_labels, annotations, value, t_ms)
        for key, new in found.items():
            old = self.active.get(key)
            if old is not None and old.state is not State.INACTIVE:
                old.value = new.value
                old.annotations = new.annotations
                continue
            self.active[key] = new
        out: list[Sample] = []
        n_active = 0
        hold = self.spec.for_ms
        keep_for = self.spec.keep_firing_for_ms
        for key, a in list(self.active.items()):
            if key not in found:
                keep_firing = False
                if a.state is State.FIRING and keep_for > 0:
                    if a.keep_firing_since_ms == 0:
                        a.keep_firing_since_ms = t_ms
                    keep_firing = t_ms - a.keep_firing_since_ms < keep_for
                if a.state is State.PENDING or (
                    a.resolved_at_ms and t_ms - a.resolved_at_ms > RESOLVED_RETENTION_MS
                ):
                    del self.active[key]
                if a.state is not State.INACTIVE and not keep_firing:
                    a.state = State.INACTIVE
                    a.resolved_at_ms = t_ms
                if not keep_firing:
                    continue
            else:
                a.keep_firing_since_ms = 0
            n_active += 1
            if a.state is State.PENDING and t_ms - a.active_at_ms >= hold:
                a.state = State.FIRING
                a.fired_at_ms = t_ms
            if self.restored:
                out.append((_with(a.labels, {METRIC_NAME: ALERT_METRIC, ALERT_STATE: a.state.value}), 1.0))
                out.append((_with(a.labels, {METRIC_NAME: ALERT_FOR_STATE_METRIC}),
                            float(a.active_at_ms // 1000)))
        if limit > 0 and n_active > limit:
            self.active.clear()
            raise RuleError(f"exceeded limit of {limit} with {n_active} alerts")
        return out

    def alerts_to_send(self, t_ms: int, resend_delay_ms: int, interval_ms: int) -> list[Alert]:
        """Prometheus' sendAlerts: firing alerts every resend delay, resolved ones until forgotten."""
        out: list[Alert] = []
        delta = max(resend_delay_ms, interval_ms)
        url = self.external_url.rstrip("/") + table_link(query_string(self.spec.expr))
        for a in self.active.values():
            if not a.needs_sending(t_ms, resend_delay_ms):
                continue
            a.last_sent_ms = t_ms
            a.valid_until_ms = t_ms + 4 * delta  # survives two missed evaluations or sends
            ends = a.resolved_at_ms or a.valid_until_ms
            out.append(Alert(a.labels, a.annotations, a.fired_at_ms / 1000, ends / 1000, url))
        return out


@lru_cache(maxsize=4096)
def query_string(expr: str) -> str:
    """The expression as Prometheus prints a rule's query (its String(): ``sum by (job) (up)``)."""
    try:
        text: str = parse(expr).prettify()
    except Exception:  # validated at load; keep the text as written if printing fails
        return expr.strip()
    # the prettifier splits long expressions over lines; String() never does
    return text if "\n" not in text else " ".join(expr.split())


def table_link(expr: str) -> str:
    return f"/graph?g0.expr={urllib.parse.quote_plus(expr, safe='')}&g0.tab=1"


def restore_active_at(
    active_at_ms: int, down_at_ms: int, now_ms: int, hold_ms: int, grace_ms: int
) -> int:
    """Prometheus' RestoreForState: the ``ActiveAt`` to resume a pending alert with after a restart."""
    remaining = hold_ms - (down_at_ms - active_at_ms)
    if remaining <= 0:
        return active_at_ms  # it was firing: it fires again at once if still true
    if remaining < grace_ms:
        return now_ms + grace_ms - hold_ms  # fires after the grace period, not sooner
    return active_at_ms + (now_ms - down_at_ms)  # the downtime does not count as pending


Rule = RecordingRule | AlertingRule
RuleFactory = Callable[[RuleSpec], Rule]


def finite(v: float) -> bool:
    return not (math.isnan(v) or math.isinf(v))
