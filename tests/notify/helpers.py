"""Test doubles for notify: a fake clock, and an HTTP receiver that records what it gets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """A sleep that moves the fake time instead of waiting."""
        self.now += seconds


@dataclass
class Recorder:
    url: str
    bodies: list[bytes] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: list[int] = field(default_factory=list)  # answers to give first (then 200)

    def json(self) -> list[Any]:
        return [json.loads(b) for b in self.bodies]


@contextmanager
def webhook_receiver() -> Iterator[Recorder]:
    """An HTTP server on 127.0.0.1 recording every POST; answers queued statuses, then 200."""
    rec = Recorder("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            code = rec.status.pop(0) if rec.status else 200
            if code == 200:
                rec.bodies.append(body)
                rec.paths.append(self.path)
                rec.headers.append(dict(self.headers.items()))
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{srv.server_address[1]}"
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield rec
    finally:
        srv.shutdown()
        srv.server_close()


@contextmanager
def serve_notifier(notifier: Any, data_dir: Any, registry: Any = None) -> Iterator[str]:
    """kubesight's app (build_app) with the Alertmanager routes, on a free port; yields its URL.

    The notifier starts once the store is open and stops before it closes: the
    wiring the server uses.
    """
    import time

    import httpx
    import uvicorn

    from kubesight.api.alertmanager import routes
    from kubesight.api.app import AppOptions, build_app
    from kubesight.api.status import ServerInfo
    from kubesight.ingest.remote_write import WriteLimits
    from kubesight.store.engine import Storage
    from tests.conftest import free_port

    store = Storage(data_dir)
    opts = AppOptions(limits=WriteLimits(1 << 20, 1 << 24), info=ServerInfo(config_yaml="", flags={}),
                      extra_routes=list(routes(notifier)), after_open=[notifier.start],
                      before_close=[notifier.stop])
    app = build_app(store, opts, registry)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "kubesight app did not become ready"
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        t.join(30)
