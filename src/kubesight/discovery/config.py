"""The discovery part of one raw ``scrape_configs`` entry -> discoverers.

Keys, defaults and checks are Prometheus' (static_config, file_sd_config,
http_sd_config, kubernetes_sd_config). Every error names the job, the key, the
entry's index and the field, e.g. ``job 'node': file_sd_configs[0].refresh_interval:
not a valid duration '5 m'``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kubesight.discovery._groups import parse_groups
from kubesight.discovery._httpconfig import HTTP_CLIENT_KEYS, parse_http_client_config
from kubesight.discovery._kubeclient import KubeAccess, kubeconfig_access
from kubesight.discovery.file import FileDiscoverer
from kubesight.discovery.http import HTTPDiscoverer
from kubesight.discovery.kubernetes import ALLOWED_SELECTORS, ROLES, KubernetesDiscoverer, Selector
from kubesight.discovery.static import StaticDiscoverer
from kubesight.discovery.targetgroup import Discoverer, TargetGroup
from kubesight.errors import ConfigError
from kubesight.model.durations import parse_duration_ms

SUPPORTED = ("static_configs", "file_sd_configs", "http_sd_configs", "kubernetes_sd_configs")
# Prometheus' file_sd path rule: a glob only in the last path component, and a
# .json/.yml/.yaml extension that decides the format.
_FILE_SD_NAME = re.compile(r"^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$")
_K8S_SELECTOR_KEYS = frozenset({"role", "label", "field"})


def build_discoverers(job_name: str, scrape_config: dict[str, Any],
                      base_dir: Path) -> list[tuple[str, Discoverer]]:
    """Discoverers for one job, each with a provider name like ``file_sd_configs/0``."""
    out: list[tuple[str, Discoverer]] = []
    for key, value in scrape_config.items():
        if not key.endswith(("_sd_configs", "static_configs")):
            continue
        if key not in SUPPORTED:
            raise ConfigError(f"job {job_name!r}: {key} is not supported "
                              f"(supported: {', '.join(SUPPORTED)})")
        if value is None:
            continue
        if not isinstance(value, list):
            raise ConfigError(f"job {job_name!r}: {key}: expected a list, got {value!r}")
        groups: list[TargetGroup] = []
        for i, entry in enumerate(value):
            where = f"job {job_name!r}: {key}[{i}]"
            if not isinstance(entry, dict):
                raise ConfigError(f"{where}: expected a map, got {entry!r}")
            if key == "static_configs":
                groups.append(_static_group(entry, where, str(i)))
            else:
                out.append((f"{key}/{i}", _BUILDERS[key](entry, where, base_dir)))
        if key == "static_configs":
            # As Prometheus: all static configs of a job are one provider whose
            # groups are sourced "0", "1", ... in config order.
            out.append((f"{key}/0", StaticDiscoverer(groups)))
    return out


def _check_keys(entry: dict[str, Any], where: str, allowed: frozenset[str]) -> None:
    for k in entry:
        if k not in allowed:
            raise ConfigError(f"{where}.{k}: unknown field (known: {', '.join(sorted(allowed))})")


def _duration(entry: dict[str, Any], key: str, default_s: float, where: str) -> float:
    raw = entry.get(key)
    if raw is None:
        return default_s
    try:
        ms = parse_duration_ms(raw) if isinstance(raw, str) else -1
    except ValueError:
        ms = -1
    if ms < 0:
        raise ConfigError(f"{where}.{key}: not a valid duration {raw!r}")
    if ms == 0:
        raise ConfigError(f"{where}.{key}: must be greater than 0")
    return ms / 1000


def _static_group(entry: dict[str, Any], where: str, source: str) -> TargetGroup:
    _check_keys(entry, where, frozenset({"targets", "labels"}))
    try:
        [g] = parse_groups([entry], "", {}, yaml_scalars=True)
    except ValueError as exc:
        raise ConfigError(f"{where}: {str(exc).removeprefix('target group 0: ')}") from exc
    return TargetGroup(source=source, targets=g.targets, labels=g.labels)


def _file(entry: dict[str, Any], where: str, base_dir: Path) -> Discoverer:
    _check_keys(entry, where, frozenset({"files", "refresh_interval"}))
    files = entry.get("files")
    if not isinstance(files, list) or not files:
        raise ConfigError(f"{where}.files: expected a non-empty list of file paths")
    patterns = []
    for j, name in enumerate(files):
        if not isinstance(name, str) or not _FILE_SD_NAME.match(name):
            raise ConfigError(f"{where}.files[{j}]: path name {name!r} is not valid for file "
                              "discovery (a .json, .yml or .yaml file; '*' only in the file name)")
        p = Path(name)
        patterns.append(str(p if p.is_absolute() else base_dir / p))
    return FileDiscoverer(patterns, _duration(entry, "refresh_interval", 300.0, where))


def _http(entry: dict[str, Any], where: str, base_dir: Path) -> Discoverer:
    _check_keys(entry, where, frozenset({"url", "refresh_interval"}) | HTTP_CLIENT_KEYS)
    url = entry.get("url")
    if not isinstance(url, str) or not url:
        raise ConfigError(f"{where}.url: URL is missing")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"{where}.url: URL scheme must be 'http' or 'https', got {url!r}")
    if not parts.hostname:
        raise ConfigError(f"{where}.url: host is missing in URL {url!r}")
    http = parse_http_client_config(entry, where, base_dir)
    return HTTPDiscoverer(url, _duration(entry, "refresh_interval", 60.0, where), http)


def _kubernetes(entry: dict[str, Any], where: str, base_dir: Path) -> Discoverer:
    _check_keys(entry, where, frozenset({"role", "api_server", "kubeconfig_file", "namespaces",
                                         "selectors", "attach_metadata"}) | HTTP_CLIENT_KEYS)
    role = entry.get("role")
    if not role:
        raise ConfigError(f"{where}.role: role missing (one of: {', '.join(ROLES)})")
    if role not in ROLES:
        raise ConfigError(f"{where}.role: unknown Kubernetes SD role {role!r} (one of: {', '.join(ROLES)})")
    http = parse_http_client_config(entry, where, base_dir)
    api_server, kubeconfig = entry.get("api_server"), entry.get("kubeconfig_file")
    if api_server is not None:
        parts = urlsplit(api_server) if isinstance(api_server, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where}.api_server: not an http(s) URL: {api_server!r}")
    if api_server and kubeconfig:
        raise ConfigError(f"{where}: cannot use 'kubeconfig_file' and 'api_server' simultaneously")
    if kubeconfig and not http.is_default():
        raise ConfigError(f"{where}: cannot use a custom HTTP client configuration together with 'kubeconfig_file'")
    if not api_server and not http.is_default():
        raise ConfigError(f"{where}: to use custom HTTP client configuration please provide the 'api_server' URL explicitly")

    ns_raw = entry.get("namespaces") or {}
    if not isinstance(ns_raw, dict):
        raise ConfigError(f"{where}.namespaces: expected a map with names and own_namespace")
    _check_keys(ns_raw, where + ".namespaces", frozenset({"names", "own_namespace"}))
    names = ns_raw.get("names") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}.namespaces.names: expected a list of namespace names")
    own = ns_raw.get("own_namespace", False)
    if not isinstance(own, bool):
        raise ConfigError(f"{where}.namespaces.own_namespace: expected true or false")
    if own and api_server:
        raise ConfigError(f"{where}: cannot use 'api_server' and 'namespaces.own_namespace' simultaneously")
    if own and kubeconfig:
        raise ConfigError(f"{where}: cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously")

    selectors: dict[str, Selector] = {}
    sel_raw = entry.get("selectors") or []
    if not isinstance(sel_raw, list):
        raise ConfigError(f"{where}.selectors: expected a list")
    for j, sel in enumerate(sel_raw):
        w = f"{where}.selectors[{j}]"
        if not isinstance(sel, dict):
            raise ConfigError(f"{w}: expected a map with role, label and field")
        _check_keys(sel, w, _K8S_SELECTOR_KEYS)
        srole = sel.get("role")
        if srole in selectors:
            raise ConfigError(f"{w}.role: duplicated selector role: {srole}")
        if srole not in ALLOWED_SELECTORS[role]:
            raise ConfigError(f"{w}.role: {role} role supports only "
                              f"{', '.join(ALLOWED_SELECTORS[role])} selectors")
        for k in ("label", "field"):
            if not isinstance(sel.get(k, ""), str):
                raise ConfigError(f"{w}.{k}: expected a selector string")
        selectors[srole] = Selector(sel.get("label", "") or "", sel.get("field", "") or "")

    attach = entry.get("attach_metadata") or {}
    if not isinstance(attach, dict):
        raise ConfigError(f"{where}.attach_metadata: expected a map")
    _check_keys(attach, where + ".attach_metadata", frozenset({"node"}))
    if not isinstance(attach.get("node", False), bool):
        raise ConfigError(f"{where}.attach_metadata.node: expected true or false")

    access: KubeAccess | None = None
    if api_server:
        access = KubeAccess(str(api_server).rstrip("/"), http)
    elif kubeconfig:
        p = Path(str(kubeconfig))
        p = p if p.is_absolute() else base_dir / p
        try:
            access = kubeconfig_access(p)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{where}.kubeconfig_file: {exc}") from exc
    return KubernetesDiscoverer(role=role, access=access, namespaces=list(names),
                                own_namespace=own, selectors=selectors,
                                attach_node=bool(attach.get("node", False)))


_BUILDERS = {"file_sd_configs": _file,
             "http_sd_configs": _http, "kubernetes_sd_configs": _kubernetes}
