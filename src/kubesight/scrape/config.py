"""``global`` and ``scrape_configs`` as Prometheus reads them, validated once.

Field names, defaults and checks follow Prometheus' configuration reference;
every error names the job and the field. Discovery keys are validated by
``discovery`` itself; relabel rules by :mod:`kubesight.scrape.relabel`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubesight.errors import ConfigError
from kubesight.model.durations import parse_duration_ms, parse_size_bytes
from kubesight.scrape.relabel import RelabelConfig, parse_relabel_configs

# Prometheus' defaults: global scrape_interval 1m, scrape_timeout 10s.
DEFAULT_INTERVAL_MS = 60_000
DEFAULT_TIMEOUT_MS = 10_000
_SD_KEYS = {
    "static_configs", "file_sd_configs", "http_sd_configs", "kubernetes_sd_configs",
    "consul_sd_configs", "dns_sd_configs", "ec2_sd_configs", "azure_sd_configs",
    "gce_sd_configs", "openstack_sd_configs", "docker_sd_configs", "dockerswarm_sd_configs",
    "eureka_sd_configs", "hetzner_sd_configs", "kuma_sd_configs", "linode_sd_configs",
    "marathon_sd_configs", "nerve_sd_configs", "nomad_sd_configs", "puppetdb_sd_configs",
    "scaleway_sd_configs", "serverset_sd_configs", "triton_sd_configs", "uyuni_sd_configs",
    "vultr_sd_configs", "ionos_sd_configs", "lightsail_sd_configs", "digitalocean_sd_configs",
    "ovhcloud_sd_configs", "moby_sd_configs",
}
_HTTP_KEYS = {
    "basic_auth", "authorization", "bearer_token", "bearer_token_file", "tls_config",
    "follow_redirects", "enable_http2", "proxy_url", "no_proxy", "proxy_from_environment",
    "proxy_connect_header", "oauth2",
}
_KNOWN = _SD_KEYS | _HTTP_KEYS | {
    "job_name", "scrape_interval", "scrape_timeout", "metrics_path", "scheme", "params",
    "honor_labels", "honor_timestamps", "track_timestamps_staleness", "relabel_configs",
    "metric_relabel_configs", "sample_limit", "label_limit", "label_name_length_limit",
    "label_value_length_limit", "target_limit", "body_size_limit", "keep_dropped_targets",
    "scrape_protocols", "enable_compression", "scrape_classic_histograms",
    "native_histogram_bucket_limit", "native_histogram_min_bucket_factor",
    "metric_name_validation_scheme", "metric_name_escaping_scheme", "fallback_scrape_protocol",
    "always_scrape_classic_histograms", "convert_classic_histograms_to_nhcb",
    "scrape_failure_log_file",
}


@dataclass(frozen=True)
class HTTPClientConfig:
    basic_auth: tuple[str, str] | None = None
    bearer_token: str | None = None
    authorization_type: str = "Bearer"
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure_skip_verify: bool = False
    server_name: str | None = None
    follow_redirects: bool = True


@dataclass(frozen=True)
class ScrapeConfig:
    job_name: str
    interval_ms: int
    timeout_ms: int
    metrics_path: str = "/metrics"
    scheme: str = "http"
    params: dict[str, list[str]] = field(default_factory=dict)
    honor_labels: bool = False
    honor_timestamps: bool = True
    relabel_configs: list[RelabelConfig] = field(default_factory=list)
    metric_relabel_configs: list[RelabelConfig] = field(default_factory=list)
    sample_limit: int = 0
    label_limit: int = 0
    label_name_length_limit: int = 0
    label_value_length_limit: int = 0
    target_limit: int = 0
    body_size_limit: int = 0
    keep_dropped_targets: int = 0
    enable_compression: bool = True
    http: HTTPClientConfig = field(default_factory=HTTPClientConfig)
    raw: dict[str, Any] = field(default_factory=dict, compare=False)
    """The entry as written, for discovery to read its *_sd_configs."""


@dataclass(frozen=True)
class GlobalConfig:
    scrape_interval_ms: int = DEFAULT_INTERVAL_MS
    scrape_timeout_ms: int = DEFAULT_TIMEOUT_MS
    external_labels: dict[str, str] = field(default_factory=dict)


def parse_global(raw: dict[str, Any] | None, where: str = "global") -> GlobalConfig:
    raw = raw or {}
    interval = _dur(raw, "scrape_interval", DEFAULT_INTERVAL_MS, where)
    timeout = _dur(raw, "scrape_timeout", min(DEFAULT_TIMEOUT_MS, interval), where)
    if timeout > interval:
        raise ConfigError(f"{where}: scrape_timeout greater than scrape_interval")
    ext = raw.get("external_labels") or {}
    if not isinstance(ext, dict):
        raise ConfigError(f"{where}.external_labels: expected a mapping")
    return GlobalConfig(interval, timeout, {str(k): str(v) for k, v in ext.items()})


def parse_scrape_configs(
    raw: list[dict[str, Any]], glob: GlobalConfig, base_dir: Path
) -> list[ScrapeConfig]:
    out: list[ScrapeConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ConfigError(f"scrape_configs[{i}]: expected a mapping")
        job = entry.get("job_name")
        if not isinstance(job, str) or not job:
            raise ConfigError(f"scrape_configs[{i}]: job_name is required")
        if job in seen:
            raise ConfigError(f"found multiple scrape configs with job name {job!r}")
        seen.add(job)
        out.append(parse_scrape_config(entry, glob, base_dir))
    return out


def parse_scrape_config(entry: dict[str, Any], glob: GlobalConfig, base_dir: Path) -> ScrapeConfig:
    job = str(entry["job_name"])
    where = f"job {job!r}"
    unknown = set(entry) - _KNOWN
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    interval = _dur(entry, "scrape_interval", glob.scrape_interval_ms, where)
    timeout = _dur(entry, "scrape_timeout", min(glob.scrape_timeout_ms, interval), where)
    if timeout > interval:
        raise ConfigError(
            f"{where}: scrape_timeout ({timeout} ms) greater than scrape_interval ({interval} ms)"
        )
    if interval <= 0:
        raise ConfigError(f"{where}: scrape_interval must be positive")
    scheme = str(entry.get("scheme", "http"))
    if scheme not in ("http", "https"):
        raise ConfigError(f"{where}: scheme: must be http or https, not {scheme!r}")
    path = str(entry.get("metrics_path", "/metrics"))
    params_raw = entry.get("params") or {}
    if not isinstance(params_raw, dict):
        raise ConfigError(f"{where}: params: expected a mapping of name to list of values")
    params = {
        str(k): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in params_raw.items()
    }
    body_limit = entry.get("body_size_limit", 0)
    try:
        body_size = parse_size_bytes(str(body_limit)) if body_limit else 0
    except ValueError as exc:
        raise ConfigError(f"{where}: body_size_limit: {exc}") from exc
    return ScrapeConfig(
        job_name=job,
        interval_ms=interval,
        timeout_ms=timeout,
        metrics_path=path,
        scheme=scheme,
        params=params,
        honor_labels=_bool(entry, "honor_labels", False, where),
        honor_timestamps=_bool(entry, "honor_timestamps", True, where),
        relabel_configs=parse_relabel_configs(entry.get("relabel_configs"), f"{where}: relabel_configs"),
        metric_relabel_configs=parse_relabel_configs(
            entry.get("metric_relabel_configs"), f"{where}: metric_relabel_configs"
        ),
        sample_limit=_int(entry, "sample_limit", where),
        label_limit=_int(entry, "label_limit", where),
        label_name_length_limit=_int(entry, "label_name_length_limit", where),
        label_value_length_limit=_int(entry, "label_value_length_limit", where),
        target_limit=_int(entry, "target_limit", where),
        body_size_limit=body_size,
        keep_dropped_targets=_int(entry, "keep_dropped_targets", where),
        enable_compression=_bool(entry, "enable_compression", True, where),
        http=_http(entry, where, base_dir),
        raw=entry,
    )


def _dur(raw: dict[str, Any], key: str, default: int, where: str) -> int:
    v = raw.get(key)
    if v is None:
        return default
    try:
        return parse_duration_ms(str(v))
    except ValueError as exc:
        raise ConfigError(f"{where}: {key}: {exc}") from exc


def _bool(raw: dict[str, Any], key: str, default: bool, where: str) -> bool:
    v = raw.get(key, default)
    if not isinstance(v, bool):
        raise ConfigError(f"{where}: {key}: expected true or false, got {v!r}")
    return v


def _int(raw: dict[str, Any], key: str, where: str) -> int:
    v = raw.get(key, 0)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ConfigError(f"{where}: {key}: expected a non-negative integer, got {v!r}")
    return v


def _http(entry: dict[str, Any], where: str, base_dir: Path) -> HTTPClientConfig:
    for unsupported in ("oauth2", "proxy_url", "proxy_connect_header"):
        if entry.get(unsupported):
            raise ConfigError(f"{where}: {unsupported} is not supported yet")
    basic = entry.get("basic_auth")
    basic_pair = None
    if basic:
        if not isinstance(basic, dict) or "username" not in basic:
            raise ConfigError(f"{where}: basic_auth: username is required")
        password = basic.get("password")
        if basic.get("password_file"):
            password = _read(base_dir, str(basic["password_file"]), f"{where}: basic_auth.password_file")
        basic_pair = (str(basic["username"]), str(password or ""))
    token = entry.get("bearer_token")
    if entry.get("bearer_token_file"):
        token = _read(base_dir, str(entry["bearer_token_file"]), f"{where}: bearer_token_file")
    auth = entry.get("authorization") or {}
    auth_type = "Bearer"
    if auth:
        if not isinstance(auth, dict):
            raise ConfigError(f"{where}: authorization: expected a mapping")
        auth_type = str(auth.get("type", "Bearer"))
        token = auth.get("credentials")
        if auth.get("credentials_file"):
            token = _read(base_dir, str(auth["credentials_file"]), f"{where}: authorization.credentials_file")
    if sum(x is not None for x in (basic_pair, token)) > 1:
        raise ConfigError(f"{where}: at most one of basic_auth, bearer_token and authorization may be set")
    tls = entry.get("tls_config") or {}
    if not isinstance(tls, dict):
        raise ConfigError(f"{where}: tls_config: expected a mapping")

    def path(key: str) -> str | None:
        v = tls.get(key)
        return str(base_dir / str(v)) if v else None

    return HTTPClientConfig(
        basic_auth=basic_pair,
        bearer_token=str(token) if token is not None else None,
        authorization_type=auth_type,
        ca_file=path("ca_file"),
        cert_file=path("cert_file"),
        key_file=path("key_file"),
        insecure_skip_verify=bool(tls.get("insecure_skip_verify", False)),
        server_name=tls.get("server_name"),
        follow_redirects=_bool(entry, "follow_redirects", True, where),
    )


def _read(base_dir: Path, name: str, where: str) -> str:
    try:
        return (base_dir / name).read_text().strip()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {base_dir / name}: {exc.strerror}") from exc
