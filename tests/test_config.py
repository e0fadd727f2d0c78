from __future__ import annotations

from pathlib import Path

import pytest

from kubesight.config import load_config
from kubesight.errors import ConfigError


def test_defaults_with_no_file() -> None:
    cfg = load_config(None)
    assert cfg.server.listen == "127.0.0.1:9595"
    assert cfg.storage.retention_ms == 15 * 86_400_000
    assert cfg.storage.retention_bytes == 0


def test_prometheus_yml_keys_accepted_and_flags_win(tmp_path: Path) -> None:
    p = tmp_path / "k.yml"
    p.write_text("global: {scrape_interval: 15s}\nscrape_configs: [{job_name: x}]\n"
                 "storage: {retention: 30d, retention_size: 10GB}\n")
    cfg = load_config(p, {"storage": {"retention": "2d", "retention_size": None}})
    assert cfg.storage.retention == "2d"
    assert cfg.storage.retention_bytes == 10 << 30
    assert cfg.scrape_configs == [{"job_name": "x"}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("storage: {retention: 15 days}", "field storage.retention"),
        ("server: {listen: nope}", "field server.listen"),
        ("stroage: {}", "field stroage"),
        ("[1, 2]", "top level must be a mapping"),
        ("a: [", "not valid YAML"),
        ("storage: {head_max_samples: 5}", "field storage.head_max_samples"),
        ("default_rules: {disabled: [x]}", "field default_rules.disabled"),
        ("alertmanager: [1]", "field alertmanager"),
        ("alertmanager_config_file: [a]", "field alertmanager_config_file"),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "bad.yml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=message) as e:
        load_config(p)
    assert str(p) in str(e.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.yml")


def test_yaml_1_1_booleans_stay_strings_as_in_prometheus(tmp_path: Path) -> None:
    p = tmp_path / "k.yml"
    p.write_text("scrape_configs:\n  - job_name: x\n    honor_labels: true\n"
                 "    static_configs: [{targets: [a:1], labels: {on: yes, off: no, y: n}}]\n")
    cfg = load_config(p)
    assert cfg.scrape_configs[0]["honor_labels"] is True
    assert cfg.scrape_configs[0]["static_configs"][0]["labels"] == {"on": "yes", "off": "no", "y": "n"}


def test_rules_and_alertmanager_keys(tmp_path: Path) -> None:
    p = tmp_path / "k.yml"
    p.write_text("rule_files: [rules/*.yml]\nalerting: {alertmanagers: []}\n"
                 "default_rules: {disable: [kubernetes, Watchdog]}\n"
                 "alertmanager_config_file: am.yml\nserver: {external_url: 'https://mon.example.com'}\n")
    cfg = load_config(p, {"default_rules": {"enabled": None}, "alertmanager_config_file": None})
    assert cfg.rule_files == ["rules/*.yml"] and cfg.alerting == {"alertmanagers": []}
    assert cfg.default_rules.enabled is True and cfg.default_rules.disable == ["kubernetes", "Watchdog"]
    assert cfg.alertmanager is None and cfg.alertmanager_config_file == "am.yml"
    assert cfg.base_dir == tmp_path.resolve()
    flagged = load_config(p, {"default_rules": {"enabled": False}, "alertmanager_config_file": "/etc/am.yml"})
    assert flagged.default_rules.enabled is False and flagged.alertmanager_config_file == "/etc/am.yml"


def test_kube_state_block_with_options_only_stays_automatic(tmp_path: Path) -> None:
    p = tmp_path / "k.yml"
    p.write_text("collectors:\n  kube_state:\n    namespaces: [shop]\n  containers: {}\n")
    cfg = load_config(p, {"collectors": {"kube_state": {"enabled": None}}})
    assert cfg.collectors.kube_state.enabled is None and cfg.collectors.kube_state.options == {"namespaces": ["shop"]}
    assert cfg.collectors.containers.enabled is True


def test_server_rules_and_notifier_config_from_the_tree(tmp_path: Path) -> None:
    from kubesight.server import alertmanager_config, external_url, rules_config

    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "a.yml").write_text("groups: []\n")
    (tmp_path / "am.yml").write_text("route: {receiver: r}\nreceivers: [{name: r}]\n")
    p = tmp_path / "k.yml"
    p.write_text("global: {evaluation_interval: 10s, external_labels: {cluster: c1}}\n"
                 "rule_files: [rules/*.yml]\nalertmanager_config_file: am.yml\n"
                 "alerting:\n  alert_relabel_configs: [{source_labels: [cluster], target_label: region, "
                 "replacement: eu}]\n")
    cfg = load_config(p)
    rc = rules_config(cfg)
    assert rc.rule_files == (str(tmp_path / "rules" / "a.yml"),)
    assert rc.evaluation_interval_ms == 10_000 and rc.external_labels == {"cluster": "c1"}
    assert rc.alerting.relabel is not None
    assert rc.alerting.relabel((("alertname", "A"),)) == (("alertname", "A"), ("region", "eu"))
    assert [r.name for r in alertmanager_config(cfg).receivers] == ["r"]
    assert external_url(cfg) == "http://127.0.0.1:9595"
    p.write_text("alertmanager_config_file: am.yml\nalertmanager: {route: {receiver: r}, receivers: [{name: r}]}\n")
    with pytest.raises(ConfigError, match="both set"):
        alertmanager_config(load_config(p))


def test_the_documented_example_config_is_valid(tmp_path: Path) -> None:
    """docs/configuration.md's example passes ``kubesight check config`` (docs stay true)."""
    import re
    import subprocess
    import sys

    doc = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text()
    m = re.search(r"## The config file\n\n```yaml\n(.*?)```", doc, re.S)
    assert m is not None
    text = m.group(1).replace("/var/lib/kubesight", str(tmp_path / "data"))
    text = text.replace("  kubeconfig: ~/.kube/config\n", "")  # a file this machine does not have
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "a.yml").write_text("groups: []\n")
    (tmp_path / "k.yml").write_text(text)
    r = subprocess.run([sys.executable, "-m", "kubesight", "check", "config", str(tmp_path / "k.yml")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_dashboards_section_and_flag(tmp_path: Path) -> None:
    from kubesight.cli import _parser

    assert load_config(None).dashboards.dirs == [] and load_config(None).dashboards.builtin is True
    p = tmp_path / "k.yml"
    p.write_text("dashboards: {dirs: [boards, /srv/grafana], builtin: false}\n")
    cfg = load_config(p)
    assert cfg.dashboards.builtin is False
    assert cfg.dashboards.resolved_dirs(cfg.base_dir) == [tmp_path.resolve() / "boards", Path("/srv/grafana")]
    flagged = load_config(p, {"dashboards": {"dirs": ["/a"]}})
    assert flagged.dashboards.dirs == ["/a"]
    for bad, field in (("dashboards: {dirs: x}", "dashboards.dirs"), ("dashboards: {dir: [x]}", "dashboards.dir")):
        p.write_text(bad)
        with pytest.raises(ConfigError, match=f"field {field}"):
            load_config(p)
    args = _parser().parse_args(["server", "--dashboards.dir", "a", "--dashboards.dir=/b"])
    assert args.dashboards_dir == ["a", "/b"]
    assert _parser().parse_args(["server"]).dashboards_dir is None
