"""alertmanager.yml, read as Alertmanager reads it.

The same keys, defaults and checks as Alertmanager's ``config`` package:
``global`` (``resolve_timeout``, ``smtp_*``, ``slack_api_url``), the ``route``
tree (``receiver``, ``group_by`` with ``...``, ``matchers`` and the older
``match``/``match_re``, ``continue``, the three timers, ``mute_time_intervals``
and ``active_time_intervals``), ``receivers`` (``webhook_configs``,
``slack_configs`` and ``email_configs`` are delivered; other integrations are
accepted and reported as not delivered), ``inhibit_rules``, ``time_intervals``
(and the older ``mute_time_intervals``) and ``templates`` globs.

Every error names the file (when there is one) and the field, e.g.
``alertmanager.yml: route.routes[1].group_wait: not a valid duration "5x"``.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from kubesight.discovery._httpconfig import (
    HTTP_CLIENT_KEYS,
    HTTPClientConfig,
    parse_http_client_config,
)
from kubesight.errors import ConfigError, ValidationError
from kubesight.model.durations import parse_duration_ms
from kubesight.model.matchers import Matcher
from kubesight.notify.labels import go_quote, new_matcher, parse_matchers, sort_matchers
from kubesight.notify.timeintervals import TimeInterval, parse_intervals

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
SECRET = "<secret>"

# Integrations Alertmanager knows; only the first three deliver here.
DELIVERED = ("webhook_configs", "slack_configs", "email_configs")
NOT_DELIVERED = ("discord_configs", "opsgenie_configs", "pagerduty_configs", "pushover_configs",
                 "sns_configs", "telegram_configs", "victorops_configs", "webex_configs",
                 "wechat_configs", "msteams_configs", "msteamsv2_configs", "jira_configs",
                 "rocketchat_configs", "incidentio_configs")

_GLOBAL_KEYS = {
    "resolve_timeout", "http_config", "smtp_from", "smtp_hello", "smtp_smarthost",
    "smtp_auth_username", "smtp_auth_password", "smtp_auth_password_file", "smtp_auth_secret",
    "smtp_auth_identity", "smtp_require_tls", "smtp_tls_config", "slack_api_url",
    "slack_api_url_file", "victorops_api_key", "victorops_api_key_file", "victorops_api_url",
    "pagerduty_url", "opsgenie_api_key", "opsgenie_api_key_file", "opsgenie_api_url",
    "wechat_api_url", "wechat_api_secret", "wechat_api_corp_id", "telegram_api_url",
    "webex_api_url", "rocketchat_api_url", "rocketchat_token", "rocketchat_token_id",
    "rocketchat_token_file", "rocketchat_token_id_file", "jira_api_url",
}
# Shown as <secret> by /api/v2/status, as Alertmanager 0.25 does (which shows webhook URLs,
# so amtool of that release can read the config back).
_SECRET_KEYS = {"smtp_auth_password", "smtp_auth_secret", "slack_api_url", "auth_password",
                "auth_secret", "api_url", "password", "bearer_token", "credentials",
                "api_key", "api_secret", "routing_key", "service_key", "token", "bot_token"}

DEFAULT_RESOLVE_TIMEOUT = 300.0  # 5m: Alertmanager's default
DEFAULT_GROUP_WAIT = 30.0
DEFAULT_GROUP_INTERVAL = 300.0
DEFAULT_REPEAT_INTERVAL = 4 * 3600.0


class _Loader(yaml.SafeLoader):
    """Only true/false are booleans: a value ``on`` or ``no`` stays a string, as in Go's typed decoding."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


@dataclass(frozen=True)
class GlobalConfig:
    resolve_timeout: float = DEFAULT_RESOLVE_TIMEOUT
    smtp_from: str = ""
    smtp_hello: str = "localhost"
    smtp_smarthost: str = ""
    smtp_auth_username: str = ""
    smtp_auth_password: str = ""
    smtp_auth_identity: str = ""
    smtp_auth_secret: str = ""
    smtp_require_tls: bool = True
    slack_api_url: str = ""
    http: HTTPClientConfig = field(default_factory=HTTPClientConfig)  # every receiver's default


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    send_resolved: bool = True
    max_alerts: int = 0
    timeout: float = 0.0  # 0: no limit of its own; the group interval bounds it
    http: HTTPClientConfig = field(default_factory=HTTPClientConfig)


@dataclass(frozen=True)
class SlackConfig:
    api_url: str
    send_resolved: bool = False
    fields: Mapping[str, Any] = field(default_factory=dict)  # channel, title, text... (templates)
    http: HTTPClientConfig = field(default_factory=HTTPClientConfig)


@dataclass(frozen=True)
class EmailConfig:
    to: str
    sender: str
    smarthost: str  # host:port
    hello: str = "localhost"
    auth_username: str = ""
    auth_password: str = ""
    auth_identity: str = ""
    require_tls: bool = True
    html: str = '{{ template "email.default.html" . }}'
    text: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    send_resolved: bool = False
    insecure_skip_verify: bool = False


@dataclass(frozen=True)
class ReceiverConfig:
    name: str
    webhooks: tuple[WebhookConfig, ...] = ()
    slacks: tuple[SlackConfig, ...] = ()
    emails: tuple[EmailConfig, ...] = ()
    not_delivered: tuple[str, ...] = ()  # integrations configured that kubesight does not send


@dataclass(frozen=True)
class RouteConfig:
    receiver: str = ""
    group_by: tuple[str, ...] | None = None  # None: inherit from the parent
    group_by_all: bool = False
    matchers: tuple[Matcher, ...] = ()
    continue_: bool = False
    group_wait: float | None = None
    group_interval: float | None = None
    repeat_interval: float | None = None
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    routes: tuple[RouteConfig, ...] = ()


@dataclass(frozen=True)
class InhibitRule:
    source_matchers: tuple[Matcher, ...]
    target_matchers: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertmanagerConfig:
    route: RouteConfig
    receivers: tuple[ReceiverConfig, ...]
    global_: GlobalConfig = GlobalConfig()
    inhibit_rules: tuple[InhibitRule, ...] = ()
    time_intervals: Mapping[str, tuple[TimeInterval, ...]] = field(default_factory=dict)
    templates: tuple[str, ...] = ()  # files matched by the globs, in order
    original: str = ""  # the YAML with secrets masked (/api/v2/status shows it)
    source: str = ""  # the file it came from, or "" for an inline config


def load_file(path: str | os.PathLike[str]) -> AlertmanagerConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the Alertmanager config: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text ({exc})") from exc
    try:
        raw = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: invalid YAML: {exc}") from exc
    return load_dict(raw if raw is not None else {}, source=str(p), base_dir=p.parent)


def check_config(path: str | os.PathLike[str]) -> list[str]:
    """What ``amtool check-config`` would complain about (empty when the file is fine)."""
    try:
        load_file(path)
    except ConfigError as exc:
        return [str(exc)]
    return []


def load_dict(raw: Any, *, source: str = "", base_dir: Path | None = None) -> AlertmanagerConfig:
    """Validate a parsed alertmanager.yml (or kubesight's inline ``alertmanager:`` block)."""
    prefix = f"{source}: " if source else "alertmanager: "
    try:
        return _build(raw, source, base_dir or Path.cwd())
    except _FieldError as exc:
        raise ConfigError(prefix + str(exc)) from None


class _FieldError(Exception):
    def __init__(self, where: str, msg: str) -> None:
        super().__init__(f"{where}: {msg}" if where else msg)


def _map(raw: Any, where: str, known: set[str] | None, typename: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _FieldError(where, f"expected a mapping, got {type(raw).__name__}")
    if known is not None:
        for k in raw:
            if k not in known:
                raise _FieldError(where, f"field {k} not found in type {typename}")
    return raw


def _str(raw: Any, where: str, default: str = "") -> str:
    if raw is None:
        return default
    if isinstance(raw, (dict, list)):
        raise _FieldError(where, "expected a string")
    return str(raw)


def _bool(raw: Any, where: str, default: bool) -> bool:
    if raw is None:
        return default
    if not isinstance(raw, bool):
        raise _FieldError(where, f"expected true or false, got {raw!r}")
    return raw


def _strlist(raw: Any, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _FieldError(where, "expected a list of strings")
    return [_str(v, f"{where}[{i}]") for i, v in enumerate(raw)]


def _duration(raw: Any, where: str) -> float | None:
    if raw is None:
        return None
    try:
        return parse_duration_ms(str(raw)) / 1000.0
    except ValueError:
        raise _FieldError(where, f"not a valid duration string: {go_quote(str(raw))}") from None


def _label_name(name: str, where: str) -> str:
    if not _LABEL_NAME.match(name):
        raise _FieldError(where, f"invalid label name {name!r}")
    return name


def _matchers(raw: Any, where: str) -> list[Matcher]:
    out: list[Matcher] = []
    for i, line in enumerate(_strlist(raw, where)):
        try:
            out.extend(parse_matchers(line))
        except ValidationError as exc:
            raise _FieldError(f"{where}[{i}]", str(exc)) from None
    return out


def _old_matchers(eq: Any, rx: Any, where: str, eq_key: str, rx_key: str) -> list[Matcher]:
    out: list[Matcher] = []
    for k, v in _map(eq, f"{where}.{eq_key}", None, "").items():
        out.append(new_matcher(_label_name(str(k), f"{where}.{eq_key}"), "=", _str(v, f"{where}.{eq_key}.{k}")))
    for k, v in _map(rx, f"{where}.{rx_key}", None, "").items():
        w = f"{where}.{rx_key}.{k}"
        try:
            out.append(new_matcher(_label_name(str(k), w), "=~", _str(v, w)))
        except ValidationError as exc:
            raise _FieldError(w, str(exc)) from None
    return out


_ROUTE_KEYS = {"receiver", "group_by", "continue", "match", "match_re", "matchers", "group_wait",
               "group_interval", "repeat_interval", "mute_time_intervals",
               "active_time_intervals", "routes"}


def _route(raw: Any, where: str) -> RouteConfig:
    r = _map(raw, where, _ROUTE_KEYS, "config.Route")
    group_by: tuple[str, ...] | None = None
    by_all = False
    if "group_by" in r and r["group_by"] is not None:
        names = _strlist(r["group_by"], f"{where}.group_by")
        seen: set[str] = set()
        for n in names:
            if n == "...":
                by_all = True
                continue
            _label_name(n, f"{where}.group_by")
            if n in seen:
                raise _FieldError(f"{where}.group_by", f"duplicated label {n!r} in group_by")
            seen.add(n)
        if by_all and len(names) > 1:
            raise _FieldError(f"{where}.group_by",
                              "cannot have wildcard group_by (`...`) and other labels at the same time")
        group_by = () if by_all else tuple(names)
    gi = _duration(r.get("group_interval"), f"{where}.group_interval")
    if gi == 0:
        raise _FieldError(f"{where}.group_interval", "group_interval cannot be zero")
    ri = _duration(r.get("repeat_interval"), f"{where}.repeat_interval")
    if ri == 0:
        raise _FieldError(f"{where}.repeat_interval", "repeat_interval cannot be zero")
    ms = _old_matchers(r.get("match"), r.get("match_re"), where, "match", "match_re")
    ms += _matchers(r.get("matchers"), f"{where}.matchers")
    children = r.get("routes") or []
    if not isinstance(children, list):
        raise _FieldError(f"{where}.routes", "expected a list of routes")
    return RouteConfig(
        receiver=_str(r.get("receiver"), f"{where}.receiver"),
        group_by=group_by,
        group_by_all=by_all,
        matchers=tuple(sort_matchers(ms)),
        continue_=_bool(r.get("continue"), f"{where}.continue", False),
        group_wait=_duration(r.get("group_wait"), f"{where}.group_wait"),
        group_interval=gi,
        repeat_interval=ri,
        mute_time_intervals=tuple(_strlist(r.get("mute_time_intervals"), f"{where}.mute_time_intervals")),
        active_time_intervals=tuple(_strlist(r.get("active_time_intervals"), f"{where}.active_time_intervals")),
        routes=tuple(_route(c, f"{where}.routes[{i}]") for i, c in enumerate(children)),
    )


def _http_url(raw: Any, where: str) -> str:
    url = _str(raw, where)
    u = urlparse(url)
    if u.scheme not in ("http", "https"):
        raise _FieldError(where, f"unsupported scheme {u.scheme!r} for URL")
    if not u.netloc:
        raise _FieldError(where, "URL has no host")
    return url


def _http_config(raw: Any, where: str, base: Path, default: HTTPClientConfig) -> HTTPClientConfig:
    """Prometheus' HTTP client keys (basic_auth, authorization, bearer_token, tls_config...)."""
    if raw is None:
        return default
    m = _map(raw, where, set(HTTP_CLIENT_KEYS), "config.HTTPClientConfig")
    try:
        return parse_http_client_config(m, where, base)
    except ConfigError as exc:
        raise _FieldError("", str(exc)) from None


def _read_file(path: Any, where: str, base: Path) -> str:
    p = Path(_str(path, where))
    p = p if p.is_absolute() else base / p
    try:
        return p.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise _FieldError(where, f"cannot read {p}: {exc.strerror}") from None


_WEBHOOK_KEYS = {"send_resolved", "http_config", "url", "url_file", "max_alerts", "timeout"}
_SLACK_KEYS = {"send_resolved", "http_config", "api_url", "api_url_file", "channel", "username",
               "color", "title", "title_link", "pretext", "text", "fields", "short_fields",
               "footer", "fallback", "callback_id", "icon_emoji", "icon_url", "image_url",
               "thumb_url", "link_names", "mrkdwn_in", "actions", "timeout", "message_text",
               "app_token", "app_token_file", "app_url", "update_message"}
_EMAIL_KEYS = {"send_resolved", "to", "from", "hello", "smarthost", "auth_username",
               "auth_password", "auth_password_file", "auth_secret", "auth_secret_file",
               "auth_identity", "headers", "html", "text", "require_tls", "tls_config", "threading"}

# Alertmanager's DefaultSlackConfig: every field names a template of the default set.
SLACK_DEFAULTS: dict[str, Any] = {
    "channel": "", "username": '{{ template "slack.default.username" . }}',
    "color": '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
    "title": '{{ template "slack.default.title" . }}',
    "title_link": '{{ template "slack.default.titlelink" . }}',
    "pretext": '{{ template "slack.default.pretext" . }}',
    "text": '{{ template "slack.default.text" . }}',
    "footer": '{{ template "slack.default.footer" . }}',
    "fallback": '{{ template "slack.default.fallback" . }}',
    "callback_id": '{{ template "slack.default.callbackid" . }}',
    "icon_emoji": '{{ template "slack.default.iconemoji" . }}',
    "icon_url": '{{ template "slack.default.iconurl" . }}',
    "link_names": False, "short_fields": False,
}


def _slack_fields(raw: Any, where: str, short_default: bool) -> list[dict[str, Any]]:
    out = []
    if raw is not None and not isinstance(raw, list):
        raise _FieldError(where, "expected a list")
    for i, f in enumerate(raw or []):
        w = f"{where}[{i}]"
        f = _map(f, w, {"title", "value", "short"}, "config.SlackField")
        if not f.get("title"):
            raise _FieldError(w, "missing title in Slack field configuration")
        if not f.get("value"):
            raise _FieldError(w, "missing value in Slack field configuration")
        out.append({"title": _str(f["title"], f"{w}.title"), "value": _str(f["value"], f"{w}.value"),
                    "short": _bool(f.get("short"), f"{w}.short", short_default)})
    return out


_ACTION_TEXT = ("type", "text", "url", "style", "name", "value")


def _slack_actions(raw: Any, where: str) -> list[dict[str, Any]]:
    out = []
    if raw is not None and not isinstance(raw, list):
        raise _FieldError(where, "expected a list")
    for i, a in enumerate(raw or []):
        w = f"{where}[{i}]"
        a = _map(a, w, {*_ACTION_TEXT, "confirm"}, "config.SlackAction")
        if not a.get("type"):
            raise _FieldError(w, "missing type in Slack action configuration")
        if not a.get("text"):
            raise _FieldError(w, "missing text in Slack action configuration")
        if not a.get("url") and not a.get("name"):
            raise _FieldError(w, "missing name or url in Slack action configuration")
        action: dict[str, Any] = {k: _str(a[k], f"{w}.{k}") for k in _ACTION_TEXT if a.get(k)}
        if a.get("confirm") is not None:
            conf = _map(a["confirm"], f"{w}.confirm", {"title", "text", "ok_text", "dismiss_text"},
                        "config.SlackConfirmationField")
            action["confirm"] = {k: _str(v, f"{w}.confirm.{k}") for k, v in conf.items()}
        out.append(action)
    return out


def _receiver(raw: Any, where: str, g: GlobalConfig, base: Path) -> ReceiverConfig:
    known = {"name", *DELIVERED, *NOT_DELIVERED}
    r = _map(raw, where, known, "config.Receiver")
    name = _str(r.get("name"), f"{where}.name")
    if not name:
        raise _FieldError(f"{where}.name", "missing name in receiver")
    webhooks = []
    for i, c in enumerate(r.get("webhook_configs") or []):
        w = f"{where}.webhook_configs[{i}]"
        c = _map(c, w, _WEBHOOK_KEYS, "config.WebhookConfig")
        if c.get("url") and c.get("url_file"):
            raise _FieldError(w, "at most one of url & url_file must be configured")
        if c.get("url"):
            url = _http_url(c["url"], f"{w}.url")
        elif c.get("url_file"):
            url = _read_file(c["url_file"], f"{w}.url_file", base)
        else:
            raise _FieldError(w, "one of url or url_file must be configured")
        max_alerts = c.get("max_alerts", 0)
        if not isinstance(max_alerts, int) or max_alerts < 0:
            raise _FieldError(f"{w}.max_alerts", "expected a non-negative integer")
        webhooks.append(WebhookConfig(url, _bool(c.get("send_resolved"), f"{w}.send_resolved", True),
                                      max_alerts, _duration(c.get("timeout"), f"{w}.timeout") or 0.0,
                                      _http_config(c.get("http_config"), f"{w}.http_config", base, g.http)))
    slacks = []
    for i, c in enumerate(r.get("slack_configs") or []):
        w = f"{where}.slack_configs[{i}]"
        c = _map(c, w, _SLACK_KEYS, "config.SlackConfig")
        if c.get("api_url"):
            api = _http_url(c["api_url"], f"{w}.api_url")
        elif c.get("api_url_file"):
            api = _read_file(c["api_url_file"], f"{w}.api_url_file", base)
        elif g.slack_api_url:
            api = g.slack_api_url
        else:
            raise _FieldError(w, "no global Slack API URL set either inline or in a file")
        fields = dict(SLACK_DEFAULTS)
        for k in SLACK_DEFAULTS:
            if k in c and c[k] is not None:
                fields[k] = c[k] if isinstance(SLACK_DEFAULTS[k], bool) else _str(c[k], f"{w}.{k}")
        for k in ("mrkdwn_in", "image_url", "thumb_url"):
            if k in c:
                fields[k] = c[k]
        fields["fields"] = _slack_fields(c.get("fields"), f"{w}.fields", bool(fields["short_fields"]))
        fields["actions"] = _slack_actions(c.get("actions"), f"{w}.actions")
        slacks.append(SlackConfig(api, _bool(c.get("send_resolved"), f"{w}.send_resolved", False), fields,
                                  _http_config(c.get("http_config"), f"{w}.http_config", base, g.http)))
    emails = []
    for i, c in enumerate(r.get("email_configs") or []):
        w = f"{where}.email_configs[{i}]"
        c = _map(c, w, _EMAIL_KEYS, "config.EmailConfig")
        to = _str(c.get("to"), f"{w}.to")
        if not to:
            raise _FieldError(w, "missing to address in email config")
        sender = _str(c.get("from"), f"{w}.from") or g.smtp_from
        if not sender:
            raise _FieldError(w, "no global SMTP from set")
        host = _str(c.get("smarthost"), f"{w}.smarthost") or g.smtp_smarthost
        if not host:
            raise _FieldError(w, "no global SMTP smarthost set")
        if ":" not in host:
            raise _FieldError(f"{w}.smarthost", f"address {host}: missing port in address")
        headers: dict[str, str] = {}
        for k, v in _map(c.get("headers"), f"{w}.headers", None, "").items():
            norm = "-".join(p.capitalize() for p in str(k).split("-"))
            if norm in headers:
                raise _FieldError(f"{w}.headers", f"duplicate header {norm!r}")
            headers[norm] = _str(v, f"{w}.headers.{k}")
        headers.setdefault("To", to)
        headers.setdefault("From", sender)
        headers.setdefault("Subject", '{{ template "email.default.subject" . }}')
        password = _str(c.get("auth_password"), f"{w}.auth_password") or (
            _read_file(c["auth_password_file"], f"{w}.auth_password_file", base)
            if c.get("auth_password_file") else "")
        tls = _map(c.get("tls_config"), f"{w}.tls_config", None, "")
        emails.append(EmailConfig(
            to=to, sender=sender, smarthost=host,
            hello=_str(c.get("hello"), f"{w}.hello") or g.smtp_hello,
            auth_username=_str(c.get("auth_username"), f"{w}.auth_username") or g.smtp_auth_username,
            auth_password=password or g.smtp_auth_password,
            auth_identity=_str(c.get("auth_identity"), f"{w}.auth_identity") or g.smtp_auth_identity,
            require_tls=_bool(c.get("require_tls"), f"{w}.require_tls", g.smtp_require_tls),
            html=_str(c.get("html"), f"{w}.html", '{{ template "email.default.html" . }}'),
            text=_str(c.get("text"), f"{w}.text"),
            headers=headers,
            send_resolved=_bool(c.get("send_resolved"), f"{w}.send_resolved", False),
            insecure_skip_verify=bool(tls.get("insecure_skip_verify", False)),
        ))
    not_delivered = tuple(k for k in NOT_DELIVERED if r.get(k))
    return ReceiverConfig(name, tuple(webhooks), tuple(slacks), tuple(emails), not_delivered)


def _global(raw: Any, base: Path) -> GlobalConfig:
    g = _map(raw, "global", _GLOBAL_KEYS, "config.GlobalConfig")
    rt = _duration(g.get("resolve_timeout"), "global.resolve_timeout")
    if rt == 0:
        raise _FieldError("global.resolve_timeout", "resolve_timeout cannot be zero")
    slack = _http_url(g["slack_api_url"], "global.slack_api_url") if g.get("slack_api_url") else ""
    return GlobalConfig(
        resolve_timeout=DEFAULT_RESOLVE_TIMEOUT if rt is None else rt,
        smtp_from=_str(g.get("smtp_from"), "global.smtp_from"),
        smtp_hello=_str(g.get("smtp_hello"), "global.smtp_hello", "localhost"),
        smtp_smarthost=_str(g.get("smtp_smarthost"), "global.smtp_smarthost"),
        smtp_auth_username=_str(g.get("smtp_auth_username"), "global.smtp_auth_username"),
        smtp_auth_password=_str(g.get("smtp_auth_password"), "global.smtp_auth_password"),
        smtp_auth_identity=_str(g.get("smtp_auth_identity"), "global.smtp_auth_identity"),
        smtp_auth_secret=_str(g.get("smtp_auth_secret"), "global.smtp_auth_secret"),
        smtp_require_tls=_bool(g.get("smtp_require_tls"), "global.smtp_require_tls", True),
        slack_api_url=slack,
        http=_http_config(g.get("http_config"), "global.http_config", base, HTTPClientConfig()),
    )


def _inhibit(raw: Any, where: str) -> InhibitRule:
    r = _map(raw, where, {"source_match", "source_match_re", "source_matchers", "target_match",
                          "target_match_re", "target_matchers", "equal"}, "config.InhibitRule")
    src = _old_matchers(r.get("source_match"), r.get("source_match_re"), where, "source_match", "source_match_re")
    src += _matchers(r.get("source_matchers"), f"{where}.source_matchers")
    tgt = _old_matchers(r.get("target_match"), r.get("target_match_re"), where, "target_match", "target_match_re")
    tgt += _matchers(r.get("target_matchers"), f"{where}.target_matchers")
    equal = [_label_name(n, f"{where}.equal") for n in _strlist(r.get("equal"), f"{where}.equal")]
    return InhibitRule(tuple(src), tuple(tgt), tuple(equal))


def _mask(raw: Any) -> Any:
    if isinstance(raw, dict):
        return {k: SECRET if k in _SECRET_KEYS and isinstance(v, str) and v else _mask(v)
                for k, v in raw.items()}
    if isinstance(raw, list):
        return [_mask(v) for v in raw]
    return raw


def _build(raw: Any, source: str, base: Path) -> AlertmanagerConfig:
    top = _map(raw, "", {"global", "route", "receivers", "inhibit_rules", "time_intervals",
                         "mute_time_intervals", "templates"}, "config.plain")
    g = _global(top.get("global"), base)
    if top.get("route") is None:
        raise _FieldError("route", "no routes provided")
    route = _route(top["route"], "route")
    if not route.receiver:
        raise _FieldError("route.receiver", "root route must specify a default receiver")
    if route.matchers:
        raise _FieldError("route", "root route must not have any matchers")
    if route.continue_:
        raise _FieldError("route.continue", "cannot have continue in root route")
    if route.mute_time_intervals:
        raise _FieldError("route.mute_time_intervals", "root route must not have any mute time intervals")
    if route.active_time_intervals:
        raise _FieldError("route.active_time_intervals", "root route must not have any active time intervals")
    raw_recv = top.get("receivers") or []
    if not isinstance(raw_recv, list):
        raise _FieldError("receivers", "expected a list of receivers")
    receivers = [_receiver(r, f"receivers[{i}]", g, base) for i, r in enumerate(raw_recv)]
    names: set[str] = set()
    for i, rc in enumerate(receivers):
        if rc.name in names:
            raise _FieldError(f"receivers[{i}].name", f"notification config name {rc.name!r} is not unique")
        names.add(rc.name)
    intervals: dict[str, tuple[TimeInterval, ...]] = {}
    for key in ("mute_time_intervals", "time_intervals"):
        items = top.get(key) or []
        if not isinstance(items, list):
            raise _FieldError(key, "expected a list")
        for i, ti in enumerate(items):
            w = f"{key}[{i}]"
            m = _map(ti, w, {"name", "time_intervals"}, "config.TimeInterval")
            name = _str(m.get("name"), f"{w}.name")
            if not name:
                raise _FieldError(f"{w}.name", "missing name in time interval")
            if name in intervals:
                raise _FieldError(f"{w}.name", f"time interval {name!r} is not unique")
            intervals[name] = _intervals(m.get("time_intervals"), f"{w}.time_intervals")
    _check_refs(route, "route", names, intervals)
    raw_inh = top.get("inhibit_rules") or []
    if not isinstance(raw_inh, list):
        raise _FieldError("inhibit_rules", "expected a list")
    inhibit = tuple(_inhibit(r, f"inhibit_rules[{i}]") for i, r in enumerate(raw_inh))
    templates: list[str] = []
    for i, pattern in enumerate(_strlist(top.get("templates"), "templates")):
        p = pattern if os.path.isabs(pattern) else str(base / pattern)
        try:
            templates.extend(sorted(glob.glob(p)))
        except re.error as exc:
            raise _FieldError(f"templates[{i}]", f"invalid glob {pattern!r}: {exc}") from None
    original = yaml.safe_dump(_mask(raw), sort_keys=False, default_flow_style=False) if raw else ""
    return AlertmanagerConfig(route, tuple(receivers), g, inhibit, intervals, tuple(templates),
                              original, source)


def _intervals(raw: Any, where: str) -> tuple[TimeInterval, ...]:
    try:
        return parse_intervals(raw, where)
    except ConfigError as exc:
        raise _FieldError("", str(exc)) from None


def _check_refs(r: RouteConfig, where: str, receivers: set[str],
                intervals: Mapping[str, Any]) -> None:
    if r.receiver and r.receiver not in receivers:
        raise _FieldError(f"{where}.receiver", f"undefined receiver {r.receiver!r} used in route")
    for key, names in (("mute_time_intervals", r.mute_time_intervals),
                       ("active_time_intervals", r.active_time_intervals)):
        for n in names:
            if n not in intervals:
                raise _FieldError(f"{where}.{key}", f"undefined time interval {n!r} used in route")
    for i, c in enumerate(r.routes):
        _check_refs(c, f"{where}.routes[{i}]", receivers, intervals)
