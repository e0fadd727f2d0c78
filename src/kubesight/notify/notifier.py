"""The built-in Alertmanager: alerts in, grouped notifications out.

:class:`Notifier` ties the parts together and is what the server wires in. It
is an :class:`~kubesight.model.alerts.AlertSink`, so the rules engine hands
alerts over in-process; the Alertmanager v2 API (``kubesight.api.alertmanager``)
posts into the same place. Silences and the notification log live under
``data_dir`` and are restored at start. ``reload`` swaps the configuration
and re-dispatches the alerts it holds, as Alertmanager does on SIGHUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from kubesight.discovery._httpconfig import HTTPClientConfig
from kubesight.errors import ValidationError
from kubesight.model.alerts import Alert
from kubesight.model.instrument import Registry
from kubesight.notify.alertstore import AlertStore, StoredAlert, from_alert
from kubesight.notify.config import AlertmanagerConfig
from kubesight.notify.dispatch import (
    DEFAULT_ATTEMPT_TIMEOUT,
    Clock,
    Counters,
    Dispatcher,
    Receiver,
    Sleep,
    StateGauge,
)
from kubesight.notify.inhibit import Inhibitor
from kubesight.notify.integrations import Integration, Webhook
from kubesight.notify.nflog import NotificationLog
from kubesight.notify.receivers import check_templates, email_integrations, slack_integrations
from kubesight.notify.route import Route
from kubesight.notify.silences import Silences
from kubesight.notify.templates import Templates

log = logging.getLogger("kubesight.notify")

_GC_INTERVAL = 1800.0  # 30m: how often Alertmanager drops resolved alerts and old log entries
_MAX_IDLE = 1.0  # the loop looks again at least this often, so clock jumps are noticed


_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")  # Alertmanager 0.25's label name rule


def _valid_name(name: str) -> bool:
    return _NAME.match(name) is not None


class Notifier:
    def __init__(self, config: AlertmanagerConfig, data_dir: Path | None = None, *,
                 clock: Clock = time.time, sleep: Sleep = asyncio.sleep,
                 registry: Registry | None = None, external_url: str = "",
                 http_client: httpx.AsyncClient | None = None,
                 attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT) -> None:
        self.clock = clock
        self.sleep = sleep
        self.external_url = external_url.rstrip("/")
        self.data_dir = data_dir
        self.counters = Counters(registry)
        self.attempt_timeout = attempt_timeout
        self.store = AlertStore()
        self.silences = Silences(data_dir / "silences.json" if data_dir else None, clock)
        self.nflog = NotificationLog(data_dir / "nflog.json" if data_dir else None)
        self._own_client = http_client is None
        self.client = http_client or httpx.AsyncClient(timeout=attempt_timeout)
        self._clients: dict[HTTPClientConfig, httpx.AsyncClient] = {}
        self.started_at = clock()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._planned = 0.0  # when the loop looks next on its own
        self._wake = asyncio.Event()
        self._last_gc = clock()
        self.config = config
        self._apply(config)
        if registry is not None:
            registry.register(StateGauge("alertmanager_alerts", "How many alerts by state.", "state",
                                         ("active", "suppressed", "unprocessed"), self._alert_states))
            registry.register(StateGauge("alertmanager_silences", "How many silences by state.", "state",
                                         ("active", "expired", "pending"), self._silence_states))

    # -- configuration ------------------------------------------------------

    def _apply(self, config: AlertmanagerConfig) -> None:
        # Templates first: a broken one raises ConfigError before anything is swapped.
        templates = Templates(config.templates)
        for rc in config.receivers:
            check_templates(rc, templates)
        self.templates = templates
        self.config = config
        self.route = Route.build(config.route)
        self.inhibitor = Inhibitor(config.inhibit_rules)
        self.receivers = {r.name: Receiver(r.name, self._integrations(r.name))
                          for r in config.receivers}
        for r in config.receivers:
            if r.not_delivered:
                log.warning("notify: receiver %r: %s not supported by kubesight; those are not sent",
                            r.name, ", ".join(r.not_delivered))
        self.dispatcher = Dispatcher(
            self.route, self.receivers, mute=self.muted, nflog=self.nflog,
            intervals=config.time_intervals, clock=self.clock, sleep=self.sleep,
            counters=self.counters, external_url=self.external_url,
            attempt_timeout=self.attempt_timeout)

    def _integrations(self, name: str) -> tuple[Integration, ...]:
        rc = next(r for r in self.config.receivers if r.name == name)
        out: list[Integration] = [Webhook(w, self._client(w.http)) for w in rc.webhooks]
        out += slack_integrations(rc, self._client, self.templates)
        out += email_integrations(rc, self.templates)
        return tuple(out)

    def _client(self, http: HTTPClientConfig) -> httpx.AsyncClient:
        """The shared client, or one per distinct http_config (auth, TLS), kept across reloads."""
        if http.is_default():
            return self.client
        client = self._clients.get(http)
        if client is None:
            client = http.client(self.attempt_timeout)
            self._clients[http] = client
        return client

    async def reload(self, config: AlertmanagerConfig) -> None:
        """Swap in a new configuration; alerts held are routed again under it.

        Raises ConfigError (keeping the running configuration) when its templates are broken.
        """
        old = self.dispatcher
        self._apply(config)
        await old.stop()
        now = self.clock()
        for a in self.store:
            if not a.resolved(now):
                self.dispatcher.process(a)
        self._wake.set()
        log.info("notify: configuration loaded (%d receivers)", len(self.receivers))

    # -- intake ---------------------------------------------------------------

    def send(self, alerts: Sequence[Alert]) -> None:
        """AlertSink: take alerts from the rules engine; invalid ones are counted and dropped.

        Safe to call from any thread: from outside the notifier's event loop the
        alerts are handed to that loop.
        """
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                loop.call_soon_threadsafe(self._take, list(alerts))
                return
        self._take(alerts)

    def _take(self, alerts: Sequence[Alert]) -> None:
        try:
            self.post(alerts)
        except ValidationError as exc:
            log.warning("notify: dropped alerts from the rules engine: %s", exc)

    def post(self, alerts: Sequence[Alert]) -> None:
        """Store and dispatch ``alerts`` as the v2 API does; raises ValidationError listing the bad ones.

        Valid alerts in the batch are taken even when others are refused.
        """
        now = self.clock()
        errors = []
        due = float("inf")
        for a in alerts:
            stored = from_alert(a, now, self.config.global_.resolve_timeout)
            problem = _validate(stored)
            if problem:
                self.counters.invalid.inc()
                errors.append(f"{problem}: {dict(a.labels)}")
                continue
            self.counters.received.inc(1, "resolved" if stored.resolved(now) else "firing")
            merged = self.store.put(stored, now)
            due = min(due, self.dispatcher.process(merged))
        if due < self._planned:
            self._wake.set()  # something is due before the loop would look again
        if errors:
            raise ValidationError("; ".join(errors))

    # -- state of an alert ------------------------------------------------------

    def silenced_by(self, labels: Mapping[str, str], now: float) -> list[str]:
        return self.silences.mutes(labels, now)

    def inhibited_by(self, labels: Mapping[str, str], now: float) -> list[str]:
        self.inhibitor.refresh(self.store, self.store.version)
        return self.inhibitor.mutes(labels, now)

    def muted(self, labels: Mapping[str, str], now: float) -> bool:
        return bool(self.silenced_by(labels, now) or self.inhibited_by(labels, now))

    def receivers_for(self, labels: Mapping[str, str]) -> list[str]:
        seen: list[str] = []
        for r in self.route.match(labels):
            if r.opts.receiver not in seen:
                seen.append(r.opts.receiver)
        return seen

    def alerts(self) -> list[StoredAlert]:
        return list(self.store)

    def _alert_states(self) -> dict[str, int]:
        now = self.clock()
        out = {"active": 0, "suppressed": 0}
        for a in self.store:
            if not a.resolved(now):
                out["suppressed" if self.muted(a.labels, now) else "active"] += 1
        return out

    def _silence_states(self) -> dict[str, int]:
        now = self.clock()
        out: dict[str, int] = {}
        for s in self.silences.all():
            out[s.state(now)] = out.get(s.state(now), 0) + 1
        return out

    # -- running ------------------------------------------------------------------

    async def tick(self, wait: bool = True) -> None:
        """Do what is due at the clock's now: flush groups, and now and then collect garbage."""
        now = self.clock()
        if now - self._last_gc >= _GC_INTERVAL:
            self._last_gc = now
            self.gc(now)
        await self.dispatcher.tick(wait=wait)

    def gc(self, now: float) -> None:
        self.store.gc(now)
        self.silences.gc(now)
        self.nflog.gc(now)

    async def start(self) -> None:
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(self._run())
            log.info("notify: Alertmanager API and notifications running (%d receivers)",
                     len(self.receivers))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        self._loop = None
        await self.dispatcher.stop()
        if self._own_client:
            await self.client.aclose()
        for c in self._clients.values():
            await c.aclose()
        self._clients.clear()

    async def _run(self) -> None:
        while True:
            try:
                await self.tick(wait=False)
            except Exception:
                log.exception("notify: dispatch step failed")
            due = self.dispatcher.next_due()
            wait = _MAX_IDLE if due is None else min(_MAX_IDLE, max(0.0, due - self.clock()))
            self._planned = self.clock() + wait
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)


def _validate(a: StoredAlert) -> str:
    if not a.labels:
        return "at least one label pair required"
    for k in a.labels:
        if not _valid_name(k):
            return f"invalid label set: invalid name {k!r}"
    for k in a.annotations:
        if not _valid_name(k):
            return f"invalid annotations: invalid name {k!r}"
    if a.ends_at != 0.0 and a.ends_at < a.starts_at:
        return "start time must be before end time"
    return ""
