"""The Alertmanager v2 API over the built-in notifier, in Alertmanager's JSON shapes.

``/api/v2/alerts`` (GET with ``filter``, ``receiver``, ``active``, ``silenced``,
``inhibited``, ``unprocessed``; POST as Prometheus and amtool send),
``/api/v2/alerts/groups``, ``/api/v2/silences`` (GET, POST),
``/api/v2/silence/{id}`` (GET, DELETE), ``/api/v2/status`` and
``/api/v2/receivers``. Errors are answered as go-swagger answers them: a JSON
string with the message, and status 400, 404 or 500.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kubesight.errors import KubesightError, ValidationError
from kubesight.model.alerts import Alert
from kubesight.model.labels import labels_from_pairs
from kubesight.model.matchers import Matcher
from kubesight.notify.alertstore import StoredAlert
from kubesight.notify.labels import compare_labels, parse_matchers
from kubesight.notify.notifier import Notifier
from kubesight.notify.payload import api_time, sort_alerts
from kubesight.notify.silences import (
    Silence,
    SilenceNotFoundError,
    matcher_from_json,
    matcher_to_json,
)

# The Alertmanager release whose API this implements; clients read it from /api/v2/status.
ALERTMANAGER_API_VERSION = "0.25.0"
_FRACTION = re.compile(r"\.(\d+)")


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _error(message: str, status: int) -> Response:
    return _json(message, status)


def parse_time(value: Any, field: str) -> float:
    """RFC 3339 (fractions up to nanoseconds, any offset) to Unix seconds; "" or absent is 0."""
    if value in (None, ""):
        return 0.0
    if not isinstance(value, str):
        raise ValidationError(f"{field}: expected an RFC 3339 time string")
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.strip(), count=1)
    try:
        dt = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValidationError(f"{field}: {value!r} is not an RFC 3339 time") from None
    if dt.tzinfo is None:
        raise ValidationError(f"{field}: {value!r} has no time zone")
    if dt.year <= 1:
        return 0.0  # Go's zero time means "unset"
    return dt.timestamp()


def _str_map(raw: Any, field: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValidationError(f"{field}: expected an object of strings")
    return {str(k): v for k, v in raw.items()}


def _bool_param(request: Request, name: str, default: bool = True) -> bool:
    v = request.query_params.get(name)
    if v is None:
        return default
    if v.lower() not in ("true", "false"):
        raise ValidationError(f"{name}: {v!r} is not a boolean")
    return v.lower() == "true"


def _filters(request: Request) -> list[Matcher]:
    out: list[Matcher] = []
    for f in request.query_params.getlist("filter"):
        out.extend(parse_matchers(f))
    return out


def _receiver_filter(request: Request) -> re.Pattern[str] | None:
    v = request.query_params.get("receiver")
    if not v:
        return None
    try:
        return re.compile(f"^(?:{v})$")
    except re.error as exc:
        raise ValidationError(f"failed to parse receiver param: {exc}") from None


def routes(notifier: Notifier) -> list[Route]:
    """The Alertmanager v2 routes serving ``notifier``."""

    def status_of(a: StoredAlert, now: float) -> dict[str, Any]:
        silenced = notifier.silenced_by(a.labels, now)
        inhibited = notifier.inhibited_by(a.labels, now)
        return {"inhibitedBy": inhibited, "silencedBy": silenced,
                "state": "suppressed" if silenced or inhibited else "active"}

    def gettable(a: StoredAlert, st: Mapping[str, Any], receivers: list[str]) -> dict[str, Any]:
        out = {
            "annotations": dict(sorted(a.annotations.items())),
            "endsAt": api_time(a.ends_at),
            "fingerprint": a.fp_hex,
            "receivers": [{"name": r} for r in receivers],
            "startsAt": api_time(a.starts_at),
            "status": st,
            "updatedAt": api_time(a.updated_at),
        }
        if a.generator_url:  # omitted when empty, as go-swagger does
            out["generatorURL"] = a.generator_url
        out["labels"] = dict(sorted(a.labels.items()))
        return out

    def selector(request: Request) -> Callable[[StoredAlert, float], tuple[dict[str, Any], list[str]] | None]:
        active = _bool_param(request, "active")
        silenced = _bool_param(request, "silenced")
        inhibited = _bool_param(request, "inhibited")
        _bool_param(request, "unprocessed")  # every alert is processed on arrival
        matchers = _filters(request)
        recv_rx = _receiver_filter(request)

        def pick(a: StoredAlert, now: float) -> tuple[dict[str, Any], list[str]] | None:
            if a.resolved(now):
                return None
            receivers = notifier.receivers_for(a.labels)
            if recv_rx is not None and not any(recv_rx.match(r) for r in receivers):
                return None
            st = status_of(a, now)
            if not active and st["state"] == "active":
                return None
            if not silenced and st["silencedBy"]:
                return None
            if not inhibited and st["inhibitedBy"]:
                return None
            if not all(m.matches(a.labels.get(m.name, "")) for m in matchers):
                return None
            return st, receivers

        return pick

    async def get_alerts(request: Request) -> Response:
        try:
            pick = selector(request)
        except ValidationError as exc:
            return _error(str(exc), 400)
        now = notifier.clock()
        out = []
        for a in notifier.alerts():
            got = pick(a, now)
            if got is not None:
                out.append(gettable(a, got[0], got[1]))
        out.sort(key=lambda x: str(x["fingerprint"]))
        return _json(out)

    async def post_alerts(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            return _error(f"parsing alerts: {exc}", 400)
        if not isinstance(body, list):
            return _error("parsing alerts: expected a JSON array of alerts", 400)
        alerts: list[Alert] = []
        try:
            for i, item in enumerate(body):
                if not isinstance(item, dict):
                    raise ValidationError(f"alerts[{i}]: expected an object")
                labels = _str_map(item.get("labels"), f"alerts[{i}].labels")
                alerts.append(Alert(
                    labels=labels_from_pairs(labels.items()),
                    annotations=labels_from_pairs(_str_map(item.get("annotations"), f"alerts[{i}].annotations").items()),
                    starts_at=parse_time(item.get("startsAt"), f"alerts[{i}].startsAt"),
                    ends_at=parse_time(item.get("endsAt"), f"alerts[{i}].endsAt"),
                    generator_url=str(item.get("generatorURL") or ""),
                ))
        except ValidationError as exc:
            return _error(str(exc), 400)
        try:
            notifier.post(alerts)
        except ValidationError as exc:
            return _error(str(exc), 400)
        return Response(status_code=200)

    async def get_groups(request: Request) -> Response:
        try:
            pick = selector(request)
        except ValidationError as exc:
            return _error(str(exc), 400)
        now = notifier.clock()
        found: list[tuple[dict[str, str], str, list[dict[str, Any]]]] = []
        for g in list(notifier.dispatcher.groups.values()):
            alerts = []
            current = [notifier.store.get(a.fp) or a for a in g.alerts.values()]
            for cur in sort_alerts(current):
                got = pick(cur, now)
                if got is not None:
                    alerts.append(gettable(cur, got[0], got[1]))
            if alerts:
                found.append((g.labels, g.route.opts.receiver, alerts))

        def order(x: tuple[dict[str, str], str, Any], y: tuple[dict[str, str], str, Any]) -> int:
            c = compare_labels(x[0], y[0])
            return c if c else (x[1] > y[1]) - (x[1] < y[1])

        found.sort(key=functools.cmp_to_key(order))
        return _json([{"alerts": alerts, "labels": dict(sorted(labels.items())), "receiver": {"name": recv}}
                      for labels, recv, alerts in found])

    def silence_json(s: Silence, now: float) -> dict[str, Any]:
        return {
            "id": s.id,
            "status": {"state": s.state(now)},
            "updatedAt": api_time(s.updated_at),
            "comment": s.comment,
            "createdBy": s.created_by,
            "endsAt": api_time(s.ends_at),
            "matchers": [matcher_to_json(m) for m in s.matchers],
            "startsAt": api_time(s.starts_at),
        }

    async def get_silences(request: Request) -> Response:
        try:
            matchers = _filters(request)
        except ValidationError as exc:
            return _error(str(exc), 400)
        now = notifier.clock()
        sils = [s for s in notifier.silences.all() if _silence_matches(s, matchers)]
        order = {"active": 0, "pending": 1, "expired": 2}

        def key(s: Silence) -> tuple[int, float]:
            st = s.state(now)
            return (order[st], -s.ends_at if st == "expired" else
                    (s.starts_at if st == "pending" else s.ends_at))

        return _json([silence_json(s, now) for s in sorted(sils, key=key)])

    async def post_silences(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
            if not isinstance(body, dict):
                raise ValidationError("expected a JSON object")
            raw_ms = body.get("matchers")
            if not isinstance(raw_ms, list):
                raise ValidationError("matchers: expected a list")
            s = Silence(
                id=str(body.get("id") or ""),
                matchers=tuple(matcher_from_json(m, f"matchers[{i}]") for i, m in enumerate(raw_ms)),
                starts_at=parse_time(body.get("startsAt"), "startsAt"),
                ends_at=parse_time(body.get("endsAt"), "endsAt"),
                created_by=str(body.get("createdBy") or ""),
                comment=str(body.get("comment") or ""),
            )
        except orjson.JSONDecodeError as exc:
            return _error(f"parsing silence: {exc}", 400)
        except ValidationError as exc:
            return _error(str(exc), 400)
        if s.starts_at > s.ends_at:
            return _error("Failed to create silence: start time must be before end time", 400)
        if s.ends_at < notifier.clock():
            return _error("Failed to create silence: end time can't be in the past", 400)
        try:
            sid = notifier.silences.set(s)
        except SilenceNotFoundError as exc:
            return _error(str(exc), 404)
        except ValidationError as exc:
            return _error(f"Failed to create silence: {exc}", 400)
        return _json({"silenceID": sid})

    async def get_silence(request: Request) -> Response:
        try:
            s = notifier.silences.get(request.path_params["id"])
        except SilenceNotFoundError:
            return Response(status_code=404)
        return _json(silence_json(s, notifier.clock()))

    async def delete_silence(request: Request) -> Response:
        try:
            notifier.silences.expire(request.path_params["id"])
        except SilenceNotFoundError:
            return Response(status_code=404)
        except KubesightError as exc:
            return _error(str(exc), 500)
        return Response(status_code=200)

    async def get_status(request: Request) -> Response:
        return _json({
            "cluster": {"name": "", "peers": [], "status": "disabled"},
            "config": {"original": notifier.config.original},
            "uptime": api_time(notifier.started_at),
            "versionInfo": {"branch": "", "buildDate": "", "buildUser": "", "goVersion": "",
                            "revision": "kubesight", "version": ALERTMANAGER_API_VERSION},
        })

    async def get_receivers(request: Request) -> Response:
        return _json([{"name": r.name} for r in notifier.config.receivers])

    return [
        Route("/api/v2/alerts", get_alerts, methods=["GET"]),
        Route("/api/v2/alerts", post_alerts, methods=["POST"]),
        Route("/api/v2/alerts/groups", get_groups, methods=["GET"]),
        Route("/api/v2/silences", get_silences, methods=["GET"]),
        Route("/api/v2/silences", post_silences, methods=["POST"]),
        Route("/api/v2/silence/{id}", get_silence, methods=["GET"]),
        Route("/api/v2/silence/{id}", delete_silence, methods=["DELETE"]),
        Route("/api/v2/status", get_status, methods=["GET"]),
        Route("/api/v2/receivers", get_receivers, methods=["GET"]),
    ]


def _silence_matches(s: Silence, matchers: list[Matcher]) -> bool:
    """Alertmanager's silence filter: each filter must match one of the silence's matchers' values."""
    labels = {m.name: m.value for m in s.matchers}
    return all(f.matches(labels.get(f.name, "")) for f in matchers)
