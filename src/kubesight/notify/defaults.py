"""The texts of Alertmanager's default notification templates, computed in Python.

Slack and email receivers that keep their defaults (most do) render exactly
what Alertmanager's ``default.tmpl`` renders: the subject
``[FIRING:2] GroupLabelValues (CommonLabelValues not in the group)``, the
Alertmanager link, and an HTML email listing each alert's labels,
annotations and source. Computing them here keeps those receivers working
without a template engine; receivers with their own templates go through the
Go template engine (see ``receivers``).
"""

from __future__ import annotations

import html
from urllib.parse import quote_plus

from kubesight.notify.payload import TemplateAlert, TemplateData

ALERTMANAGER = "Alertmanager"


def subject(d: TemplateData) -> str:
    status = d.status.upper()
    if d.status == "firing":
        status += f":{len(d.firing())}"
    group = " ".join(v for _, v in sorted(d.group_labels.items()))
    out = f"[{status}] {group} "
    if len(d.common_labels) > len(d.group_labels):
        rest = {k: v for k, v in d.common_labels.items() if k not in d.group_labels}
        out += "(" + " ".join(v for _, v in sorted(rest.items())) + ")"
    return out


def alertmanager_url(d: TemplateData) -> str:
    return f"{d.external_url}/#/alerts?receiver={quote_plus(d.receiver)}"


# The value of each default template name, by the template reference the
# config defaults use ({{ template "NAME" . }}).
def default_text(name: str, d: TemplateData) -> str | None:
    if name in ("slack.default.title", "email.default.subject"):
        return subject(d)
    if name == "slack.default.username":
        return ALERTMANAGER
    if name == "slack.default.titlelink":
        return alertmanager_url(d)
    if name == "slack.default.fallback":
        return f"{subject(d)} | {alertmanager_url(d)}"
    if name in ("slack.default.pretext", "slack.default.text", "slack.default.footer",
                "slack.default.callbackid", "slack.default.iconemoji", "slack.default.iconurl"):
        return ""
    if name == "email.default.html":
        return email_html(d)
    return None


def _alert_block(a: TemplateAlert) -> str:
    rows = ["<strong>Labels</strong><br />"]
    rows += [f"{html.escape(k)} = {html.escape(v)}<br />" for k, v in sorted(a.labels.items())]
    if a.annotations:
        rows.append("<strong>Annotations</strong><br />")
        rows += [f"{html.escape(k)} = {html.escape(v)}<br />" for k, v in sorted(a.annotations.items())]
    rows.append(f'<a href="{html.escape(a.generator_url)}">Source</a><br />')
    return "".join(rows)


def email_html(d: TemplateData) -> str:
    """A self-contained HTML body with the information of Alertmanager's default email."""
    firing, resolved = d.firing(), d.resolved()
    color = "#E6522C" if d.status == "firing" else "#68B90F"
    parts = [
        "<!DOCTYPE html><html><head>",
        '<meta name="viewport" content="width=device-width" />',
        '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />',
        f"<title>{html.escape(subject(d))}</title></head>",
        '<body style="font-family: Helvetica, Arial, sans-serif; font-size: 14px;">',
        f'<div style="background-color: {color}; color: #fff; padding: 16px;">',
    ]
    if firing:
        parts.append(f"{len(firing)} alert{'s' if len(firing) != 1 else ''} for ")
    else:
        parts.append(f"{len(resolved)} alert{'s' if len(resolved) != 1 else ''} resolved for ")
    parts.append(" ".join(f"{html.escape(k)}={html.escape(v)}" for k, v in sorted(d.group_labels.items())))
    parts.append("</div><div style=\"padding: 16px;\">")
    parts.append(f'<a href="{html.escape(alertmanager_url(d))}" style="color: #fff; '
                 'background-color: #348eda; padding: 8px 12px; text-decoration: none;">'
                 f"View in {ALERTMANAGER}</a><br /><br />")
    if firing:
        parts.append(f"<strong>[{len(firing)}] Firing</strong><br />")
        parts += [_alert_block(a) + "<hr />" for a in firing]
    if resolved:
        parts.append(f"<strong>[{len(resolved)}] Resolved</strong><br />")
        parts += [_alert_block(a) + "<hr />" for a in resolved]
    parts.append("</div><div style=\"color: #999; padding: 16px;\">"
                 f"Sent by {ALERTMANAGER} (kubesight)</div></body></html>")
    return "".join(parts)
