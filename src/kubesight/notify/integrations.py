"""Receiver integrations: one configured webhook, Slack or email target each.

An integration turns a group's alerts into one request and reports failure by
raising :class:`NotifyError`, saying whether trying again could help (a
timeout or a 5xx could; a 4xx could not). The dispatcher owns retries,
timeouts and counting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from kubesight import __version__
from kubesight.errors import KubesightError
from kubesight.notify.alertstore import StoredAlert
from kubesight.notify.config import WebhookConfig
from kubesight.notify.payload import TemplateData, go_json, webhook_message

USER_AGENT = f"kubesight/{__version__} (Alertmanager-compatible)"


class NotifyError(KubesightError):
    def __init__(self, msg: str, retryable: bool) -> None:
        super().__init__(msg)
        self.retryable = retryable


@dataclass(frozen=True)
class Context:
    """What every integration gets besides the alerts."""

    group_key: str
    data: TemplateData
    alerts: Sequence[StoredAlert]
    make_data: Callable[[Sequence[StoredAlert]], TemplateData]  # for a subset (truncation)


class Integration(Protocol):
    name: str  # "webhook", "slack", "email" (the integration label of the counters)
    send_resolved: bool
    timeout: float

    async def notify(self, ctx: Context) -> None: ...


def check_response(resp: httpx.Response, what: str) -> None:
    if resp.status_code // 100 == 2:
        return
    body = resp.text[:200]
    retry = resp.status_code // 100 == 5 or resp.status_code == 429
    raise NotifyError(f"{what}: unexpected status code {resp.status_code}: {body}", retry)


async def post(client: httpx.AsyncClient, url: str, body: bytes, what: str,
               content_type: str = "application/json") -> None:
    try:
        resp = await client.post(url, content=body,
                                 headers={"Content-Type": content_type, "User-Agent": USER_AGENT})
    except httpx.HTTPError as exc:
        raise NotifyError(f"{what}: {type(exc).__name__}: {exc}", True) from exc
    check_response(resp, what)


class Webhook:
    name = "webhook"

    def __init__(self, cfg: WebhookConfig, client: httpx.AsyncClient) -> None:
        self.cfg = cfg
        self.client = client
        self.send_resolved = cfg.send_resolved
        self.timeout = cfg.timeout

    def body(self, ctx: Context) -> bytes:
        data = ctx.data
        truncated = 0
        if self.cfg.max_alerts and len(ctx.alerts) > self.cfg.max_alerts:
            # As Alertmanager: common labels and status describe the alerts actually sent.
            truncated = len(ctx.alerts) - self.cfg.max_alerts
            data = ctx.make_data(ctx.alerts[: self.cfg.max_alerts])
        return go_json(webhook_message(data, ctx.group_key, truncated))

    async def notify(self, ctx: Context) -> None:
        await post(self.client, self.cfg.url, self.body(ctx), "webhook")
