"""Which scrape jobs the server runs when the config has none."""

from __future__ import annotations

from pathlib import Path

import pytest

import kubesight.server as server
from kubesight.config import load_config


def jobs(**k8s: object) -> list[str]:
    cfg = load_config(None, {"kubernetes": dict(k8s)} if k8s else None)
    return [j.job_name for j in server.scrape_configs(cfg)]


def test_outside_a_cluster_only_self(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert jobs() == ["kubesight"]


def test_inside_a_cluster_annotated_pods_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("t")
    monkeypatch.setattr(server, "_SERVICE_ACCOUNT", token)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    assert jobs() == ["kubesight", "kubernetes-pods"]
    assert jobs(enabled=False) == ["kubesight"]


def test_explicit_api_server_enables_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert jobs(api_server="http://127.0.0.1:1") == ["kubesight", "kubernetes-pods"]


def test_explicit_empty_scrape_configs_scrape_nothing(tmp_path: Path) -> None:
    p = tmp_path / "k.yml"
    p.write_text("scrape_configs: []\n")
    assert server.scrape_configs(load_config(p)) == []


def test_collectors_default_to_15s_not_prometheus_1m(tmp_path: Path) -> None:
    from kubesight.config import load_config
    from kubesight.server import collector_interval_ms

    assert collector_interval_ms(load_config(None)) == 15_000
    f = tmp_path / "k.yml"
    f.write_text("global:\n  scrape_interval: 30s\n")
    assert collector_interval_ms(load_config(f)) == 30_000
    f.write_text("global:\n  scrape_interval: 30s\ncollectors:\n  interval: 5s\n")
    assert collector_interval_ms(load_config(f)) == 5_000
