"""Shared fixtures: a real kubesight server process on a free port, and peers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    log: Path

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


def start_server(data_dir: Path, *extra: str, port: int | None = None) -> Server:
    port = port or free_port()
    log = data_dir.parent / f"server-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubesight", "server", "--data-dir", str(data_dir),
         "--listen", f"127.0.0.1:{port}", *extra],
        stdout=open(log, "ab"),  # noqa: SIM115 - the child owns it
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return Server(url, data_dir, proc, log)
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not become ready:\n{log.read_text()}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = start_server(tmp_path / "data")
    try:
        yield s
    finally:
        s.stop()


def require_peer(binary: str, package: str) -> str:
    """The path of a peer from Debian's packages; skip (or fail in CI) if absent."""
    path = shutil.which(binary) or (f"/usr/bin/{binary}" if os.path.exists(f"/usr/bin/{binary}") else None)
    if path:
        return path
    msg = f"{binary} not installed (apt-get install -y {package}); the test command installs it"
    if os.environ.get("KUBESIGHT_REQUIRE_PEERS"):
        pytest.fail(msg)
    pytest.skip(msg)
