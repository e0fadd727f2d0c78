"""Config errors name the job, the key, the index and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubesight.discovery.config import build_discoverers
from kubesight.discovery.kubernetes import KubernetesDiscoverer
from kubesight.errors import ConfigError

CASES: list[tuple[dict[str, Any], str]] = [
    ({"consul_sd_configs": [{}]},
     "job 'j': consul_sd_configs is not supported (supported: static_configs, file_sd_configs, http_sd_configs, kubernetes_sd_configs)"),
    ({"file_sd_configs": [{"files": ["a.json"], "refresh_interval": "5 m"}]},
     "job 'j': file_sd_configs[0].refresh_interval: not a valid duration '5 m'"),
    ({"file_sd_configs": [{"files": ["a.json"]}, {"files": ["x/*/a.json"]}]},
     "job 'j': file_sd_configs[1].files[0]: path name 'x/*/a.json' is not valid"),
    ({"file_sd_configs": [{"files": ["a.txt"]}]}, "file_sd_configs[0].files[0]: path name 'a.txt'"),
    ({"file_sd_configs": [{"files": ["a.json"], "refresh": "1m"}]}, "file_sd_configs[0].refresh: unknown field"),
    ({"static_configs": [{"targets": "a:1"}]}, "job 'j': static_configs[0]: targets must be a list of strings"),
    ({"static_configs": [{"targets": ["a:1"], "labels": {"1x": "y"}}]}, "static_configs[0]: '1x' is not a valid label name"),
    ({"http_sd_configs": [{"url": "ftp://x/"}]}, "job 'j': http_sd_configs[0].url: URL scheme must be 'http' or 'https'"),
    ({"http_sd_configs": [{}]}, "http_sd_configs[0].url: URL is missing"),
    ({"http_sd_configs": [{"url": "http://x/", "basic_auth": {"username": "u"}, "bearer_token": "t"}]},
     "http_sd_configs[0]: at most one of basic_auth, bearer_token must be configured"),
    ({"http_sd_configs": [{"url": "http://x/", "tls_config": {"server_name": "x"}}]},
     "http_sd_configs[0].tls_config.server_name: not supported"),
    ({"http_sd_configs": [{"url": "http://x/", "proxy_url": "http://p:3128"}]},
     "job 'j': http_sd_configs[0].proxy_url: not supported by kubesight"),
    ({"kubernetes_sd_configs": [{}]}, "job 'j': kubernetes_sd_configs[0].role: role missing"),
    ({"kubernetes_sd_configs": [{"role": "daemonset"}]}, "kubernetes_sd_configs[0].role: unknown Kubernetes SD role 'daemonset'"),
    ({"kubernetes_sd_configs": [{"role": "pod", "api_server": "http://a", "kubeconfig_file": "k"}]},
     "kubernetes_sd_configs[0]: cannot use 'kubeconfig_file' and 'api_server' simultaneously"),
    ({"kubernetes_sd_configs": [{"role": "pod", "bearer_token": "x"}]},
     "please provide the 'api_server' URL explicitly"),
    ({"kubernetes_sd_configs": [{"role": "pod", "api_server": "http://a", "namespaces": {"own_namespace": True}}]},
     "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously"),
    ({"kubernetes_sd_configs": [{"role": "pod", "selectors": [{"role": "node", "label": "a=b"}]}]},
     "kubernetes_sd_configs[0].selectors[0].role: pod role supports only pod selectors"),
    ({"kubernetes_sd_configs": [{"role": "endpoints", "selectors": [{"role": "pod"}, {"role": "pod"}]}]},
     "kubernetes_sd_configs[0].selectors[1].role: duplicated selector role: pod"),
    ({"kubernetes_sd_configs": [{"role": "pod", "attach_metadata": {"node": "yes"}}]},
     "kubernetes_sd_configs[0].attach_metadata.node: expected true or false"),
    ({"kubernetes_sd_configs": [{"role": "pod", "namespaces": {"name": ["a"]}}]},
     "kubernetes_sd_configs[0].namespaces.name: unknown field"),
]


@pytest.mark.parametrize(("cfg", "message"), CASES)
def test_config_errors_say_where(cfg: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        build_discoverers("j", cfg, Path("/etc/kubesight"))
    assert message in str(exc.value)


def test_non_sd_keys_are_ignored_and_providers_named() -> None:
    cfg = {"job_name": "j", "scrape_interval": "15s", "static_configs": [{"targets": ["a:1"]}],
           "kubernetes_sd_configs": [{"role": "pod"}, {"role": "node", "api_server": "https://k:6443"}]}
    got = build_discoverers("j", cfg, Path("/"))
    assert [n for n, _ in got] == ["static_configs/0", "kubernetes_sd_configs/0", "kubernetes_sd_configs/1"]
    k0, k1 = got[1][1], got[2][1]
    assert isinstance(k0, KubernetesDiscoverer) and k0.access is None  # in-cluster, resolved at run
    assert isinstance(k1, KubernetesDiscoverer) and k1.access is not None
    assert k1.access.base_url == "https://k:6443"


def test_enable_http2_is_accepted() -> None:
    [(_, d)] = build_discoverers("j", {"http_sd_configs": [{"url": "http://x/", "enable_http2": True}]}, Path("/"))
    assert d is not None


def test_kubeconfig_current_context(tmp_path: Path) -> None:
    (tmp_path / "kc.yaml").write_text(
        "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
        "clusters: [{name: k, cluster: {server: 'https://10.0.0.1:6443', insecure-skip-tls-verify: true}}]\n"
        "users: [{name: u, user: {token: abc}}]\n")
    [(_, d)] = build_discoverers("j", {"kubernetes_sd_configs": [{"role": "node", "kubeconfig_file": "kc.yaml"}]}, tmp_path)
    assert isinstance(d, KubernetesDiscoverer) and d.access is not None
    assert d.access.base_url == "https://10.0.0.1:6443"
    assert d.access.http.credentials == "abc" and d.access.http.insecure_skip_verify
