"""A small SMTP server on 127.0.0.1 for tests: EHLO, STARTTLS, AUTH PLAIN/LOGIN, one or more messages.

Written for the tests (Python no longer ships smtpd, and aiosmtpd is not a
dependency). It records every message with the envelope, whether TLS was on
and who logged in, and refuses AUTH before STARTTLS when TLS is offered.
"""

from __future__ import annotations

import base64
import socketserver
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Mail:
    sender: str
    rcpts: list[str]
    data: bytes
    tls: bool
    user: str


@dataclass
class FakeSMTP:
    host: str
    port: int
    mails: list[Mail] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)


def self_signed(tmp: Path) -> tuple[Path, Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


@contextmanager
def smtp_server(tmp: Path, users: dict[str, str] | None = None, tls: bool = True) -> Iterator[FakeSMTP]:
    ctx: ssl.SSLContext | None = None
    if tls:
        cert, key = self_signed(tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
    state = FakeSMTP("127.0.0.1", 0, users=dict(users or {}))

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            conn = self.connection
            rfile, wfile = self.rfile, self.wfile
            secure, user = False, ""
            sender, rcpts = "", []

            def say(line: str) -> None:
                wfile.write((line + "\r\n").encode())
                wfile.flush()

            say("220 fake ESMTP")
            while True:
                raw = rfile.readline()
                if not raw:
                    return
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                verb = line.split(" ", 1)[0].upper()
                arg = line[len(verb):].strip()
                if verb in ("EHLO", "HELO"):
                    ext = []
                    if ctx is not None and not secure:
                        ext.append("STARTTLS")
                    if state.users and (secure or ctx is None):
                        ext.append("AUTH PLAIN LOGIN")
                    ext.append("8BITMIME")
                    lines = ["fake", *ext]
                    for i, e in enumerate(lines):
                        say(f"250{'-' if i < len(lines) - 1 else ' '}{e}")
                elif verb == "STARTTLS" and ctx is not None and not secure:
                    say("220 go ahead")
                    conn = ctx.wrap_socket(conn, server_side=True)
                    rfile, wfile = conn.makefile("rb"), conn.makefile("wb")
                    secure = True
                elif verb == "AUTH":
                    parts = arg.split()
                    if parts[0].upper() == "PLAIN":
                        if len(parts) > 1:
                            blob = parts[1]
                        else:
                            say("334 ")
                            blob = rfile.readline().decode().strip()
                        _, u, p = base64.b64decode(blob).decode().split("\0")
                    else:
                        say("334 " + base64.b64encode(b"Username:").decode())
                        u = base64.b64decode(rfile.readline().strip()).decode()
                        say("334 " + base64.b64encode(b"Password:").decode())
                        p = base64.b64decode(rfile.readline().strip()).decode()
                    if state.users.get(u) == p:
                        user = u
                        say("235 ok")
                    else:
                        say("535 bad credentials")
                elif verb == "MAIL":
                    sender = arg.split(":", 1)[1].strip().split()[0].strip("<>")
                    rcpts = []
                    say("250 ok")
                elif verb == "RCPT":
                    rcpts.append(arg.split(":", 1)[1].strip().strip("<>"))
                    say("250 ok")
                elif verb == "DATA":
                    say("354 go on")
                    chunks = []
                    while True:
                        ln = rfile.readline()
                        if ln in (b".\r\n", b".\n", b""):
                            break
                        chunks.append(ln[1:] if ln.startswith(b"..") else ln)
                    state.mails.append(Mail(sender, rcpts, b"".join(chunks), secure, user))
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                elif verb in ("RSET", "NOOP"):
                    say("250 ok")
                else:
                    say("502 not implemented")

    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    state.port = srv.server_address[1]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield state
    finally:
        srv.shutdown()
        srv.server_close()
