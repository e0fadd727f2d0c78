"""Which built-in collectors a server runs, built from the ``collectors`` config section.

Each collector's options come from its config block (everything but
``enabled``); a wrong option is a :class:`ConfigError` naming the collector
and the key, raised at start like any other config error. Collectors whose
package is not present in this build are skipped with a log line.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from kubesight.collect.family import Collector
from kubesight.config import CollectorConfig, Config
from kubesight.errors import ConfigError

log = logging.getLogger("kubesight.collect")

JOBS = {"host": "node", "containers": "cadvisor", "kube_state": "kube-state-metrics"}


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


def _host(c: CollectorConfig) -> Collector:
    from kubesight.collect.host import HostCollector, HostOptions

    return HostCollector(_options(HostOptions, "host", c.options))


BUILDERS: dict[str, Callable[[CollectorConfig], Collector]] = {"host": _host}
"""Collector name -> builder; the container and object-state collectors register here once wired."""


def build_collectors(cfg: Config, kubernetes: bool) -> list[tuple[str, Collector]]:
    """``(job, collector)`` for every enabled collector. ``kubernetes``: an API is reachable."""
    out: list[tuple[str, Collector]] = []
    for name, job in JOBS.items():
        c: CollectorConfig = getattr(cfg.collectors, name)
        enabled = kubernetes if c.enabled is None else c.enabled
        if not enabled:
            continue
        builder = BUILDERS.get(name)
        if builder is None:
            log.info("collector %s is not available in this build yet", name)
            continue
        out.append((job, builder(c)))
    return out
