"""Sending alerts to Alertmanagers, as Prometheus' notifier does.

``alerting:`` is read as in a Prometheus config::

    alerting:
      alert_relabel_configs: [...]
      alertmanagers:
      - static_configs: [{targets: ["am-1:9093", "am-2:9093"]}]
        scheme: http            # or https
        path_prefix: /          # Alertmanager's --web.route-prefix
        api_version: v2         # the only one Alertmanager still serves
        timeout: 10s
        basic_auth / authorization / tls_config / bearer_token(_file) / follow_redirects
        alert_relabel_configs: [...]   # for this set only

:class:`AlertmanagerSender` is an :class:`~kubesight.model.alerts.AlertSink`:
``send`` adds the external labels an alert does not have, applies the
relabelling, and queues (a bounded queue: when full the oldest alerts are
dropped and counted); a background task posts batches of up to 64 alerts to
``/api/v2/alerts`` of every Alertmanager at once.

Relabelling lives in ``scrape/`` (a sibling layer), so the caller passes the
functions that apply ``alert_relabel_configs`` (see :func:`parse_alerting_config`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from kubesight.discovery._httpconfig import HTTPClientConfig, parse_http_client_config
from kubesight.errors import ConfigError
from kubesight.model.alerts import Alert
from kubesight.model.durations import parse_duration_ms
from kubesight.model.instrument import Registry
from kubesight.model.labels import Labels

log = logging.getLogger("kubesight.rules.alertmanager")

Relabel = Callable[[Labels], Labels | None]
"""Apply relabel configs to an alert's labels; None drops the alert."""
RelabelParser = Callable[[Any, str], Relabel]
"""Turn a raw ``alert_relabel_configs`` list (and where it is) into a :data:`Relabel`."""

MAX_BATCH = 64  # Prometheus' maxBatchSize
QUEUE_CAPACITY = 10_000  # Prometheus' --alertmanager.notification-queue-capacity
DEFAULT_TIMEOUT_S = 10.0
_SET_KEYS = frozenset({
    "static_configs", "scheme", "path_prefix", "api_version", "timeout", "basic_auth", "authorization",
    "tls_config", "bearer_token", "bearer_token_file", "follow_redirects", "enable_http2",
    "alert_relabel_configs", "relabel_configs",
})


@dataclass(frozen=True)
class AlertmanagerSet:
    urls: tuple[str, ...]  # each the full /api/v2/alerts URL
    timeout_s: float = DEFAULT_TIMEOUT_S
    http: HTTPClientConfig = field(default_factory=HTTPClientConfig)
    relabel: Relabel | None = None


@dataclass(frozen=True)
class AlertingConfig:
    alertmanagers: tuple[AlertmanagerSet, ...] = ()
    relabel: Relabel | None = None


def parse_alerting_config(
    raw: Any, base_dir: Path = Path("."), parse_relabel: RelabelParser | None = None, where: str = "alerting"
) -> AlertingConfig:
    """Read an ``alerting:`` block; raise ConfigError naming the field.

    ``parse_relabel`` validates and compiles ``alert_relabel_configs``; without it
    a block that has some is refused (nothing would apply them).
    """
    if raw is None:
        return AlertingConfig()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a map, got {raw!r}")
    for k in raw:
        if k not in ("alertmanagers", "alert_relabel_configs"):
            raise ConfigError(f"{where}.{k}: unknown field (known: alertmanagers, alert_relabel_configs)")

    def relabel_of(value: Any, at: str) -> Relabel | None:
        if not value:
            return None
        if parse_relabel is None:
            raise ConfigError(f"{at}: relabelling is not available here")
        return parse_relabel(value, at)

    sets: list[AlertmanagerSet] = []
    ams = raw.get("alertmanagers") or []
    if not isinstance(ams, list):
        raise ConfigError(f"{where}.alertmanagers: expected a list")
    for i, am in enumerate(ams):
        at = f"{where}.alertmanagers[{i}]"
        if not isinstance(am, Mapping):
            raise ConfigError(f"{at}: expected a map")
        for k in am:
            if k not in _SET_KEYS and not str(k).endswith("_sd_configs"):
                raise ConfigError(f"{at}.{k}: unknown field")
            if str(k).endswith("_sd_configs") or k == "relabel_configs":
                raise ConfigError(f"{at}.{k}: not supported by kubesight yet (use static_configs)")
        version = am.get("api_version", "v2")
        if version != "v2":
            raise ConfigError(f"{at}.api_version: {version!r} is not supported (Alertmanager serves only v2)")
        scheme = am.get("scheme", "http")
        if scheme not in ("http", "https"):
            raise ConfigError(f"{at}.scheme: must be http or https, not {scheme!r}")
        prefix = str(am.get("path_prefix", "/") or "/")
        prefix = "/" + prefix.strip("/")
        timeout_s = DEFAULT_TIMEOUT_S
        if "timeout" in am:
            try:
                timeout_s = parse_duration_ms(str(am["timeout"])) / 1000
            except ValueError as exc:
                raise ConfigError(f"{at}.timeout: {exc}") from None
        urls: list[str] = []
        statics = am.get("static_configs") or []
        if not isinstance(statics, list):
            raise ConfigError(f"{at}.static_configs: expected a list")
        for j, sc in enumerate(statics):
            targets = sc.get("targets") if isinstance(sc, Mapping) else None
            if not isinstance(targets, list) or not all(isinstance(t, str) and t for t in targets):
                raise ConfigError(f"{at}.static_configs[{j}].targets: expected a list of host:port")
            for t in targets:
                if "/" in t:
                    raise ConfigError(f"{at}.static_configs[{j}].targets: {t!r} is not host:port "
                                      "(put the scheme in 'scheme' and the path in 'path_prefix')")
                urls.append(f"{scheme}://{t}{prefix.rstrip('/')}/api/v2/alerts")
        http_raw = {k: v for k, v in am.items() if k in (
            "basic_auth", "authorization", "tls_config", "bearer_token", "bearer_token_file", "follow_redirects")}
        http = parse_http_client_config(http_raw, at, base_dir)
        sets.append(AlertmanagerSet(tuple(urls), timeout_s, http,
                                    relabel_of(am.get("alert_relabel_configs"), f"{at}.alert_relabel_configs")))
    return AlertingConfig(tuple(sets), relabel_of(raw.get("alert_relabel_configs"),
                                                  f"{where}.alert_relabel_configs"))


def _time(t: float) -> str:
    """Go's strfmt.DateTime: RFC 3339 with milliseconds."""
    dt = datetime.fromtimestamp(t, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def encode_alerts(alerts: Sequence[Alert]) -> bytes:
    """The body Prometheus posts to /api/v2/alerts."""
    out = []
    for a in alerts:
        item: dict[str, Any] = {"labels": dict(a.labels), "annotations": dict(a.annotations)}
        if a.starts_at:
            item["startsAt"] = _time(a.starts_at)
        if a.ends_at:
            item["endsAt"] = _time(a.ends_at)
        item["generatorURL"] = a.generator_url
        out.append(item)
    return orjson.dumps(out)


class AlertmanagerSender:
    """An AlertSink that posts to external Alertmanagers from a bounded queue."""

    def __init__(
        self,
        config: AlertingConfig,
        external_labels: Mapping[str, str] | None = None,
        *,
        queue_capacity: int = QUEUE_CAPACITY,
        registry: Registry | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.external_labels = dict(external_labels or {})
        self.capacity = queue_capacity
        self._queue: deque[Alert] = deque()
        self._lock = threading.Lock()  # send() runs on the rule evaluation thread
        self._more = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._transport = transport
        self.dropped = 0
        self.sent: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        if registry is not None:
            reg = registry
            reg.gauge("kubesight_notifications_dropped_total", "Alerts dropped: queue full or relabelled away.",
                      lambda: float(self.dropped), "counter")
            reg.gauge("kubesight_notifications_queue_length", "Alerts waiting to be sent.",
                      lambda: float(len(self._queue)))
            reg.gauge("kubesight_notifications_queue_capacity", "Size of the alert queue.",
                      lambda: float(self.capacity))
            reg.gauge("kubesight_notifications_alertmanagers_discovered", "Alertmanagers alerts go to.",
                      lambda: float(sum(len(s.urls) for s in self.config.alertmanagers)))

    async def update(self, config: AlertingConfig, external_labels: Mapping[str, str] | None = None) -> None:
        """Apply a reloaded ``alerting:`` block (queued alerts stay queued)."""
        self.config = config
        self.external_labels = dict(external_labels or {})
        old, self._clients = self._clients, {}
        for client in old.values():
            with contextlib.suppress(Exception):
                await client.aclose()

    # -- AlertSink -------------------------------------------------------------
    def send(self, alerts: Sequence[Alert]) -> None:
        self.enqueue(self.prepare(alerts))

    def prepare(self, alerts: Sequence[Alert]) -> list[Alert]:
        """External labels added and ``alert_relabel_configs`` applied (dropped ones counted)."""
        return [a for a in (self._prepare(a) for a in alerts) if a is not None]

    def enqueue(self, prepared: Sequence[Alert]) -> None:
        """Queue prepared alerts for every Alertmanager (the oldest go when the queue is full)."""
        prepared = list(prepared)
        with self._lock:
            if len(prepared) > self.capacity:
                self.dropped += len(prepared) - self.capacity
                prepared = prepared[-self.capacity:]
            overflow = len(self._queue) + len(prepared) - self.capacity
            for _ in range(max(0, overflow)):  # drop the oldest, as Prometheus does
                self._queue.popleft()
                self.dropped += 1
            self._queue.extend(prepared)
        if overflow > 0:
            log.warning("alert queue full: dropped %d alerts", overflow)
        if prepared and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self._loop.call_soon_threadsafe(self._more.set)

    def _prepare(self, a: Alert) -> Alert | None:
        labels = dict(a.labels)
        for k, v in self.external_labels.items():
            labels.setdefault(k, v)
        lbls: Labels | None = tuple(sorted(labels.items()))
        if self.config.relabel is not None and lbls is not None:
            lbls = self.config.relabel(lbls)
        if not lbls:
            self.dropped += 1
            return None
        return Alert(lbls, a.annotations, a.starts_at, a.ends_at, a.generator_url)

    def queue_length(self) -> int:
        return len(self._queue)

    # -- sending ---------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Send what is queued (best effort, bounded by the timeouts) and stop."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            while self._queue:
                await self.flush_once()
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                await client.aclose()
        self._clients.clear()

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._more.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._more.wait(), 1.0)
                continue
            try:
                await self.flush_once()
            except Exception:
                log.exception("sending alerts failed")

    async def flush_once(self) -> None:
        """Take up to 64 alerts off the queue and post them to every Alertmanager."""
        with self._lock:
            batch = [self._queue.popleft() for _ in range(min(MAX_BATCH, len(self._queue)))]
        if not batch:
            return
        posts: list[Coroutine[Any, Any, None]] = []
        for s in self.config.alertmanagers:
            alerts = batch
            if s.relabel is not None:
                alerts = [Alert(lb, a.annotations, a.starts_at, a.ends_at, a.generator_url)
                          for a in batch if (lb := s.relabel(a.labels))]
            if not alerts:
                continue
            body = encode_alerts(alerts)
            posts.extend(self._post(s, url, body, len(alerts)) for url in s.urls)
        if posts:
            await asyncio.gather(*posts)

    async def _post(self, s: AlertmanagerSet, url: str, body: bytes, n: int) -> None:
        try:
            resp = await self._client(s).post(url, content=body, headers={"Content-Type": "application/json"})
            if resp.status_code // 100 != 2:
                raise httpx.HTTPStatusError(f"bad response status {resp.status_code}: {resp.text[:200]}",
                                            request=resp.request, response=resp)
        except (httpx.HTTPError, OSError) as exc:
            self.errors[url] = self.errors.get(url, 0) + 1
            log.error("sending alerts to %s failed: %s", url, exc)
            return
        self.sent[url] = self.sent.get(url, 0) + n

    def _client(self, s: AlertmanagerSet) -> httpx.AsyncClient:
        """One client (connection pool) per Alertmanager set, kept until stop()."""
        client = self._clients.get(id(s))
        if client is None:
            client = s.http.client(s.timeout_s)
            if self._transport is not None:  # tests: same auth and TLS settings, a mock transport
                client._transport = self._transport
            self._clients[id(s)] = client
        return client
