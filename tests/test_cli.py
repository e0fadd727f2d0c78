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
