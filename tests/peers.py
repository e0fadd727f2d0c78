"""Real peers from Debian's packages, started on 127.0.0.1 for a test and stopped after."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import free_port, require_peer


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} did not become ready:\n{log.read_text()}"
        time.sleep(0.2)


@contextmanager
def run_process(args: list[str], log: Path, ready_url: str) -> Iterator[None]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_ready(ready_url, proc, log)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@contextmanager
def prometheus(tmp: Path, config: str, *flags: str, data: Path | None = None) -> Iterator[str]:
    """A Prometheus with ``config`` (``SELF`` is replaced by its own address); yields its URL.

    ``flags`` are passed on; ``data`` is its TSDB directory (default ``tmp/data``).
    """
    binary = require_peer("prometheus", "prometheus")
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "prometheus.yml").write_text(config.replace("SELF", f"127.0.0.1:{port}"))
    url = f"http://127.0.0.1:{port}"
    args = [binary, f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={data or tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}", *flags]
    with run_process(args, tmp / "prometheus.log", f"{url}/-/ready"):
        yield url


@contextmanager
def node_exporter(tmp: Path) -> Iterator[str]:
    """Debian's node_exporter on a free port; yields its host:port."""
    binary = require_peer("prometheus-node-exporter", "prometheus-node-exporter")
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    address = f"127.0.0.1:{port}"
    with run_process([binary, f"--web.listen-address={address}"], tmp / "node_exporter.log",
                     f"http://{address}/metrics"):
        yield address


@contextmanager
def alertmanager(tmp: Path, config: str, *flags: str) -> Iterator[str]:
    """Debian's Alertmanager with ``config`` (alertmanager.yml text), clustering off; yields its URL."""
    binary = require_peer("prometheus-alertmanager", "prometheus-alertmanager")
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "alertmanager.yml").write_text(config)
    url = f"http://127.0.0.1:{port}"
    args = [binary, f"--config.file={tmp / 'alertmanager.yml'}", f"--storage.path={tmp / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", *flags]
    with run_process(args, tmp / "alertmanager.log", f"{url}/-/ready"):
        yield url


@contextmanager
def alertmanager_at_prefix(tmp: Path, config: str, prefix: str) -> Iterator[str]:
    """Debian's Alertmanager serving under ``--web.route-prefix=prefix``; yields its URL with the prefix."""
    binary = require_peer("prometheus-alertmanager", "prometheus-alertmanager")
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "alertmanager.yml").write_text(config)
    url = f"http://127.0.0.1:{port}/{prefix.strip('/')}"
    args = [binary, f"--config.file={tmp / 'alertmanager.yml'}", f"--storage.path={tmp / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
            f"--web.route-prefix=/{prefix.strip('/')}"]
    with run_process(args, tmp / "alertmanager.log", f"{url}/-/ready"):
        yield url
