"""The one typed config tree, loaded and validated once at start.

A config file is YAML. Prometheus' own top-level keys (``global``,
``scrape_configs``, ``rule_files``, ``alerting``, ``remote_write``,
``remote_read``) are accepted as they are; kubesight's additions live beside
them under ``storage``, ``server``, ``query``, ``kubernetes``, ``collectors``,
``default_rules``, ``dashboards``, and the built-in Alertmanager's ``alertmanager`` (an
alertmanager.yml inline) or ``alertmanager_config_file``. Every error names the file
and the field. Command-line flags are mapped onto this tree by ``cli``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kubesight.errors import ConfigError
from kubesight.model.durations import parse_duration_ms, parse_size_bytes

log = logging.getLogger("kubesight.config")

# Keys a prometheus.yml may carry that later subsystems apply.
_NOT_YET_APPLIED = ("remote_write", "remote_read")


class _Loader(yaml.SafeLoader):
    """YAML as Prometheus reads its config: only true/false are booleans.

    PyYAML follows YAML 1.1, where ``on``, ``yes``, ``off`` and ``no`` are
    booleans; Prometheus decodes into typed Go fields, so a label value ``on``
    stays the string "on". Turning those into booleans would change labels.
    """


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StorageConfig(_Strict):
    retention: str = "15d"
    retention_size: str = "0"
    wal_fsync: bool = False
    head_max_samples: int = Field(2_000_000, ge=10_000)

    @field_validator("retention")
    @classmethod
    def _dur(cls, v: str) -> str:
        parse_duration_ms(v)
        return v

    @field_validator("retention_size")
    @classmethod
    def _size(cls, v: str) -> str:
        parse_size_bytes(v)
        return v

    @property
    def retention_ms(self) -> int:
        return parse_duration_ms(self.retention)

    @property
    def retention_bytes(self) -> int:
        return parse_size_bytes(self.retention_size)


class ServerConfig(_Strict):
    listen: str = "127.0.0.1:9595"
    external_url: str = ""
    """The URL people reach kubesight at (alerts link to it); empty: ``http://<listen>``."""
    data_dir: Path = Path("./kubesight-data")
    # 32 MiB compressed / 256 MiB decoded: far above Prometheus' largest batches
    # (max_samples_per_send 2000 -> ~1 MB), small enough to refuse a bomb.
    max_request_bytes: int = Field(32 << 20, ge=1024)
    max_decoded_bytes: int = Field(256 << 20, ge=1024)

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        host, _, port = v.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected HOST:PORT, got {v!r}")
        return v

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


class QueryConfig(_Strict):
    max_samples: int = Field(50_000_000, ge=1)  # Prometheus' --query.max-samples default
    timeout: str = "2m"  # Prometheus' --query.timeout default
    lookback_delta: str = "5m"  # Prometheus' --query.lookback-delta default

    @field_validator("timeout", "lookback_delta")
    @classmethod
    def _dur(cls, v: str) -> str:
        parse_duration_ms(v)
        return v


class KubernetesConfig(_Strict):
    enabled: bool | None = None
    """None: on when running inside a cluster (service account present)."""
    api_server: str = ""
    kubeconfig: str = ""
    monitors: bool = False
    """Turn ServiceMonitor and PodMonitor objects into scrape jobs, as the Prometheus Operator does."""


class CollectorConfig(BaseModel):
    """One built-in collector: ``enabled`` plus its own options (checked by the collector).

    ``enabled: null`` (the default for ``kube_state``) means "when a Kubernetes
    API is reachable". Any other key is an option of the collector, e.g. for
    ``host``: ``rootfs``, ``procfs``, ``sysfs``, ``enable``, ``disable``,
    ``textfile_directory`` (see docs/collect-host.md).
    """

    model_config = ConfigDict(extra="allow")
    enabled: bool | None = True

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class KubeStateCollectorConfig(CollectorConfig):
    enabled: bool | None = None
    """None: when a Kubernetes API is reachable (a block with only options does not force it on)."""


class CollectorsConfig(_Strict):
    """The built-in collectors, appended straight into the store (no HTTP round trip)."""

    interval: str = ""
    """How often they collect; empty: the global ``scrape_interval`` (15s by default)."""
    host: CollectorConfig = Field(default_factory=CollectorConfig)
    containers: CollectorConfig = Field(default_factory=CollectorConfig)
    kube_state: KubeStateCollectorConfig = Field(default_factory=KubeStateCollectorConfig)

    @field_validator("interval")
    @classmethod
    def _interval(cls, v: str) -> str:
        if v and parse_duration_ms(v) <= 0:
            raise ValueError("must be a positive duration")
        return v


class DefaultRulesConfig(_Strict):
    """The rules kubesight ships (docs/rules.md, "Default rules")."""

    enabled: bool = True
    disable: list[str] = Field(default_factory=list)
    """File stems (``kubernetes``), group names or rule names left out."""


class DashboardsConfig(_Strict):
    """Grafana dashboards the UI shows besides imported ones (docs/dashboards.md)."""

    dirs: list[str] = Field(default_factory=list)
    """Directories of ``*.json`` Grafana dashboards, read-only, re-read when they change."""
    builtin: bool = True
    """Show the dashboards kubesight ships."""

    def resolved_dirs(self, base: Path) -> list[Path]:
        """The directories, relative ones taken from ``base`` (the config file's directory)."""
        return [(base / d) if not Path(d).is_absolute() else Path(d) for d in self.dirs]


class Config(_Strict):
    global_: dict[str, Any] = Field(default_factory=dict, alias="global")
    scrape_configs: list[dict[str, Any]] | None = None
    """None (the key absent): the default jobs; [] scrapes nothing, as in Prometheus."""
    rule_files: list[str] = Field(default_factory=list)
    alerting: dict[str, Any] = Field(default_factory=dict)
    remote_write: list[dict[str, Any]] = Field(default_factory=list)
    remote_read: list[dict[str, Any]] = Field(default_factory=list)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    query: QueryConfig = Field(default_factory=QueryConfig)
    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig)
    collectors: CollectorsConfig = Field(default_factory=CollectorsConfig)
    default_rules: DefaultRulesConfig = Field(default_factory=DefaultRulesConfig)
    dashboards: DashboardsConfig = Field(default_factory=DashboardsConfig)
    alertmanager: dict[str, Any] | None = None
    """The built-in notifier's config, in alertmanager.yml's syntax (checked by ``kubesight.notify``)."""
    alertmanager_config_file: str = ""
    """Or an alertmanager.yml to read it from (relative to this file); not both."""
    source: str = Field("", exclude=True)
    """Where the config came from (a file path, or empty for defaults)."""

    @property
    def base_dir(self) -> Path:
        """Where relative paths in the config point from: the file's directory (else the cwd)."""
        return Path(self.source).resolve().parent if self.source else Path.cwd()

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(by_alias=True, mode="json"), sort_keys=False)


def _merge(into: dict[str, Any], key: str, values: dict[str, Any], where: str) -> None:
    """Put flag ``values`` under ``into[key]``; nested mappings merge, None means "not given"."""
    sect = into.setdefault(key, {})
    if not isinstance(sect, dict):
        raise ConfigError(f"{where}: {key!r} must be a mapping")
    for k, v in values.items():
        if isinstance(v, dict):
            _merge(sect, k, v, where)
        elif v is not None:
            sect[k] = v


def load_config(path: Path | None, overrides: dict[str, Any] | None = None) -> Config:
    """Load a YAML file (or nothing) and apply flag overrides, validating once."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        try:
            loaded = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping, not {type(loaded).__name__}")
        data = loaded
    for section, values in (overrides or {}).items():
        if isinstance(values, dict):
            _merge(data, section, values, str(path))
        elif values is not None:  # a top-level scalar such as alertmanager_config_file
            data[section] = values
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        where = str(path) if path else "command-line flags"
        problems = "; ".join(
            f"field {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from exc
    cfg.source = str(path) if path else ""
    for key in _NOT_YET_APPLIED:
        if getattr(cfg, key):
            log.warning("config %s: %r is accepted but not applied by this version yet", path, key)
    return cfg
