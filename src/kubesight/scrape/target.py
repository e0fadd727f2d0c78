"""From discovered target groups to scrape targets, as Prometheus' PopulateLabels does.

For each discovered target: group labels under target labels; ``job``,
``__scheme__``, ``__metrics_path__``, ``__scrape_interval__``,
``__scrape_timeout__`` and ``__param_<name>`` added unless present (these are
the *discovered labels* the targets API shows); ``relabel_configs`` applied;
then every ``__``-prefixed label removed and ``instance`` defaulted to
``__address__``. Prometheus 3 no longer adds a default port, nor do we.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from kubesight.discovery import TargetGroup
from kubesight.model import Labels
from kubesight.model.durations import format_duration_ms, parse_duration_ms
from kubesight.scrape.config import ScrapeConfig
from kubesight.scrape.relabel import relabel


@dataclass(frozen=True)
class Target:
    labels: Labels
    """Final target labels, attached to every scraped series."""
    discovered: Labels
    """Labels before relabeling (the API's discoveredLabels)."""
    url: str
    interval_ms: int
    timeout_ms: int

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.url}\x00{self.labels!r}".encode()).hexdigest()[:16]

    def offset_ms(self, seed: str) -> int:
        """Where in the interval this target is scraped, spread evenly across targets."""
        h = int(hashlib.sha256(f"{seed}\x00{self.key}".encode()).hexdigest()[:12], 16)
        return h % self.interval_ms


@dataclass(frozen=True)
class DroppedTarget:
    discovered: Labels
    reason: str


def populate(
    cfg: ScrapeConfig, group: TargetGroup
) -> tuple[list[Target], list[DroppedTarget]]:
    targets: list[Target] = []
    dropped: list[DroppedTarget] = []
    for tlabels in group.targets:
        base = {**group.labels, **tlabels}
        defaults = {
            "job": cfg.job_name,
            "__scrape_interval__": format_duration_ms(cfg.interval_ms),
            "__scrape_timeout__": format_duration_ms(cfg.timeout_ms),
            "__metrics_path__": cfg.metrics_path,
            "__scheme__": cfg.scheme,
        }
        for name, values in cfg.params.items():
            if values:
                defaults[f"__param_{name}"] = values[0]
        for k, v in defaults.items():
            base.setdefault(k, v)
        discovered: Labels = tuple(sorted((k, v) for k, v in base.items() if v != ""))
        out = relabel(discovered, cfg.relabel_configs) if cfg.relabel_configs else discovered
        if out is None:
            dropped.append(DroppedTarget(discovered, "dropped by relabeling"))
            continue
        d = dict(out)
        address = d.get("__address__", "")
        if not address:
            dropped.append(DroppedTarget(discovered, "no address"))
            continue
        if "/" in address:
            dropped.append(DroppedTarget(discovered, f"{address!r} is not a valid hostname"))
            continue
        try:
            interval = parse_duration_ms(d.get("__scrape_interval__", "")) or cfg.interval_ms
            timeout = parse_duration_ms(d.get("__scrape_timeout__", "")) or cfg.timeout_ms
        except ValueError as exc:
            dropped.append(DroppedTarget(discovered, f"invalid scrape interval or timeout: {exc}"))
            continue
        if timeout > interval:
            dropped.append(DroppedTarget(discovered, "scrape timeout greater than scrape interval"))
            continue
        params = {k[len("__param_"):]: v for k, v in d.items() if k.startswith("__param_")}
        all_params = {**{k: vs for k, vs in cfg.params.items()}, **{k: [v] for k, v in params.items()}}
        query = urlencode([(k, v) for k, vs in sorted(all_params.items()) for v in vs])
        scheme = d.get("__scheme__", cfg.scheme)
        path = d.get("__metrics_path__", cfg.metrics_path)
        url = f"{scheme}://{address}{path}" + (f"?{query}" if query else "")
        final = {k: v for k, v in d.items() if not k.startswith("__") and v != ""}
        final.setdefault("instance", address)
        targets.append(Target(tuple(sorted(final.items())), discovered, url, interval, timeout))
    return targets, dropped
