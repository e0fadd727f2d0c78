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
