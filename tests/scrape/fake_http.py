"""A scriptable exporter on 127.0.0.1 for scrape tests: a real HTTP/1.1 server in a thread."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    connection: int  # which TCP connection carried it (1, 2, ...)


@dataclass
class FakeExporter:
    """Answers every GET with ``body`` (or what ``handler`` returns); records requests.

    ``raw`` replaces the whole response with bytes as they are (garbage,
    truncation); ``close`` closes the connection after each response;
    ``chunked`` sends the body in chunks; ``delay`` sleeps before answering.
    """

    body: bytes = b""
    status: int = 200
    content_type: str = "text/plain; version=0.0.4"
    gzip: bool = False
    chunked: bool = False
    close: bool = False
    raw: bytes | None = None
    delay: float = 0.0
    extra_headers: dict[str, str] = field(default_factory=dict)
    handler: Callable[[Seen], tuple[int, dict[str, str], bytes] | None] | None = None
    requests: list[Seen] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeExporter:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                fake.connections += 1
                self.conn_no = fake.connections

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, self.conn_no)
                fake.requests.append(seen)
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.raw is not None:
                    self.wfile.write(fake.raw)
                    self.wfile.flush()
                    self.close_connection = True
                    return
                got = fake.handler(seen) if fake.handler else None
                status, headers, body = got or (fake.status, {}, fake.body)
                headers = {"Content-Type": fake.content_type, **fake.extra_headers, **headers}
                if fake.gzip:
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if fake.close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                if fake.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i in range(0, len(body), 7):
                        part = body[i : i + 7]
                        self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (timeout tests) is expected here


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
