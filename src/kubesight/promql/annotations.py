"""Prometheus 3.x's annotations (warnings and infos) for what a query met.

Worded as Prometheus words them and, where it can be found, with the
``(line:col)`` of the expression they are about: promql-parser exposes no
positions, so :mod:`.positions` re-lexes the query; where one query has
several candidates, the position is left out rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from kubesight.model import METRIC_NAME, Labels
from kubesight.model.samples import I64
from kubesight.promql import functions, positions
from kubesight.promql.fmt import format_go_g
from kubesight.promql.types import SVal

SORT_FUNCTIONS = frozenset({"sort", "sort_desc", "sort_by_label", "sort_by_label_desc"})


@dataclass
class _Monotonicity:
    """histogram_quantile's forced-monotonicity info, merged as Prometheus merges it."""

    pos: str
    count: int = 0
    min_ts: int = 2**63 - 1
    max_ts: int = -(2**63)
    min_bucket: float = float("inf")
    max_bucket: float = float("-inf")
    max_diff: float = 0.0


def _rfc3339(t_ms: int) -> str:
    # Go: time.Unix(ms/1000, 0).UTC().Format(time.RFC3339); the division truncates toward zero.
    secs = int(t_ms / 1000) if t_ms < 0 else t_ms // 1000
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _selector_position(query: str, name: str) -> str:
    """`` (line:col)`` of the selector of ``name`` in the query, as annotations show it.

    promql-parser does not expose positions; the first occurrence of the name
    followed by a selector's ``{`` or ``[`` is where Prometheus points.
    """
    for m in re.finditer(re.escape(name), query):
        rest = query[m.end() :].lstrip()
        before = query[m.start() - 1] if m.start() else " "
        if rest[:1] in ("{", "[") and not (before.isalnum() or before in "_:"):
            line = query.count("\n", 0, m.start()) + 1
            col = m.start() - (query.rfind("\n", 0, m.start()) + 1) + 1
            return f" ({line}:{col})"
    return ""


@dataclass
class Annotator:
    """Collects one query's annotations into its ``warnings`` and ``infos``."""

    query: str
    warnings: list[str]
    infos: list[str]
    sort_calls: int = 0
    sort_positions: list[str] | None = None
    monotonicity: _Monotonicity | None = field(default=None)

    def quantile(self, q: SVal, where: str = "") -> None:
        """``where``: the aggregation or function whose quantile argument to point at."""
        bad = q.values[(q.values < 0) | (q.values > 1) | np.isnan(q.values)]
        if bad.size:
            pos = ""
            if where:
                found = (
                    positions.aggregation_param_positions(self.query, where)
                    if where == "quantile"
                    else positions.first_argument_positions(self.query, where)
                )
                # promql-parser gives no positions: point only when there is one such call.
                pos = found[0] if len(found) == 1 else ""
            msg = (
                "PromQL warning: quantile value should be between 0 and 1, got "
                f"{format_go_g(float(bad[0]))}{pos}"
            )
            if msg not in self.warnings:
                self.warnings.append(msg)

    def fixups(self, f: functions.Fixups, times: I64, arg: int, name: str = "histogram_quantile") -> None:
        """Merge one call's monotonicity fix-ups into the query's single info (see :meth:`finish`)."""
        hit = f.count > 0
        if not hit.any():
            return
        m = self.monotonicity
        if m is None:
            where = positions.argument_positions(self.query, name, arg)
            # promql-parser gives no positions: point only when the query has one such call.
            m = self.monotonicity = _Monotonicity(pos=where[0] if len(where) == 1 else "")
        m.count += int(f.count.sum())
        m.min_ts = min(m.min_ts, int(times[hit].min()))
        m.max_ts = max(m.max_ts, int(times[hit].max()))
        m.min_bucket = min(m.min_bucket, f.min_bucket)
        m.max_bucket = max(m.max_bucket, f.max_bucket)
        m.max_diff = max(m.max_diff, f.max_diff)

    def buckets(self, warns: list[str], name: str, arg: int) -> None:
        """Malformed-le warnings, positioned at the function's bucket argument."""
        if not warns:
            return
        where = positions.argument_positions(self.query, name, arg)
        # promql-parser gives no positions: point only when the query has one such call.
        pos = where[0] if len(where) == 1 else ""
        for w in warns:
            if w + pos not in self.warnings:
                self.warnings.append(w + pos)

    def finish(self) -> None:
        """Annotations merged over the whole evaluation, added once it is done."""
        m = self.monotonicity
        if m is not None:
            self.infos.append(
                "PromQL info: input to histogram_quantile needed to be fixed for monotonicity "
                "(see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile), "
                f"from buckets {format_go_g(m.min_bucket)} to {format_go_g(m.max_bucket)}, "
                f"with a max diff of {format_go_g(m.max_diff, 2)}, over {m.count} samples "
                f"from {_rfc3339(m.min_ts)} to {_rfc3339(m.max_ts)}{m.pos}"
            )

    def sort(self, steps: int) -> None:
        """Prometheus 3.x warns of a sort evaluated over more than one step.

        Calls are entered in pre-order, which is their order in the text, so
        the n-th sort call entered is the n-th one written.
        """
        n = self.sort_calls
        self.sort_calls += 1
        if steps <= 1:
            return
        if self.sort_positions is None:
            self.sort_positions = positions.call_positions(self.query, SORT_FUNCTIONS)
        pos = self.sort_positions[n] if n < len(self.sort_positions) else ""
        msg = (
            "PromQL warning: sort is ineffective for range queries since results are "
            f"always ordered by labels{pos}"
        )
        if msg not in self.warnings:
            self.warnings.append(msg)

    def ratio(self, r: SVal) -> None:
        """limit_ratio's capping warnings (none when it fails on NaN or keeps nothing)."""
        v = r.values
        if np.isnan(v).any() or (v == 0).all():
            return
        where = positions.aggregation_param_positions(self.query, "limit_ratio")
        # promql-parser gives no positions: point only when the query has one limit_ratio.
        pos = where[0] if len(where) == 1 else ""
        for bad, to in ((float(v.max()), 1.0), (float(v.min()), -1.0)):
            if (to > 0 and bad > to) or (to < 0 and bad < to):
                msg = (
                    "PromQL warning: ratio value should be between -1 and 1, got "
                    f"{format_go_g(bad)}, capping to {format_go_g(to)}{pos}"
                )
                if msg not in self.warnings:
                    self.warnings.append(msg)

    def not_counter(self, labels: list[Labels], ok: Any) -> None:
        """Prometheus' info when rate/increase run over a name that is not a counter's."""
        for lb, has in zip(labels, ok.any(axis=1).tolist(), strict=True):
            name = dict(lb).get(METRIC_NAME, "")
            if not name or not has or name.endswith(("_total", "_sum", "_count", "_bucket")):
                continue
            msg = (
                "PromQL info: metric might not be a counter, name does not end in "
                f'_total/_sum/_count/_bucket: "{name}"{_selector_position(self.query, name)}'
            )
            if msg not in self.infos:
                self.infos.append(msg)
