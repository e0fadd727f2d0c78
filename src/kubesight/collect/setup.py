"""Which built-in collectors a server runs, built from the ``collectors`` config section.

Each collector's options come from its config block (everything but
``enabled``); a wrong option is a :class:`ConfigError` naming the collector
and the key, raised at start like any other config error. Collectors whose
package is not present in this build are skipped with a log line.

A collector that needs the Kubernetes API (the object-state collector, the
container collector's pod index) gets it from :class:`Context` and hands back
async ``start``/``stop`` hooks that the server runs once the store is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from typing import Any, NamedTuple

from kubesight.collect.family import Collector
from kubesight.config import CollectorConfig, Config
from kubesight.discovery._httpconfig import HTTPClientConfig
from kubesight.discovery._kubeclient import KubeAccess, in_cluster_access, kubeconfig_access
from kubesight.errors import ConfigError

log = logging.getLogger("kubesight.collect")

JOBS = {"host": "node", "containers": "cadvisor", "kube_state": "kube-state-metrics"}

Hook = Callable[[], Awaitable[None]]


class Built(NamedTuple):
    """A collector to run under ``job``, with what must run beside it (watches)."""

    job: str
    collector: Collector
    start: Hook | None = None
    stop: Hook | None = None


@dataclasses.dataclass(frozen=True)
class Context:
    """What builders may need besides their own options."""

    kubernetes: bool = False
    """A Kubernetes API is reachable (configured, or in a cluster)."""
    access: Callable[[], KubeAccess] | None = None
    """How to reach it; raises ConfigError when it cannot be located."""
    node_name: str = ""
    """This node's name (the downward API's ``NODE_NAME``); empty outside a cluster."""


def kube_access(api_server: str = "", kubeconfig: str = "") -> Callable[[], KubeAccess]:
    """Reach the API server as ``kubernetes_sd_configs`` does: a URL, a kubeconfig or in-cluster."""

    def access() -> KubeAccess:
        try:
            if api_server:
                return KubeAccess(api_server.rstrip("/"), HTTPClientConfig())
            if kubeconfig:
                return kubeconfig_access(Path(kubeconfig))
            return in_cluster_access()
        except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"kubernetes: cannot locate the API server: {exc}") from exc

    return access


def _options(cls: type[Any], where: str, raw: dict[str, Any]) -> Any:
    """``cls(**raw)`` for an options dataclass, with list values as frozensets where declared so."""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(
            f"collectors.{where}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}"
        )
    kwargs: dict[str, Any] = {}
    for k, v in raw.items():
        if "frozenset" in str(fields[k].type):
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ConfigError(f"collectors.{where}.{k}: must be a list of names")
            v = frozenset(v)
        kwargs[k] = v
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"collectors.{where}: {exc}") from exc


def _host(c: CollectorConfig, ctx: Context) -> Built:
    from kubesight.collect.host import HostCollector, HostOptions

    return Built(JOBS["host"], HostCollector(_options(HostOptions, "host", c.options)))


def _containers(c: CollectorConfig, ctx: Context) -> Built:
    from kubesight.collect.containers import (
        ContainerCollector,
        ContainerOptions,
        PodIndex,
        default_resolver,
        pod_informer,
    )

    opts: ContainerOptions = _options(ContainerOptions, "containers", c.options)
    if not ctx.kubernetes or ctx.access is None:
        return Built(JOBS["containers"], ContainerCollector.from_options(opts))
    try:
        access = ctx.access()
    except ConfigError as exc:
        log.warning("containers: %s; cgroups are named without their pods", exc)
        return Built(JOBS["containers"], ContainerCollector.from_options(opts))
    # Pods of this node name the cgroups; anything else (system units, docker) as outside Kubernetes.
    index = PodIndex(fallback=default_resolver(opts.docker_root))
    tasks: list[asyncio.Task[None]] = []

    async def watch() -> None:
        async with access.client() as client:
            await pod_informer(client, access.base_url, index, node=ctx.node_name).run()

    async def start() -> None:
        tasks.append(asyncio.create_task(watch(), name="containers pod index"))

    async def stop() -> None:
        for t in tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    return Built(JOBS["containers"], ContainerCollector.from_options(opts, index), start, stop)


def _kube_state_options(raw: dict[str, Any]) -> Any:
    """``collectors.kube_state`` options: lists for the tuples, allowlists as maps or flag strings."""
    from kubesight.collect.kube_state import AllowlistError, KubeStateOptions, parse_allowlist

    known = {f.name for f in dataclasses.fields(KubeStateOptions)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"collectors.kube_state: unknown option(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(known))}")
    kwargs: dict[str, Any] = {}
    for k, v in raw.items():
        if k.endswith("allowlist") and k != "metric_allowlist":
            what = k.replace("_", "-").replace("labels", "metric-labels").replace("annotations", "metric-annotations")
            if isinstance(v, str):
                try:
                    v = parse_allowlist(v, what)
                except AllowlistError as exc:
                    raise ConfigError(f"collectors.kube_state.{k}: {exc}") from exc
            if not isinstance(v, dict) or not all(
                    isinstance(x, list) and all(isinstance(y, str) for y in x) for x in v.values()):
                raise ConfigError(f"collectors.kube_state.{k}: must map resources to lists of names "
                                  "(or be a string like 'pods=[app,team]')")
        else:
            if isinstance(v, str):
                v = [x.strip() for x in v.split(",") if x.strip()]
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ConfigError(f"collectors.kube_state.{k}: must be a list of strings")
            v = tuple(v)
        kwargs[k] = v
    opts = KubeStateOptions(**kwargs)
    try:
        opts.validated()
        opts.family_filter()
    except (ValueError, AllowlistError) as exc:
        raise ConfigError(f"collectors.kube_state: {exc}") from exc
    return opts


def _kube_state(c: CollectorConfig, ctx: Context) -> Built:
    from kubesight.collect.kube_state import KubeStateCollector

    opts = _kube_state_options(c.options)
    need = ("collectors.kube_state: needs a Kubernetes API (--kubernetes.api-server, "
            "--kubernetes.kubeconfig, or running in a cluster)")
    if ctx.access is None:
        raise ConfigError(need)
    try:
        access = ctx.access()
    except ConfigError as exc:
        raise ConfigError(f"{need}: {exc}") from exc
    collector = KubeStateCollector(access, opts)

    async def start() -> None:
        try:
            await collector.start()
        except RuntimeError as exc:  # a CA or client certificate that cannot be read
            log.error("%s", exc)

    return Built(JOBS["kube_state"], collector, start, collector.stop)


def check_options(cfg: Config) -> None:
    """Raise ConfigError for a collector option that is wrong, without building anything."""
    from kubesight.collect.containers import ContainerOptions
    from kubesight.collect.host import HostOptions

    _options(HostOptions, "host", cfg.collectors.host.options)
    _options(ContainerOptions, "containers", cfg.collectors.containers.options)
    _kube_state_options(cfg.collectors.kube_state.options)


BUILDERS: dict[str, Callable[[CollectorConfig, Context], Built]] = {
    "host": _host, "containers": _containers, "kube_state": _kube_state}
"""Collector name -> builder."""


def build_collectors(cfg: Config, ctx: Context, scraped_jobs: Collection[str] = ()) -> list[Built]:
    """Every enabled collector. ``kube_state`` (``enabled: null``) runs when ``ctx.kubernetes``.

    A collector whose job is also a scrape job's name (``scraped_jobs``: say a
    node_exporter scraped as job ``node``) steps aside unless its ``enabled``
    is set explicitly: the same series twice under one job would double every
    sum and make ``up`` ambiguous.
    """
    out: list[Built] = []
    for name, job in JOBS.items():
        c: CollectorConfig = getattr(cfg.collectors, name)
        enabled = ctx.kubernetes if c.enabled is None else c.enabled
        if not enabled:
            continue
        if job in scraped_jobs and "enabled" not in c.model_fields_set:
            log.info("collector %s: a scrape job is named %r already; not collecting in-process "
                     "(set collectors.%s.enabled: true to do both)", name, job, name)
            continue
        builder = BUILDERS.get(name)
        if builder is None:
            log.info("collector %s is not available in this build yet", name)
            continue
        out.append(builder(c, ctx))
    return out
