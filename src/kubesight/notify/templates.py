"""Notification templates: Go's text/template over Alertmanager's data model.

Text fields of Slack and email receivers are Go templates evaluated against
the notification's data, as in Alertmanager: ``.Status``, ``.Receiver``,
``.Alerts`` (with ``.Firing`` and ``.Resolved``), ``.GroupLabels``,
``.CommonLabels`` and ``.CommonAnnotations`` (with ``.SortedPairs``,
``.Names``, ``.Values``, ``.Remove``), ``.ExternalURL``; each alert has
``.Status``, ``.Labels``, ``.Annotations``, ``.StartsAt``, ``.EndsAt``,
``.GeneratorURL`` and ``.Fingerprint``. The functions are Alertmanager's
(``toUpper``, ``toLower``, ``title``, ``trimSpace``, ``join``, ``match``,
``reReplaceAll``, ``safeHtml``, ``stringSlice``, ``date``, ``tz``, ``since``,
``humanizeDuration``) plus Go's builtins.

The default templates (``slack.default.title``, ``email.default.subject``,
``email.default.html``, ``__subject``, ``__text_alert_list``...) are kubesight's
own text with the output of Alertmanager's ``default.tmpl`` where receivers
see it (subjects, titles, links); the HTML email body is kubesight's own.
Files named by ``templates:`` are parsed after them and may override them.

Slices with methods (``.Alerts.Firing``, ``.SortedPairs.Values``) are
represented as integer-keyed mappings, because the template engine calls
methods on mappings and structs only; ``range``, ``len`` and ``index`` treat
them as the slices they stand for.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kubesight.errors import ConfigError
from kubesight.notify.payload import TemplateAlert, TemplateData
from kubesight.wire.gotemplate import Template, TemplateError

T = TypeVar("T")


class _Slice(Mapping[int, T], Generic[T]):
    """A Go slice that has methods: index -> element, in order."""

    def __init__(self, items: Sequence[T]) -> None:
        self._items = list(items)

    def __getitem__(self, i: int) -> T:
        return self._items[i]

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self._items)))

    def __len__(self) -> int:
        return len(self._items)

    def __str__(self) -> str:
        return "[" + " ".join(str(x) for x in self._items) + "]"


class Pair:
    def __init__(self, name: str, value: str) -> None:
        self.Name = name
        self.Value = value

    def __str__(self) -> str:
        return f"{{{self.Name} {self.Value}}}"


class Pairs(_Slice[Pair]):
    def Names(self) -> list[str]:  # noqa: N802 - Go's method names are the template API
        return [p.Name for p in self._items]

    def Values(self) -> list[str]:  # noqa: N802
        return [p.Value for p in self._items]


class KV(dict[str, str]):
    """Alertmanager's ``template.KV``: a label or annotation map with helpers."""

    def SortedPairs(self) -> Pairs:  # noqa: N802
        return Pairs([Pair(k, self[k]) for k in sorted(self)])

    def Names(self) -> list[str]:  # noqa: N802
        return sorted(self)

    def Values(self) -> list[str]:  # noqa: N802
        return [self[k] for k in sorted(self)]

    def Remove(self, keys: Sequence[str]) -> KV:  # noqa: N802
        drop = set(keys)
        return KV({k: v for k, v in self.items() if k not in drop})


class GoTime:
    """A ``time.Time`` as templates see it: printed the Go way, with a few methods."""

    def __init__(self, t: float, tz: Any = UTC) -> None:
        self.t = t
        self.dt = datetime.fromtimestamp(t, tz) if t else datetime(1, 1, 1, tzinfo=UTC)

    def __str__(self) -> str:
        frac = f"{self.dt.microsecond:06d}".rstrip("0")
        off = self.dt.strftime("%z") or "+0000"
        name = self.dt.tzname() or "UTC"
        return self.dt.strftime("%Y-%m-%d %H:%M:%S") + (f".{frac}" if frac else "") + f" {off} {name}"

    def Unix(self) -> int:  # noqa: N802
        return int(self.t)

    def UTC(self) -> GoTime:  # noqa: N802
        return GoTime(self.t, UTC)

    def IsZero(self) -> bool:  # noqa: N802
        return self.t == 0.0

    def Format(self, layout: str) -> str:  # noqa: N802
        return go_format(self.dt, layout)


# Go's reference-time layout elements, longest first so "2006" wins over "2".
_LAYOUT = [
    ("2006", "%Y"), ("January", "%B"), ("Monday", "%A"), ("-07:00", "%:z"), ("-0700", "%z"),
    ("Z07:00", "Z07:00"), ("MST", "%Z"), ("Jan", "%b"), ("Mon", "%a"), ("01", "%m"), ("02", "%d"),
    ("15", "%H"), ("03", "%I"), ("04", "%M"), ("05", "%S"), ("06", "%y"), ("PM", "%p"),
    (".000000000", ".NS9"), (".000000", ".NS6"), (".000", ".NS3"), ("_2", "_2"), ("1", "%-m"),
    ("2", "%-d"), ("3", "%-I"),
]
_LAYOUT_RX = re.compile("|".join(re.escape(k) for k, _ in _LAYOUT))
_LAYOUT_MAP = dict(_LAYOUT)


def go_format(dt: datetime, layout: str) -> str:
    def sub(m: re.Match[str]) -> str:
        code = _LAYOUT_MAP[m.group(0)]
        if code.startswith(".NS"):
            digits = int(code[3:])
            return "." + f"{dt.microsecond:06d}000"[:digits]
        if code == "Z07:00":
            return "Z" if dt.utcoffset() == timedelta(0) else dt.strftime("%:z")
        if code == "_2":
            return f"{dt.day:2d}"
        if code == "%-m":
            return str(dt.month)
        if code == "%-d":
            return str(dt.day)
        if code == "%-I":
            return str(int(dt.strftime("%I")))
        return dt.strftime(code)

    return _LAYOUT_RX.sub(sub, layout)


class GoAlert:
    def __init__(self, a: TemplateAlert) -> None:
        self.Status = a.status
        self.Labels = KV(a.labels)
        self.Annotations = KV(a.annotations)
        self.StartsAt = GoTime(a.starts_at)
        self.EndsAt = GoTime(a.ends_at)
        self.GeneratorURL = a.generator_url
        self.Fingerprint = a.fingerprint


class Alerts(_Slice[GoAlert]):
    def Firing(self) -> Alerts:  # noqa: N802
        return Alerts([a for a in self._items if a.Status == "firing"])

    def Resolved(self) -> Alerts:  # noqa: N802
        return Alerts([a for a in self._items if a.Status == "resolved"])


class GoData:
    def __init__(self, d: TemplateData) -> None:
        self.Receiver = d.receiver
        self.Status = d.status
        self.Alerts = Alerts([GoAlert(a) for a in d.alerts])
        self.GroupLabels = KV(d.group_labels)
        self.CommonLabels = KV(d.common_labels)
        self.CommonAnnotations = KV(d.common_annotations)
        self.ExternalURL = d.external_url


def _join(sep: str, items: Any) -> str:
    seq = [items[i] for i in range(len(items))] if isinstance(items, _Slice) else list(items)
    return sep.join(str(x) for x in seq)


def _tz(name: str, t: GoTime) -> GoTime:
    try:
        return GoTime(t.t, ZoneInfo(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name}") from exc


def _humanize_duration(v: Any) -> str:
    secs = float(v)
    if secs == 0:
        return "0s"
    sign = "-" if secs < 0 else ""
    secs = abs(secs)
    if secs < 1:
        return f"{sign}{secs * 1000:.4g}ms"
    d, rem = divmod(int(secs), 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    parts = [f"{d}d"] if d else []
    parts += [f"{h}h"] if h else []
    parts += [f"{m}m"] if m else []
    parts += [f"{s}s"] if s else []
    return sign + "".join(parts)


FUNCS: dict[str, Any] = {
    "toUpper": str.upper,
    "toLower": str.lower,
    "title": lambda s: re.sub(r"\b\w", lambda m: m.group(0).upper(), s),
    "trimSpace": str.strip,
    "join": _join,
    "match": lambda rx, s: re.search(rx, s) is not None,
    "safeHtml": lambda s: s,
    "reReplaceAll": lambda rx, repl, text: re.sub(rx, re.sub(r"\$(\d+)", r"\\\1", repl), text),
    "stringSlice": lambda *a: list(a),
    "date": lambda layout, t: t.Format(layout),
    "tz": _tz,
    "since": lambda t: time.time() - t.t,
    "humanizeDuration": _humanize_duration,
}

# kubesight's default templates. Subject, title and link render exactly what
# Alertmanager's default.tmpl renders, so notifications read the same.
DEFAULTS = r"""
{{ define "__alertmanager" }}Alertmanager{{ end }}
{{ define "__alertmanagerURL" }}{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}{{ end }}
{{ define "__subject" -}}
  [{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ len .Alerts.Firing }}{{ end }}]
  {{- " " }}{{ join " " .GroupLabels.SortedPairs.Values }}{{ " " }}
  {{- if gt (len .CommonLabels) (len .GroupLabels) -}}
    ({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ join " " .Values }}{{ end }})
  {{- end }}
{{- end }}
{{ define "__description" }}{{ end }}
{{ define "__text_alert_list" }}{{ range . }}Labels:
{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Annotations:
{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Source: {{ .GeneratorURL }}
{{ end }}{{ end }}

{{ define "slack.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "slack.default.fallback" }}{{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}{{ end }}
{{ define "slack.default.callbackid" }}{{ end }}
{{ define "slack.default.pretext" }}{{ end }}
{{ define "slack.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "slack.default.iconemoji" }}{{ end }}
{{ define "slack.default.iconurl" }}{{ end }}
{{ define "slack.default.text" }}{{ end }}
{{ define "slack.default.footer" }}{{ end }}

{{ define "email.default.subject" }}{{ template "__subject" . }}{{ end }}
{{ define "__email_alert" -}}
<strong>Labels</strong><br />
{{ range .Labels.SortedPairs }}{{ .Name | html }} = {{ .Value | html }}<br />
{{ end }}{{ if gt (len .Annotations) 0 }}<strong>Annotations</strong><br />
{{ range .Annotations.SortedPairs }}{{ .Name | html }} = {{ .Value | html }}<br />
{{ end }}{{ end }}<a href="{{ .GeneratorURL | html }}">Source</a><br /><hr />
{{ end }}
{{ define "email.default.html" -}}
<!DOCTYPE html>
<html><head><meta name="viewport" content="width=device-width" />
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
</head>
<body style="font-family: Helvetica, Arial, sans-serif; font-size: 14px;">
<div style="background-color: {{ if eq .Status "firing" }}#E6522C{{ else }}#68B90F{{ end }}; color: #fff; padding: 16px;">
{{ if gt (len .Alerts.Firing) 0 }}{{ len .Alerts.Firing }} alert{{ if gt (len .Alerts.Firing) 1 }}s{{ end }} for
{{- else }}{{ len .Alerts.Resolved }} alert{{ if gt (len .Alerts.Resolved) 1 }}s{{ end }} resolved for
{{- end }}{{ range .GroupLabels.SortedPairs }} {{ .Name | html }}={{ .Value | html }}{{ end }}
</div>
<div style="padding: 16px;">
<a href="{{ template "__alertmanagerURL" . }}" style="color: #fff; background-color: #348eda; padding: 8px 12px; text-decoration: none;">View in {{ template "__alertmanager" . }}</a><br /><br />
{{ if gt (len .Alerts.Firing) 0 }}<strong>[{{ len .Alerts.Firing }}] Firing</strong><br />
{{ range .Alerts.Firing }}{{ template "__email_alert" . }}{{ end }}{{ end -}}
{{ if gt (len .Alerts.Resolved) 0 }}<strong>[{{ len .Alerts.Resolved }}] Resolved</strong><br />
{{ range .Alerts.Resolved }}{{ template "__email_alert" . }}{{ end }}{{ end -}}
</div>
<div style="color: #999; padding: 16px;">Sent by {{ template "__alertmanager" . }} (kubesight)</div>
</body></html>
{{- end }}
"""


class Templates:
    """The default templates plus the config's ``templates`` files; renders receiver fields."""

    def __init__(self, files: Sequence[str] = ()) -> None:
        base = Template.parse(DEFAULTS, name="default.tmpl", funcs=FUNCS)
        for f in files:
            try:
                text = Path(f).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"templates: cannot read {f}: {exc}") from exc
            try:
                base = base.new(text, name=Path(f).name)
            except TemplateError as exc:
                raise ConfigError(f"templates: {f}: {exc}") from exc
        self._base = base
        self._cache: dict[str, Template] = {}

    def check(self, text: str, where: str) -> None:
        """Parse ``text`` now, so a broken receiver template fails the config load."""
        try:
            self._parsed(text)
        except TemplateError as exc:
            raise ConfigError(f"{where}: {exc}") from exc

    def _parsed(self, text: str) -> Template:
        t = self._cache.get(text)
        if t is None:
            t = self._base.new(text, name="")
            self._cache[text] = t
        return t

    def render(self, text: str, data: TemplateData) -> str:
        """Raises TemplateError (with Go's wording) when the template fails."""
        if "{{" not in text:
            return text
        return self._parsed(text).execute(GoData(data))


