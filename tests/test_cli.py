"""The command line: clear errors and exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kubesight", *args], capture_output=True, text=True, timeout=60)


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("")
    r = run("server", "--data-dir", str(f), "--listen", "127.0.0.1:1")
    assert r.returncode == 2
    assert f"data directory {f}" in r.stderr and "Traceback" not in r.stderr


def test_bad_flag_values_name_the_field(tmp_path: Path) -> None:
    r = run("server", "--data-dir", str(tmp_path), "--retention", "two weeks")
    assert r.returncode == 2
    assert "field storage.retention" in r.stderr and "Traceback" not in r.stderr
    r = run("server", "--data-dir", str(tmp_path), "--listen", "9595")
    assert r.returncode == 2 and "field server.listen" in r.stderr


def test_help_and_version() -> None:
    assert "kubesight server" in run("server", "--help").stdout.replace("usage: kubesight server", "kubesight server")
    assert run("--version").stdout.startswith("kubesight ")


def test_collector_flags_map_onto_the_collectors_config(tmp_path: Path) -> None:
    from kubesight.cli import _collector_overrides, _parser
    from kubesight.collect.host import HostOptions
    from kubesight.collect.setup import Context, build_collectors
    from kubesight.config import load_config

    cfg_file = tmp_path / "k.yml"
    cfg_file.write_text("collectors:\n  host:\n    sysfs: /from/file\n  containers:\n    enabled: false\n")
    args = _parser().parse_args(
        ["server", "--path.rootfs", "/host", "--no-collector.textfile", "--collector.cpu", "--no-collectors.kube-state"]
    )
    cfg = load_config(cfg_file, {"collectors": _collector_overrides(args)})
    host = cfg.collectors.host.options
    assert host == {"sysfs": "/from/file", "rootfs": "/host", "enable": ["cpu"], "disable": ["textfile"]}
    assert cfg.collectors.containers.enabled is False and cfg.collectors.kube_state.enabled is False
    (built,) = build_collectors(cfg, Context(kubernetes=True))
    job, col = built.job, built.collector
    assert job == "node"
    opts = col.options  # type: ignore[attr-defined]
    assert isinstance(opts, HostOptions) and opts.rootfs == "/host" and opts.disable == frozenset({"textfile"})


GOOD_RULES = """\
groups:
- name: g
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: Down
    expr: up == 0
    for: 5m
"""
BAD_RULES = """\
groups:
- name: g
  rules:
  - alert: Broken
    expr: up ==
  - record: r
    expr: up
    for: 1m
"""


def _promtool_lines(*args: str) -> list[str]:
    from tests.conftest import require_peer

    r = subprocess.run([require_peer("promtool", "prometheus"), "check", *args],
                       capture_output=True, text=True, timeout=60)
    return [line for line in (r.stdout + r.stderr).splitlines() if line.strip()]


def test_check_rules_as_promtool(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text(GOOD_RULES)
    bad.write_text(BAD_RULES)
    r = run("check", "rules", str(good))
    assert r.returncode == 0 and r.stdout.splitlines()[:2] == [f"Checking {good}", "  SUCCESS: 2 rules found"]
    assert _promtool_lines("rules", str(good))[:2] == r.stdout.splitlines()[:2]
    r = run("check", "rules", str(good), str(bad))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    ours = [line for line in r.stdout.splitlines() if line.strip()]
    assert ours == _promtool_lines("rules", str(good), str(bad))
    missing = run("check", "rules", str(tmp_path / "nope.yml"))
    assert missing.returncode == 1 and "nope.yml" in missing.stdout


def test_check_config_covers_scrape_rules_and_alertmanager(tmp_path: Path) -> None:
    (tmp_path / "good.yml").write_text(GOOD_RULES)
    (tmp_path / "bad.yml").write_text(BAD_RULES)
    cfg = tmp_path / "k.yml"
    cfg.write_text("rule_files: [good.yml]\nalerting:\n  alert_relabel_configs:\n"
                   "  - {source_labels: [severity], regex: none, action: drop}\n")
    r = run("check", "config", str(cfg))
    assert r.returncode == 0, r.stdout + r.stderr
    cfg.write_text("rule_files: [bad.yml]\nscrape_configs: [{job_name: a, scrape_interval: nope}]\n"
                   "alertmanager: {route: {receiver: x}, receivers: [{name: y}]}\n")
    r = run("check", "config", str(cfg))
    assert r.returncode == 1
    assert "job 'a': scrape_interval" in r.stdout
    assert f'{tmp_path / "bad.yml"}: 5:11: group "g", rule 1, "Broken": could not parse expression' in r.stdout
    cfg.write_text("alertmanager: {route: {receiver: x}, receivers: [{name: y}]}\n")
    r = run("check", "config", str(cfg))
    assert r.returncode == 1 and "undefined receiver 'x'" in r.stdout
    cfg.write_text("collectors: {kube_state: {resources: [pods, podz]}}\n")
    r = run("check", "config", str(cfg))
    assert r.returncode == 1 and "unknown resource(s) podz" in r.stdout
    cfg.write_text("alerting:\n  alert_relabel_configs: [{action: nope}]\n")
    r = run("check", "config", str(cfg))
    assert r.returncode == 1 and "alert_relabel_configs" in r.stdout


def test_check_alertmanager_agrees_with_amtool(tmp_path: Path) -> None:
    from tests.conftest import require_peer

    amtool = require_peer("amtool", "prometheus-alertmanager")
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text("route: {receiver: a, group_by: [alertname]}\nreceivers:\n"
                    "- name: a\n  webhook_configs: [{url: 'http://127.0.0.1:1/hook'}]\n")
    bad.write_text("route: {receiver: x}\nreceivers: [{name: y}]\n")
    for f, ok in ((good, True), (bad, False)):
        ours = run("check", "alertmanager", str(f))
        theirs = subprocess.run([amtool, "check-config", str(f)], capture_output=True, text=True, timeout=60)
        assert (ours.returncode == 0) == (theirs.returncode == 0) == ok, ours.stdout + theirs.stdout
    assert "undefined receiver 'x' used in route" in run("check", "alertmanager", str(bad)).stdout


def test_server_flags_for_rules_and_alertmanager(tmp_path: Path) -> None:
    from kubesight.cli import _parser

    args = _parser().parse_args(["server", "--alertmanager.config.file", "am.yml", "--no-rules.defaults",
                                 "--web.external-url", "https://mon.example.com/"])
    assert args.am_config_file == "am.yml" and args.rules_defaults is False
    assert args.external_url == "https://mon.example.com/"
    both = tmp_path / "k.yml"
    both.write_text("alertmanager: {route: {receiver: a}, receivers: [{name: a}]}\n")
    (tmp_path / "am.yml").write_text("route: {receiver: a}\nreceivers: [{name: a}]\n")
    r = run("server", "--config", str(both), "--data-dir", str(tmp_path / "d"),
            "--alertmanager.config.file", str(tmp_path / "am.yml"), "--listen", "127.0.0.1:1")
    assert r.returncode == 2 and "alertmanager and alertmanager_config_file are both set" in r.stderr


def test_top_tables_and_units() -> None:
    from kubesight import top

    rows = [top.Row("b", 0.25, 100 << 20, "shop"), top.Row("a", 1.5, 50 << 20, "shop")]
    assert top.format_pods(top.sort_rows(rows, "cpu"), False, True) == (
        "NAME   CPU(cores)   MEMORY(bytes)\n"
        "a      1500m        50Mi\n"
        "b      250m         100Mi\n")
    assert [r.name for r in top.sort_rows(rows, "memory")] == ["b", "a"]
    node = top.Row("n", 0.1, 1 << 30, cpu_pct=5.0, memory_pct=None)
    assert top.format_nodes([node]).splitlines()[1].split() == ["n", "100m", "5%", "1024Mi", "<unknown>"]


def test_top_tells_no_cpu_figure_from_idle() -> None:
    """A cgroup without CPU accounting has no rate at all: '-', and it sorts after an idle one."""
    from kubesight import top

    answers = {
        'sum by (id, name) (rate(container_cpu_usage_seconds_total{job="cadvisor",id!="/"}[1m]))':
            [({"id": "/idle.slice", "name": ""}, 0.0)],
        'sum by (id, name) (container_memory_working_set_bytes{job="cadvisor",id!="/"})':
            [({"id": "/idle.slice", "name": ""}, float(1 << 20)), ({"id": "/no-acct", "name": ""}, float(8 << 20))],
    }
    rows, are_pods = top.pods(lambda q: answers.get(q, []), namespace=None)
    assert not are_pods
    assert [line.split() for line in top.format_pods(top.sort_rows(rows, "cpu"), False, False).splitlines()] == [
        ["CGROUP", "CPU(cores)", "MEMORY(bytes)"], ["/idle.slice", "0m", "1Mi"], ["/no-acct", "-", "8Mi"]]
    assert top.cores(None) == "-" and top.cores(0.0) == "0m"


def test_kube_state_collector_options_from_config() -> None:
    import pytest

    from kubesight.collect.setup import _kube_state_options
    from kubesight.errors import ConfigError

    o = _kube_state_options({"resources": ["pods", "nodes"], "namespaces": "a, b",
                             "labels_allowlist": "pods=[app,team]", "annotations_allowlist": {"nodes": ["*"]}})
    assert o.resources == ("pods", "nodes") and o.namespaces == ("a", "b")
    assert o.labels_allowlist == {"pods": ["app", "team"]} and o.annotations_allowlist == {"nodes": ["*"]}
    for raw, msg in (({"resourcez": []}, "unknown option(s) resourcez"),
                     ({"resources": ["pods", "nope"]}, "unknown resource(s) nope"),
                     ({"labels_allowlist": "pods=app"}, "collectors.kube_state.labels_allowlist"),
                     ({"metric_allowlist": ["x"], "metric_denylist": ["y"]}, "mutually exclusive")):
        with pytest.raises(ConfigError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            _kube_state_options(raw)


def test_a_collector_steps_aside_for_a_scrape_job_of_the_same_name(tmp_path: Path) -> None:
    from kubesight.collect.setup import Context, build_collectors
    from kubesight.config import load_config

    cfg = load_config(None)
    assert [b.job for b in build_collectors(cfg, Context(), {"node"})] == ["cadvisor"]
    both = tmp_path / "k.yml"
    both.write_text("collectors: {host: {enabled: true}}\n")
    assert [b.job for b in build_collectors(load_config(both), Context(), {"node"})] == ["node", "cadvisor"]


def test_status_flags_use_the_names_typed_on_the_command_line() -> None:
    from kubesight.cli import _flag_values, _parser

    p = _parser()
    flags = _flag_values(p, p.parse_args(["server", "--retention", "30d", "--no-collectors.host",
                                          "--dashboards.dir", "a", "--dashboards.dir", "b"]))
    assert flags["retention"] == "30d"
    assert flags["collectors.host"] == "false"  # the --no- form sets the flag's own name
    assert flags["dashboards.dir"] == "a,b"
    assert flags["web.external-url"] == ""  # not given: the config file decides
    assert "collector.cpu" in flags and "help" not in flags
    assert not [k for k in flags if "_" in k or k.startswith("no-")]  # no argparse dest names
