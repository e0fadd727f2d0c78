"""``/api/v1/rules`` and ``/api/v1/alerts``, in Prometheus' JSON shape.

Filters of ``/api/v1/rules``: ``type=alert|record``, ``rule_name[]``,
``rule_group[]``, ``file[]``, ``match[]`` (selectors on the rules' configured
labels), ``exclude_alerts=true``, and ``group_limit`` with
``group_next_token`` to page through groups.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kubesight.api.envelope import ApiError, Params, bad_data, error, parse_selector, success
from kubesight.rules.group import Group
from kubesight.rules.rule import ActiveAlert, AlertingRule, State, query_string
from kubesight.wire.gotemplate import format_float

_ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: never evaluated


class RuleGroups(Protocol):
    """What the API needs of the rule manager: its groups."""

    @property
    def groups(self) -> Sequence[Group]: ...


def _time(ms: int) -> str:
    """Go's time.Time JSON (RFC 3339 with nanoseconds, trailing zeros dropped)."""
    if not ms:
        return _ZERO_TIME
    whole, frac = divmod(ms, 1000)
    s = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        s += "." + f"{frac:03d}".rstrip("0")
    return s + "Z"


def _value(v: float) -> str:
    """strconv.FormatFloat(v, 'e', -1, 64)."""
    if math.isnan(v):
        return "NaN"
    return format_float(v, "e", -1)


def _alert(a: ActiveAlert) -> dict[str, Any]:
    out: dict[str, Any] = {
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        "state": a.state.value,
        "activeAt": _time(a.active_at_ms),
    }
    if a.keep_firing_since_ms:
        out["keepFiringSince"] = _time(a.keep_firing_since_ms)
    out["value"] = _value(a.value)
    return out


def _active(rule: AlertingRule) -> list[ActiveAlert]:
    """Alerts not yet resolved (Prometheus' ActiveAlerts), in label order."""
    return sorted((a for a in rule.active.values() if not a.resolved_at_ms), key=lambda a: a.labels)


def routes(manager: RuleGroups) -> list[Route]:
    async def rules(request: Request) -> Response:
        try:
            p = await Params.of(request)
            typ = (p.get("type") or "").lower()
            if typ not in ("", "alert", "record"):
                raise bad_data(f"invalid query parameter type='{p.get('type')}'")
            names = set(p.getlist("rule_name[]"))
            groups_f = set(p.getlist("rule_group[]"))
            files = set(p.getlist("file[]"))
            exclude = (p.get("exclude_alerts") or "false").lower()
            if exclude not in ("true", "false", "1", "0", "t", "f"):
                raise bad_data(f"invalid parameter exclude_alerts: parsing {exclude!r}: invalid syntax")
            exclude_alerts = exclude in ("true", "1", "t")
            limit = _int(p.get("group_limit"), "group_limit")
            matcher_sets = [parse_selector(m) for m in p.getlist("match[]")]
            token = p.get("group_next_token") or ""
        except ApiError as exc:
            return error(exc)
        filtered = bool(typ or names or matcher_sets)
        out: list[dict[str, Any]] = []
        next_token = ""
        started = not token
        for g in manager.groups:
            if (groups_f and g.name not in groups_f) or (files and g.file not in files):
                continue
            key = f"{g.file};{g.name}"
            if not started:
                started = key == token
                if not started:
                    continue
            rules_json = []
            for r in g.rules:
                if names and r.name not in names:
                    continue
                if matcher_sets and not any(
                    all(m.matches_labels(r.labels) for m in ms) for sets in matcher_sets for ms in sets
                ):
                    continue
                st = r.status
                common = {"health": st.health.value, "lastError": st.last_error,
                          "evaluationTime": st.evaluation_seconds, "lastEvaluation": _time(st.last_evaluation_ms)}
                if not common["lastError"]:
                    del common["lastError"]
                if isinstance(r, AlertingRule):
                    if typ == "record":
                        continue
                    item: dict[str, Any] = {
                        "state": r.state.value, "name": r.name, "query": query_string(r.spec.expr),
                        "duration": r.spec.for_ms / 1000, "keepFiringFor": r.spec.keep_firing_for_ms / 1000,
                        "labels": dict(r.labels), "annotations": dict(r.spec.annotations),
                    }
                    if not exclude_alerts:
                        item["alerts"] = [_alert(a) for a in _active(r)]
                    item.update(common)
                    item["type"] = "alerting"
                else:
                    if typ == "alert":
                        continue
                    item = {"name": r.name, "query": query_string(r.spec.expr)}
                    if r.labels:
                        item["labels"] = dict(r.labels)
                    item.update(common)
                    item["type"] = "recording"
                rules_json.append(item)
            if filtered and not rules_json:
                continue
            if limit and len(out) == limit:
                next_token = key
                break
            out.append({
                "name": g.name, "file": g.file, "rules": rules_json, "interval": g.interval_ms / 1000,
                "limit": g.spec.limit, "evaluationTime": g.evaluation_seconds,
                "lastEvaluation": _time(g.last_evaluation_ms),
            })
        if token and not started:
            return error(bad_data("invalid group_next_token parameter"))
        data: dict[str, Any] = {"groups": out}
        if next_token:
            data["groupNextToken"] = next_token
        return success(data)

    async def alerts(request: Request) -> Response:
        items = [
            _alert(a)
            for g in manager.groups
            for r in g.rules
            if isinstance(r, AlertingRule)
            for a in _active(r)
            if a.state is not State.INACTIVE or a.keep_firing_since_ms
        ]
        return success({"alerts": items})

    return [
        Route("/api/v1/rules", rules, methods=["GET", "POST"]),
        Route("/api/v1/alerts", alerts, methods=["GET", "POST"]),
    ]


def _int(v: str | None, name: str) -> int:
    if v is None or v == "":
        return 0
    try:
        n = int(v)
    except ValueError:
        raise bad_data(f'invalid parameter "{name}": cannot parse {v!r} to an integer') from None
    if n < 0:
        raise bad_data(f'invalid parameter "{name}": must be non-negative')
    return n
