"""Slack and email integrations, and the renderer of their templated fields.

Every text field of these receivers is a Go template evaluated against the
notification's :class:`~kubesight.notify.payload.TemplateData`. A field left at
its default (``{{ template "slack.default.title" . }}`` ...) is computed by
``defaults``; a field with no template action is used as written; anything
else needs the Go template engine (``kubesight.wire.gotemplate``) and the
config's ``templates`` files.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import ssl
import time
import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

import httpx

from kubesight.notify.config import EmailConfig, ReceiverConfig, SlackConfig
from kubesight.notify.defaults import default_text
from kubesight.notify.integrations import Context, Integration, NotifyError, post
from kubesight.notify.payload import TemplateData, go_json

_ONLY_TEMPLATE = re.compile(r'^\s*\{\{-?\s*template\s+"([^"]+)"\s+\.\s*-?\}\}\s*$')
_SLACK_TITLE_MAX = 1024  # Slack truncates longer titles; Alertmanager cuts them first


class Renderer(Protocol):
    def render(self, text: str, data: TemplateData) -> str: ...


class BuiltinRenderer:
    """Renders the default templates and plain text; refuses other templates clearly."""

    def render(self, text: str, data: TemplateData) -> str:
        if "{{" not in text:
            return text
        m = _ONLY_TEMPLATE.match(text)
        if m is not None:
            out = default_text(m.group(1), data)
            if out is not None:
                return out
        if text == '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}':
            return "danger" if data.status == "firing" else "good"
        raise NotifyError(f"template {text!r} needs the Go template engine, which is not available",
                          False)


def default_renderer(template_files: Sequence[str]) -> Renderer:
    return BuiltinRenderer()


class Slack:
    name = "slack"

    def __init__(self, cfg: SlackConfig, client: httpx.AsyncClient, renderer: Renderer) -> None:
        self.cfg = cfg
        self.client = client
        self.renderer = renderer
        self.send_resolved = cfg.send_resolved
        self.timeout = 0.0

    def payload(self, ctx: Context) -> dict[str, Any]:
        f = self.cfg.fields

        def t(key: str) -> str:
            v = f.get(key, "")
            return self.renderer.render(v, ctx.data) if isinstance(v, str) else ""

        title = t("title")
        if len(title) > _SLACK_TITLE_MAX:
            title = title[: _SLACK_TITLE_MAX - 1] + "…"
        att: dict[str, Any] = {}
        for key, value in (("title", title), ("title_link", t("title_link")),
                           ("pretext", t("pretext")), ("text", t("text")),
                           ("fallback", t("fallback")), ("callback_id", t("callback_id")),
                           ("image_url", t("image_url")), ("thumb_url", t("thumb_url")),
                           ("footer", t("footer")), ("color", t("color"))):
            if value:
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

    async def notify(self, ctx: Context) -> None:
        await post(self.client, self.cfg.api_url, go_json(self.payload(ctx)), "slack")


class Email:
    name = "email"

    def __init__(self, cfg: EmailConfig, renderer: Renderer, timeout: float = 30.0) -> None:
        self.cfg = cfg
        self.renderer = renderer
        self.send_resolved = cfg.send_resolved
        self.timeout = 0.0
        self._smtp_timeout = timeout

    def message(self, ctx: Context) -> EmailMessage:
        msg = EmailMessage()
        for k, v in self.cfg.headers.items():
            msg[k] = self.renderer.render(v, ctx.data)
        if "Date" not in msg:
            msg["Date"] = formatdate(time.time(), localtime=False)
        if "Message-Id" not in msg:
            domain = self.cfg.hello or "localhost"
            msg["Message-Id"] = f"<{int(time.time() * 1e9)}.{uuid.uuid4().int % 10**19}@{domain}>"
        text = self.renderer.render(self.cfg.text, ctx.data) if self.cfg.text else ""
        body_html = self.renderer.render(self.cfg.html, ctx.data) if self.cfg.html else ""
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


def slack_integrations(rc: ReceiverConfig, client: httpx.AsyncClient,
                       templates: Sequence[str]) -> list[Integration]:
    r = default_renderer(templates)
    return [Slack(s, client, r) for s in rc.slacks]


def email_integrations(rc: ReceiverConfig, templates: Sequence[str]) -> list[Integration]:
    r = default_renderer(templates)
    return [Email(e, r) for e in rc.emails]
