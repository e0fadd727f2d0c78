"""Everything rules need at run time, built from the config in one call (for the server).

::

    runtime = build_rules_runtime(store, engine, parse_rules_config(raw, base_dir, parse_relabel),
                                  notifier=builtin_alertmanager, external_url=url, registry=registry)
    AppOptions(extra_routes=kubesight.api.rules.routes(runtime.manager),
               after_open=[runtime.start], before_close=[runtime.stop], ...)
    # on reload:
    await runtime.reload(new_rules_config)
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from kubesight.model.alerts import Alert, AlertSink
from kubesight.model.instrument import Registry
from kubesight.promql import Engine
from kubesight.rules.alertmanager import AlertmanagerSender
from kubesight.rules.config import RulesConfig
from kubesight.rules.defaults import default_groups
from kubesight.rules.files import GroupSpec
from kubesight.rules.manager import RuleManager, RuleManagerOptions, engine_query_func
from kubesight.store.interface import Appender, Querier

log = logging.getLogger("kubesight.rules")


class NotifierAndSender:
    """Alerts with external labels and alert_relabel_configs applied, to the built-in notifier
    and to the external Alertmanagers: both see what a Prometheus would send."""

    def __init__(self, notifier: AlertSink, sender: AlertmanagerSender) -> None:
        self.notifier = notifier
        self.sender = sender

    def send(self, alerts: Sequence[Alert]) -> None:
        prepared = self.sender.prepare(alerts)
        try:
            self.notifier.send(prepared)
        except Exception:  # the notifier's failure must not keep alerts from the Alertmanagers
            log.exception("the built-in notifier refused alerts")
        self.sender.enqueue(prepared)




@dataclass
class RulesRuntime:
    manager: RuleManager
    sender: AlertmanagerSender
    defaults: bool = True
    disabled_defaults: Collection[str] = ()
    extra_groups: list[GroupSpec] = field(default_factory=list)
    """Groups from elsewhere (PrometheusRule objects); set them, then reload."""

    async def start(self) -> None:
        await self.sender.start()
        await self.manager.start()

    async def stop(self) -> None:
        await self.manager.stop()
        await self.sender.stop()

    def groups(self) -> list[GroupSpec]:
        return [*(default_groups(self.disabled_defaults) if self.defaults else []), *self.extra_groups]

    async def reload(self, cfg: RulesConfig) -> None:
        """Apply a new config; a broken rule file raises RuleFileError and changes nothing."""
        o = self.manager.opts
        old = (o.evaluation_interval_ms, o.rule_query_offset_ms, o.external_labels)
        o.evaluation_interval_ms, o.rule_query_offset_ms = cfg.evaluation_interval_ms, cfg.rule_query_offset_ms
        o.external_labels = dict(cfg.external_labels)
        try:
            await self.manager.reload_async(cfg.rule_files, self.groups())
        except Exception:
            o.evaluation_interval_ms, o.rule_query_offset_ms, o.external_labels = old
            raise
        await self.sender.update(cfg.alerting, cfg.external_labels)


def build_rules_runtime(
    store: Appender,
    querier: Querier,
    engine: Engine,
    cfg: RulesConfig,
    *,
    notifier: AlertSink | None = None,
    defaults: bool = True,
    disabled_defaults: Collection[str] = (),
    external_url: str = "",
    registry: Registry | None = None,
) -> RulesRuntime:
    """A rule manager over ``store`` sending to ``notifier`` and to ``cfg.alerting``'s Alertmanagers.

    Loads the rule files and the default rules now (raises RuleFileError if one is invalid).
    """
    sender = AlertmanagerSender(cfg.alerting, cfg.external_labels, registry=registry)
    sink: AlertSink = sender if notifier is None else NotifierAndSender(notifier, sender)
    manager = RuleManager(RuleManagerOptions(
        appender=store, querier=querier, query=engine_query_func(engine), sink=sink,
        evaluation_interval_ms=cfg.evaluation_interval_ms, rule_query_offset_ms=cfg.rule_query_offset_ms,
        external_labels=dict(cfg.external_labels), external_url=external_url, registry=registry,
    ))
    runtime = RulesRuntime(manager, sender, defaults, disabled_defaults)
    manager.reload(cfg.rule_files, runtime.groups())
    return runtime
