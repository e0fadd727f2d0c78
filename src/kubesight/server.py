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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from kubesight import __version__
from kubesight.api import collectors as collectors_api
from kubesight.api import targets
from kubesight.api.app import AppOptions, build_app
from kubesight.api.status import ServerInfo
from kubesight.collect.runner import CollectorRunner
from kubesight.collect.setup import build_collectors
from kubesight.config import Config
from kubesight.discovery.config import build_discoverers
from kubesight.discovery.monitors_watch import MonitorWatcher
from kubesight.errors import ConfigError
from kubesight.ingest import pushgateway
from kubesight.ingest.remote_write import IngestMetrics, WriteLimits
from kubesight.model.durations import parse_duration_ms
from kubesight.model.instrument import Registry
from kubesight.scrape.config import (
    ScrapeConfig,
    parse_global,
    parse_scrape_config,
    parse_scrape_configs,
)
from kubesight.scrape.manager import ScrapeManager
from kubesight.store.engine import Storage, StorageOptions, check_dir_writable
from kubesight.web import landing

log = logging.getLogger("kubesight.server")


def _query_routes(store: Storage, cfg: Config) -> list[BaseRoute]:
    try:
        from kubesight.api import query
        from kubesight.promql import Engine
    except ImportError:  # the PromQL engine is optional while it is being built
        return []
    engine = Engine(
        store,
        lookback_delta_ms=parse_duration_ms(cfg.query.lookback_delta),
        max_samples=cfg.query.max_samples,
        timeout_s=parse_duration_ms(cfg.query.timeout) / 1000,
    )
    return list(query.routes(engine))


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
    base = Path(cfg.source).resolve().parent if cfg.source else Path.cwd()
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
    base = Path(cfg.source).resolve().parent if cfg.source else Path.cwd()
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
            monitor_tasks.append(asyncio.get_running_loop().create_task(apply_jobs()))

        monitor_tasks.append(asyncio.create_task(watcher.run(send), name="kubernetes monitors"))

    async def stop_monitors() -> None:
        for t in monitor_tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    collectors = build_collectors(cfg, kubernetes_enabled(cfg))
    every_ms = parse_duration_ms(cfg.collectors.interval) if cfg.collectors.interval else glob.scrape_interval_ms
    # The node's name, as kube-prometheus labels node_exporter's series; the host name elsewhere.
    instance = os.environ.get("NODE_NAME") or socket.gethostname()
    runners = [CollectorRunner(c, store, job, instance, every_ms / 1000) for job, c in collectors]

    async def start_collectors() -> None:
        for r in runners:
            r.start()

    async def stop_collectors() -> None:
        for r in runners:
            await r.stop()

    registry = Registry()
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

    async def reload() -> None:
        if reload_config is None:
            raise ConfigError("no config file to reload")
        new = reload_config()  # raises ConfigError: the running config stays
        new_jobs = scrape_configs(new)
        if new.storage != cfg.storage or new.server != cfg.server or new.kubernetes != cfg.kubernetes:
            log.warning("reload: storage, server and kubernetes settings take effect after a restart")
        jobs[:] = new_jobs
        await apply_jobs()
        info.config_yaml = new.to_yaml()

    opts = AppOptions(
        limits=WriteLimits(cfg.server.max_request_bytes, cfg.server.max_decoded_bytes),
        info=info,
        extra_routes=[
            *_query_routes(store, cfg),
            *targets.routes(manager),
            *pushgateway.routes(
                push_registry,
                pushgateway.PushLimits(cfg.server.max_request_bytes, cfg.server.max_decoded_bytes),
                ingest_metrics,
            ),
            *collectors_api.routes(collectors),
            *landing.routes(store.stats, str(data_dir)),
        ],
        after_open=[start_scraping, start_monitors, start_push_exporter, start_collectors],
        before_close=[stop_collectors, stop_monitors, stop_push_exporter, manager.stop],
        reload=reload,
        ingest_metrics=ingest_metrics,
    )
    return build_app(store, opts, registry), store


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
