"""What a notification says: Alertmanager's template data and webhook message.

``TemplateData`` is the ``.`` of notification templates (``.Status``,
``.Alerts``, ``.GroupLabels``, ``.CommonLabels``, ``.CommonAnnotations``,
``.ExternalURL``, ``.Receiver``). ``webhook_body`` renders the webhook payload
version 4 exactly as Alertmanager's Go encoder does: the same field names in
the same order, times in RFC 3339 with nanoseconds trimmed, the zero time for
a firing alert's end, HTML-sensitive characters escaped, and a final newline.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubesight.notify.alertstore import StoredAlert
from kubesight.notify.labels import compare_labels

ZERO_TIME = "0001-01-01T00:00:00Z"
_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def go_time(t: float) -> str:
    """A Unix time as Go's ``time.Time`` marshals to JSON (RFC 3339, trimmed nanoseconds)."""
    if t == 0.0:
        return ZERO_TIME
    micros = round(t * 1_000_000)
    secs, frac = divmod(micros, 1_000_000)
    base = datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        base += "." + f"{frac:06d}".rstrip("0")
    return base + "Z"


def api_time(t: float) -> str:
    """A Unix time as the v2 API's ``strfmt.DateTime`` (always milliseconds)."""
    if t == 0.0:
        return "0001-01-01T00:00:00.000Z"
    ms = round(t * 1000)
    secs, frac = divmod(ms, 1000)
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:03d}Z"


def quote_meta(s: str) -> str:
    """Go's ``regexp.QuoteMeta``: Alertmanager passes the receiver name through it."""
    return _META.sub(r"\\\1", s)


@dataclass(frozen=True)
class TemplateAlert:
    status: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: float
    ends_at: float
    generator_url: str
    fingerprint: str


@dataclass(frozen=True)
class TemplateData:
    receiver: str
    status: str
    alerts: Sequence[TemplateAlert]
    group_labels: Mapping[str, str]
    common_labels: Mapping[str, str]
    common_annotations: Mapping[str, str]
    external_url: str

    def firing(self) -> list[TemplateAlert]:
        return [a for a in self.alerts if a.status == "firing"]

    def resolved(self) -> list[TemplateAlert]:
        return [a for a in self.alerts if a.status == "resolved"]


def _common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    out = dict(maps[0])
    for m in maps[1:]:
        for k in list(out):
            if m.get(k) != out[k]:
                del out[k]
    return out


def template_data(receiver: str, group_labels: Mapping[str, str], alerts: Sequence[StoredAlert],
                  external_url: str, now: float) -> TemplateData:
    talerts = [
        TemplateAlert("resolved" if a.resolved(now) else "firing", a.labels, a.annotations,
                      a.starts_at, a.ends_at, a.generator_url, a.fp_hex)
        for a in alerts
    ]
    status = "firing" if any(a.status == "firing" for a in talerts) else "resolved"
    return TemplateData(quote_meta(receiver), status, talerts, dict(group_labels),
                        _common([a.labels for a in alerts]), _common([a.annotations for a in alerts]),
                        external_url)


def _sorted(m: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(m.items()))  # Go marshals maps with sorted keys


def data_json(d: TemplateData) -> dict[str, Any]:
    return {
        "receiver": d.receiver,
        "status": d.status,
        "alerts": [
            {"status": a.status, "labels": _sorted(a.labels), "annotations": _sorted(a.annotations),
             "startsAt": go_time(a.starts_at), "endsAt": go_time(a.ends_at),
             "generatorURL": a.generator_url, "fingerprint": a.fingerprint}
            for a in d.alerts
        ],
        "groupLabels": _sorted(d.group_labels),
        "commonLabels": _sorted(d.common_labels),
        "commonAnnotations": _sorted(d.common_annotations),
        "externalURL": d.external_url,
    }


def webhook_message(d: TemplateData, group_key: str, truncated: int) -> dict[str, Any]:
    msg = data_json(d)
    msg.update({"version": "4", "groupKey": group_key, "truncatedAlerts": truncated})
    return msg


def go_json(obj: Any) -> bytes:
    """JSON as Go's ``json.Encoder`` writes it: compact, HTML-escaped, newline-terminated."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return (text + "\n").encode("utf-8")


def _alert_cmp(a: StoredAlert, b: StoredAlert) -> int:
    for name in ("job", "instance"):
        x, y = a.labels.get(name), b.labels.get(name)
        if x is None and y is None:
            continue
        if x is None:
            return 1
        if y is None:
            return -1
        if x != y:
            return -1 if x < y else 1
    return compare_labels(a.labels, b.labels)


def sort_alerts(alerts: Sequence[StoredAlert]) -> list[StoredAlert]:
    """Alertmanager's notification order: by job, then instance, then the label sets."""
    return sorted(alerts, key=functools.cmp_to_key(_alert_cmp))
