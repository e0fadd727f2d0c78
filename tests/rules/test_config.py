"""The rule-related keys of a config file, and check_config."""

from __future__ import annotations

from pathlib import Path

from kubesight.rules import check_config, parse_rules_config
from kubesight.rules.alertmanager import Relabel
from kubesight.scrape.relabel import parse_relabel_configs, relabel


def parse_relabel(raw: object, where: str) -> Relabel:
    configs = parse_relabel_configs(raw, where)
    return lambda labels: relabel(labels, configs)


def test_keys_are_read(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    for name in ("b.yml", "a.yml"):
        (tmp_path / "rules" / name).write_text("groups: []")
    cfg = parse_rules_config({
        "global": {"evaluation_interval": "30s", "rule_query_offset": "1m", "external_labels": {"cluster": "c1"}},
        "rule_files": ["rules/*.yml", "/abs/other.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["am:9093"]}]}]},
    }, tmp_path)
    assert cfg.rule_files == (str(tmp_path / "rules/a.yml"), str(tmp_path / "rules/b.yml"), "/abs/other.yml")
    assert (cfg.evaluation_interval_ms, cfg.rule_query_offset_ms) == (30_000, 60_000)
    assert cfg.external_labels == {"cluster": "c1"}
    assert cfg.alerting.alertmanagers[0].urls == ("http://am:9093/api/v2/alerts",)
    assert parse_rules_config({}, tmp_path).evaluation_interval_ms == 60_000


def test_check_config_reports_config_and_rule_file_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("groups: [{name: g, rules: [{record: x}]}]")
    cfg = tmp_path / "kubesight.yml"
    cfg.write_text("rule_files: [bad.yml]\n")
    assert check_config(cfg) == [f"{tmp_path / 'bad.yml'}: 0:0: group \"g\", rule 1, \"x\": field 'expr' must be set in rule"]
    cfg.write_text("global: {evaluation_interval: 1x}\n")
    assert check_config(cfg) == [f"{cfg}: global.evaluation_interval: not a valid duration string: '1x' "
                                 "(expected e.g. 15s, 5m, 1h30m, 15d)"]
    cfg.write_text("alerting: {alert_relabel_configs: [{action: nope}]}\n")
    assert check_config(cfg, parse_relabel) == [
        f'{cfg}: alerting.alert_relabel_configs[0]: unknown relabel action "nope"']
    cfg.write_text("rule_files: [missing.yml]\n")
    assert check_config(cfg)[0].startswith(f"{tmp_path / 'missing.yml'}: cannot read")
    cfg.write_text("rule_files: ['*.nothing']\nglobal: {scrape_interval: 15s}\n")
    assert check_config(cfg) == []
    assert check_config(tmp_path / "nope.yml")[0].startswith(f"{tmp_path / 'nope.yml'}: cannot read")
