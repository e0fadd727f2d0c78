"""Slack and email integrations.

Every text field of these receivers is a Go template (see ``templates``)
evaluated against the notification's data; a template that fails to execute
fails the notification, with Go's error, and is not retried.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import httpx

from kubesight.discovery._httpconfig import HTTPClientConfig
from kubesight.notify.config import EmailConfig, ReceiverConfig, SlackConfig
from kubesight.notify.integrations import Context, Integration, NotifyError, post
from kubesight.notify.payload import TemplateData, go_json
from kubesight.notify.templates import Templates
from kubesight.wire.gotemplate import TemplateError


def _render(tmpl: Templates, text: str, data: TemplateData, what: str) -> str:
    try:
        return tmpl.render(text, data)
    except TemplateError as exc:
        raise NotifyError(f"{what}: {exc}", False) from exc

_SLACK_TITLE_MAX = 1024  # Slack truncates longer titles; Alertmanager cuts them first


class Slack:
    name = "slack"

    def __init__(self, cfg: SlackConfig, client: httpx.AsyncClient, renderer: Templates) -> None:
        self.cfg = cfg
        self.client = client
        self.renderer = renderer
        self.send_resolved = cfg.send_resolved
        self.timeout = 0.0

    def payload(self, ctx: Context) -> dict[str, Any]:
        f = self.cfg.fields

        def t(key: str) -> str:
            v = f.get(key, "")
            return _render(self.renderer, v, ctx.data, f"slack {key}") if isinstance(v, str) else ""

        title = t("title")
        if len(title) > _SLACK_TITLE_MAX:
            title = title[: _SLACK_TITLE_MAX - 1] + "…"
        att: dict[str, Any] = {}
        # Alertmanager's field order; text, fallback, callback_id and footer are sent even
        # when empty, the others only when set (its JSON tags).
        for key, value, always in (
                ("title", title, False), ("title_link", t("title_link"), False),
                ("pretext", t("pretext"), False), ("text", t("text"), True),
                ("fallback", t("fallback"), True), ("callback_id", t("callback_id"), True),
                ("fields", self._fields(ctx), False), ("actions", self._actions(ctx), False),
                ("image_url", t("image_url"), False), ("thumb_url", t("thumb_url"), False),
                ("footer", t("footer"), True), ("color", t("color"), False)):
            if value or always:
                att[key] = value
        att["mrkdwn_in"] = f.get("mrkdwn_in") or ["fallback", "pretext", "text"]
        req: dict[str, Any] = {}
        for key in ("channel", "username", "icon_emoji", "icon_url"):
            v = t(key)
            if v:
                req[key] = v
        if f.get("link_names"):
            req["link_names"] = True
        req["attachments"] = [att]
        return req

    def _fields(self, ctx: Context) -> list[dict[str, Any]]:
        return [{"title": _render(self.renderer, f["title"], ctx.data, "slack field title"),
                 "value": _render(self.renderer, f["value"], ctx.data, "slack field value"),
                 "short": f["short"]} for f in self.cfg.fields.get("fields") or []]

    def _actions(self, ctx: Context) -> list[dict[str, Any]]:
        out = []
        for a in self.cfg.fields.get("actions") or []:
            act: dict[str, Any] = {}
            for k in ("type", "text", "url", "style", "name", "value"):
                if k in a:
                    act[k] = _render(self.renderer, a[k], ctx.data, f"slack action {k}")
            if "confirm" in a:
                act["confirm"] = {k: _render(self.renderer, v, ctx.data, f"slack action confirm {k}")
                                  for k, v in a["confirm"].items()}
            out.append(act)
        return out

    async def notify(self, ctx: Context) -> None:
        await post(self.client, self.cfg.api_url, go_json(self.payload(ctx)), "slack")


class Email:
    name = "email"

    def __init__(self, cfg: EmailConfig, renderer: Templates, timeout: float = 30.0) -> None:
        self.cfg = cfg
        self.renderer = renderer
        self.send_resolved = cfg.send_resolved
        self.timeout = 0.0
        self._smtp_timeout = timeout

    def message(self, ctx: Context) -> EmailMessage:
        msg = EmailMessage()
        for k, v in self.cfg.headers.items():
            msg[k] = _render(self.renderer, v, ctx.data, f"email header {k}")
        if "Date" not in msg:
            msg["Date"] = formatdate(time.time(), localtime=False)
        if "Message-Id" not in msg:
            domain = self.cfg.hello or "localhost"
            msg["Message-Id"] = f"<{int(time.time() * 1e9)}.{uuid.uuid4().int % 10**19}@{domain}>"
        text = _render(self.renderer, self.cfg.text, ctx.data, "email text") if self.cfg.text else ""
        body_html = _render(self.renderer, self.cfg.html, ctx.data, "email html") if self.cfg.html else ""
        if text:
            msg.set_content(text)
            if body_html:
                msg.add_alternative(body_html, subtype="html")
        elif body_html:
            msg.set_content(body_html, subtype="html")
        return msg

    async def notify(self, ctx: Context) -> None:
        msg = self.message(ctx)
        await asyncio.to_thread(self._send, msg)

    def _send(self, msg: EmailMessage) -> None:
        host, _, port_s = self.cfg.smarthost.rpartition(":")
        port = int(port_s)
        to = [a.strip() for a in self.cfg.to.split(",") if a.strip()]
        tls_ctx = ssl.create_default_context()
        if self.cfg.insecure_skip_verify:
            tls_ctx.check_hostname = False
            tls_ctx.verify_mode = ssl.CERT_NONE
        try:
            smtp: smtplib.SMTP
            if port == 465:  # implicit TLS, as Alertmanager does on port 465
                smtp = smtplib.SMTP_SSL(host, port, local_hostname=self.cfg.hello,
                                        timeout=self._smtp_timeout, context=tls_ctx)
            else:
                smtp = smtplib.SMTP(host, port, local_hostname=self.cfg.hello, timeout=self._smtp_timeout)
            with smtp:
                smtp.ehlo()
                if port != 465:
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=tls_ctx)
                        smtp.ehlo()
                    elif self.cfg.require_tls:
                        raise NotifyError(
                            f"email: 'require_tls' is true (default) but {self.cfg.smarthost!r} "
                            "does not advertise the STARTTLS extension", False)
                if self.cfg.auth_username:
                    if not smtp.has_extn("auth"):
                        raise NotifyError(f"email: {self.cfg.smarthost!r} does not support AUTH", False)
                    smtp.login(self.cfg.auth_username, self.cfg.auth_password)
                smtp.send_message(msg, from_addr=self.cfg.sender, to_addrs=to)
        except smtplib.SMTPAuthenticationError as exc:
            raise NotifyError(f"email: authentication failed: {exc.smtp_code} {exc.smtp_error!r}",
                              False) from exc
        except smtplib.SMTPResponseException as exc:
            raise NotifyError(f"email: server answered {exc.smtp_code} {exc.smtp_error!r}",
                              exc.smtp_code < 500) from exc  # 4xx: transient, try again
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(f"email: {type(exc).__name__}: {exc}", True) from exc


def slack_integrations(rc: ReceiverConfig, client_for: Callable[[HTTPClientConfig], httpx.AsyncClient],
                       templates: Templates) -> list[Integration]:
    return [Slack(s, client_for(s.http), templates) for s in rc.slacks]


def email_integrations(rc: ReceiverConfig, templates: Templates) -> list[Integration]:
    return [Email(e, templates) for e in rc.emails]


def check_templates(rc: ReceiverConfig, templates: Templates) -> None:
    """Parse every templated field of a receiver now; raises ConfigError naming it."""
    for i, s in enumerate(rc.slacks):
        for k, v in s.fields.items():
            if isinstance(v, str):
                templates.check(v, f"receivers {rc.name!r}: slack_configs[{i}].{k}")
        for j, f in enumerate(s.fields.get("fields") or []):
            for k in ("title", "value"):
                templates.check(f[k], f"receivers {rc.name!r}: slack_configs[{i}].fields[{j}].{k}")
    for i, e in enumerate(rc.emails):
        for k, v in (("html", e.html), ("text", e.text), *e.headers.items()):
            templates.check(v, f"receivers {rc.name!r}: email_configs[{i}].{k}")
