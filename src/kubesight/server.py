"""Wire the server's components from a validated config and run them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from kubesight import __version__
from kubesight.api import alertmanager as alertmanager_api
from kubesight.api import collectors as collectors_api
from kubesight.api import query, targets
from kubesight.api import rules as rules_api
from kubesight.api.app import AppOptions, build_app
from kubesight.api.status import ServerInfo
from kubesight.collect.runner import CollectorRunner
from kubesight.collect.setup import Context, build_collectors, kube_access
from kubesight.config import Config
from kubesight.discovery._kubeclient import Informer, KubeAccess, Resource
from kubesight.discovery.config import build_discoverers
from kubesight.discovery.monitors_watch import MonitorWatcher
from kubesight.errors import ConfigError, KubesightError
from kubesight.ingest import pushgateway
from kubesight.ingest.remote_write import IngestMetrics, WriteLimits
from kubesight.model import Labels
from kubesight.model.durations import parse_duration_ms
from kubesight.model.instrument import Registry
from kubesight.notify import AlertmanagerConfig, Notifier
from kubesight.notify import load_config as load_am_config
from kubesight.promql import Engine
from kubesight.rules import (
    GroupSpec,
    RuleFileError,
    RulesConfig,
    load_rule_files,
    parse_rules_config,
)
from kubesight.rules.prometheusrule import parse_prometheus_rule
from kubesight.rules.runtime import build_rules_runtime
from kubesight.scrape.config import (
    ScrapeConfig,
    parse_global,
    parse_scrape_config,
    parse_scrape_configs,
)
from kubesight.scrape.manager import ScrapeManager
from kubesight.scrape.relabel import parse_relabel_configs, relabel
from kubesight.store.engine import Storage, StorageOptions, check_dir_writable
from kubesight.web import landing, pages, promql_help
from kubesight.web.dashboards import api as dashboards_api
from kubesight.web.dashboards.library import DashboardLibrary

log = logging.getLogger("kubesight.server")


def _engine(store: Storage, cfg: Config) -> Engine:
    """The one PromQL engine: the query API and rule evaluation share it."""
    return Engine(
        store,
        lookback_delta_ms=parse_duration_ms(cfg.query.lookback_delta),
        max_samples=cfg.query.max_samples,
        timeout_s=parse_duration_ms(cfg.query.timeout) / 1000,
    )


def parse_alert_relabel(raw: Any, where: str) -> Callable[[Labels], Labels | None]:
    """``alert_relabel_configs`` compiled by the scrape layer's relabeling (rules cannot import it)."""
    configs = parse_relabel_configs(raw, where)
    return lambda labels: relabel(labels, configs)


def rules_config(cfg: Config) -> RulesConfig:
    """``global`` (evaluation), ``rule_files`` and ``alerting`` as the rules runtime takes them."""
    raw = {"global": cfg.global_, "rule_files": cfg.rule_files, "alerting": cfg.alerting}
    return parse_rules_config(raw, cfg.base_dir, parse_alert_relabel)


def alertmanager_config(cfg: Config) -> AlertmanagerConfig:
    """The built-in notifier's config: inline, from a file (relative to the config file) or quiet."""
    file = cfg.alertmanager_config_file
    if file and not Path(file).is_absolute():
        file = str(cfg.base_dir / file)
    return load_am_config(inline=cfg.alertmanager, file=file or None)


def external_url(cfg: Config) -> str:
    return (cfg.server.external_url or f"http://{_self_target(cfg)}").rstrip("/")


def _self_target(cfg: Config) -> str:
    host, port = cfg.server.host, cfg.server.port
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


_SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


def kubernetes_enabled(cfg: Config) -> bool:
    k = cfg.kubernetes
    if k.enabled is not None:
        return k.enabled
    return bool(k.api_server or k.kubeconfig) or (
        "KUBERNETES_SERVICE_HOST" in os.environ and _SERVICE_ACCOUNT.exists()
    )


def annotated_pods_job(cfg: Config) -> dict[str, Any]:
    """The job Prometheus' example Kubernetes config uses for prometheus.io/* annotations."""
    sd: dict[str, Any] = {"role": "pod"}
    if cfg.kubernetes.api_server:
        sd["api_server"] = cfg.kubernetes.api_server
    if cfg.kubernetes.kubeconfig:
        sd["kubeconfig_file"] = cfg.kubernetes.kubeconfig
    ann = "__meta_kubernetes_pod_annotation_prometheus_io_"
    return {
        "job_name": "kubernetes-pods",
        "scrape_interval": "15s",
        "kubernetes_sd_configs": [sd],
        "relabel_configs": [
            {"source_labels": [ann + "scrape"], "action": "keep", "regex": "true"},
            {"source_labels": [ann + "path"], "target_label": "__metrics_path__", "regex": "(.+)"},
            {"source_labels": [ann + "scheme"], "target_label": "__scheme__", "regex": "(https?)"},
            {"source_labels": ["__address__", ann + "port"], "regex": r"([^:]+)(?::\d+)?;(\d+)",
             "replacement": "$1:$2", "target_label": "__address__"},
            {"action": "labelmap", "regex": "__meta_kubernetes_pod_label_(.+)"},
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_pod_phase"], "regex": "Pending|Succeeded|Failed|Completed",
             "action": "drop"},
        ],
    }


def scrape_configs(cfg: Config) -> list[ScrapeConfig]:
    """The config's scrape jobs, validated (discovery included).

    With no scrape config at all, kubesight watches itself (as a fresh
    Prometheus does with its example config) and, in a cluster, the pods
    annotated ``prometheus.io/scrape: "true"``.
    """
    base = cfg.base_dir
    glob = parse_global(cfg.global_)
    raw = cfg.scrape_configs
    if raw is None:
        raw = [{"job_name": "kubesight", "scrape_interval": "15s",
                "static_configs": [{"targets": [_self_target(cfg)]}]}]
        if kubernetes_enabled(cfg):
            raw.append(annotated_pods_job(cfg))
    jobs = parse_scrape_configs(raw, glob, base)
    for job in jobs:
        build_discoverers(job.job_name, job.raw, base)  # refuse bad SD configs at start
    return jobs


def _defaults_off(cfg: Config) -> tuple[bool, tuple[str, ...]]:
    return cfg.default_rules.enabled, tuple(cfg.default_rules.disable)


def collector_interval_ms(cfg: Config) -> int:
    """``collectors.interval``, else an explicit global ``scrape_interval``, else 15 s.

    Not Prometheus' 1m default: the built-in collectors stand in for a
    node_exporter and a cAdvisor scraped every 15 s by the usual setups, and
    ``kubesight top``'s 1m rate needs more than one sample a minute.
    """
    if cfg.collectors.interval:
        return parse_duration_ms(cfg.collectors.interval)
    if "scrape_interval" in cfg.global_:
        return parse_global(cfg.global_).scrape_interval_ms
    return 15_000


def build(
    cfg: Config, flags: dict[str, str], reload_config: Callable[[], Config] | None = None
) -> tuple[Starlette, Storage]:
    data_dir = Path(cfg.server.data_dir).resolve()
    check_dir_writable(data_dir)
    store = Storage(
        data_dir,
        StorageOptions(
            retention_ms=cfg.storage.retention_ms,
            retention_bytes=cfg.storage.retention_bytes,
            head_max_samples=cfg.storage.head_max_samples,
            wal_fsync=cfg.storage.wal_fsync,
        ),
    )
    info = ServerInfo(config_yaml=cfg.to_yaml(), flags=flags, retention=cfg.storage.retention)
    jobs = scrape_configs(cfg)
    base = cfg.base_dir
    manager = ScrapeManager(
        store, lambda sc: build_discoverers(sc.job_name, sc.raw, base), offset_seed=cfg.server.listen
    )

    glob = parse_global(cfg.global_)
    generated: list[ScrapeConfig] = []
    applying = asyncio.Lock()  # a reload and a monitor change must not interleave

    async def apply_jobs() -> None:
        async with applying:
            await manager.apply([*jobs, *generated])

    async def start_scraping() -> None:
        await apply_jobs()

    registry = Registry()
    engine = _engine(store, cfg)
    url = external_url(cfg)
    notifier = Notifier(alertmanager_config(cfg), data_dir / "alertmanager", registry=registry, external_url=url)
    defaults_on, defaults_off = _defaults_off(cfg)
    rules = build_rules_runtime(
        store, store, engine, rules_config(cfg), notifier=notifier, defaults=defaults_on,
        disabled_defaults=defaults_off, external_url=url, registry=registry,
    )
    rules_lock = asyncio.Lock()  # a reload and a PrometheusRule change must not interleave
    current_rules = [rules_config(cfg)]

    async def apply_rules(new: RulesConfig | None = None) -> None:
        async with rules_lock:
            await rules.reload(new or current_rules[0])
            current_rules[0] = new or current_rules[0]

    monitor_tasks: list[asyncio.Task[None]] = []

    async def start_monitors() -> None:
        if not cfg.kubernetes.monitors:
            return
        watcher = MonitorWatcher(
            api_server=cfg.kubernetes.api_server or None,
            kubeconfig_file=cfg.kubernetes.kubeconfig or None,
            validate=lambda job: parse_scrape_config(job, glob, base),
        )

        def send(raw_jobs: list[dict[str, Any]]) -> None:
            generated[:] = [parse_scrape_config(j, glob, base) for j in raw_jobs]
            monitor_tasks[:] = [t for t in monitor_tasks if not t.done()]
            monitor_tasks.append(asyncio.get_running_loop().create_task(apply_jobs()))

        monitor_tasks.append(asyncio.create_task(watcher.run(send), name="kubernetes monitors"))

        def send_rules(groups: list[GroupSpec]) -> None:
            rules.extra_groups[:] = groups
            monitor_tasks[:] = [t for t in monitor_tasks if not t.done()]
            monitor_tasks.append(asyncio.get_running_loop().create_task(_quiet_reload(apply_rules())))

        access = kube_access(cfg.kubernetes.api_server, cfg.kubernetes.kubeconfig)
        monitor_tasks.append(asyncio.create_task(watch_prometheus_rules(access, send_rules),
                                                 name="kubernetes prometheusrules"))

    async def stop_monitors() -> None:
        for t in monitor_tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    node_name = os.environ.get("NODE_NAME", "")
    k8s = kubernetes_enabled(cfg)
    ctx = Context(kubernetes=k8s, node_name=node_name,
                  access=kube_access(cfg.kubernetes.api_server, cfg.kubernetes.kubeconfig))
    built = build_collectors(cfg, ctx, {j.job_name for j in jobs})
    every_ms = collector_interval_ms(cfg)
    # The node's name, as kube-prometheus labels node_exporter's series; the host name elsewhere.
    instance = node_name or socket.gethostname()
    runners = [CollectorRunner(b.collector, store, b.job, instance, every_ms / 1000) for b in built]

    async def start_collectors() -> None:
        for b in built:
            if b.start is not None:
                await b.start()
        for r in runners:
            r.start()

    async def stop_collectors() -> None:
        for r in runners:
            await r.stop()
        for b in built:
            if b.stop is not None:
                with contextlib.suppress(Exception):
                    await b.stop()

    ingest_metrics = IngestMetrics(registry)
    push_registry = pushgateway.PushRegistry(data_dir / "pushgateway")
    push_tasks: list[asyncio.Task[None]] = []

    async def start_push_exporter() -> None:
        push_tasks.append(asyncio.create_task(pushgateway.run_exporter(push_registry, store)))
        await asyncio.sleep(0)  # subscribed before the first push arrives

    async def stop_push_exporter() -> None:
        for t in push_tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t

    dashboards = DashboardLibrary(builtin=cfg.dashboards.builtin,
                                  dirs=cfg.dashboards.resolved_dirs(cfg.base_dir), data_dir=data_dir)

    async def reload() -> None:
        if reload_config is None:
            raise ConfigError("no config file to reload")
        new = reload_config()  # raises ConfigError: the running config stays
        # Everything is checked before anything changes, so a bad part keeps the whole old config.
        new_jobs = scrape_configs(new)
        new_rules = rules_config(new)
        load_rule_files(new_rules.rule_files)  # raises RuleFileError naming file, group and rule
        new_am = alertmanager_config(new)
        if new.storage != cfg.storage or new.server != cfg.server or new.kubernetes != cfg.kubernetes \
                or new.collectors != cfg.collectors:
            log.warning("reload: storage, server, kubernetes and collectors settings take effect after a restart")
        await notifier.reload(new_am)
        before = rules.defaults, rules.disabled_defaults
        rules.defaults, rules.disabled_defaults = _defaults_off(new)
        try:
            await apply_rules(new_rules)
        except Exception:
            rules.defaults, rules.disabled_defaults = before
            raise
        jobs[:] = new_jobs
        await apply_jobs()
        dashboards.configure(new.dashboards.builtin, new.dashboards.resolved_dirs(new.base_dir))
        info.config_yaml = new.to_yaml()

    opts = AppOptions(
        limits=WriteLimits(cfg.server.max_request_bytes, cfg.server.max_decoded_bytes),
        info=info,
        extra_routes=[
            *query.routes(engine),
            *targets.routes(manager, runners),
            *rules_api.routes(rules.manager),
            *alertmanager_api.routes(notifier),
            *pushgateway.routes(
                push_registry,
                pushgateway.PushLimits(cfg.server.max_request_bytes, cfg.server.max_decoded_bytes),
                ingest_metrics,
            ),
            *collectors_api.routes([(b.job, b.collector) for b in built]),
            *landing.routes(store.stats, str(data_dir)),
            *dashboards_api.routes(dashboards),
            *promql_help.routes(),
            *pages.routes(lambda: _young_store_since(store)),
        ],
        after_open=[start_scraping, start_monitors, start_push_exporter, start_collectors,
                    notifier.start, rules.start],
        before_close=[rules.stop, notifier.stop, stop_collectors, stop_monitors, stop_push_exporter,
                      manager.stop],
        reload=reload,
        ingest_metrics=ingest_metrics,
    )
    return build_app(store, opts, registry), store


def _young_store_since(store: Storage) -> int | None:
    """When all data is still in the head (a server started minutes ago), the oldest sample's time."""
    st = store.stats()
    return st.head_mint if st.blocks == 0 and st.head_samples else None


async def _quiet_reload(work: Awaitable[None]) -> None:
    try:
        await work
    except KubesightError as exc:
        log.error("PrometheusRule objects: %s; keeping the rules loaded before", exc)


PROMETHEUS_RULES = Resource("prometheusrules", "/apis/monitoring.coreos.com/v1")
# 1s: a kubectl apply of many PrometheusRules arrives as a burst; one reload for the burst.
_RULES_DEBOUNCE_S = 1.0


async def watch_prometheus_rules(access: Callable[[], KubeAccess],
                                 send: Callable[[list[GroupSpec]], None]) -> None:
    """List + watch PrometheusRule objects; ``send`` every valid object's groups after each change.

    An invalid object is left out whole (and logged); the others still load.
    """
    try:
        where = access()
    except ConfigError as exc:
        log.error("PrometheusRule objects: %s", exc)
        return
    wake = asyncio.Event()
    async with where.client() as client:
        inf = Informer(client, where.base_url, PROMETHEUS_RULES, on_change=lambda k, o, n: wake.set(),
                       log_name="prometheusrules")
        task = asyncio.create_task(inf.run())
        try:
            await inf.synced.wait()
            last: list[GroupSpec] | None = None
            while True:
                wake.clear()
                groups: list[GroupSpec] = []
                for key in sorted(inf.store):
                    obj = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", **inf.store[key]}
                    try:
                        groups.extend(parse_prometheus_rule(obj))
                    except RuleFileError as exc:
                        log.error("%s", exc)
                if groups != last:
                    send(groups)
                    last = groups
                await wake.wait()
                await asyncio.sleep(_RULES_DEBOUNCE_S)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


_gc_started = [0.0]


def _gc_watch(phase: str, info: dict[str, int]) -> None:
    """Log garbage collections long enough to delay scrapes (they stop every thread)."""
    if phase == "start":
        _gc_started[0] = time.perf_counter()
        return
    took = time.perf_counter() - _gc_started[0]
    if took > 0.25:
        log.warning("garbage collection of generation %d took %.2fs (%d objects freed)",
                    info.get("generation", -1), took, info.get("collected", 0))


def run(cfg: Config, flags: dict[str, str], reload_config: Callable[[], Config] | None = None) -> None:
    # Decoding a request allocates a tuple and strings per new series; with
    # the default gen-0 threshold (700) the collector ran ~20% of cold decode
    # time (measured in bench/wire_decode.py). Long-lived data is numpy arrays.
    gc.set_threshold(100_000, 50, 100)
    gc.callbacks.append(_gc_watch)
    app, store = build(cfg, flags, reload_config)
    url = f"http://{cfg.server.listen}"
    print(
        f"kubesight {__version__}\n"
        f"  UI and API:  {url}\n"
        f"  remote write: {url}/api/v1/write\n"
        f"  alerts:      {url}/api/v1/alerts (Alertmanager API: {url}/api/v2)\n"
        f"  data:        {store.dir}\n"
        f"  config:      {cfg.source or '(built-in defaults)'}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app,
        host=cfg.server.host,
        port=cfg.server.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=30,
    )
