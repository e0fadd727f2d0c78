"""The scrape HTTP client against real local servers: keep-alive, encodings, limits, failures."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, TypeVar

import pytest
import trustme
import uvloop

from kubesight.scrape.http import BodyTooLargeError, FetchError, Response, TargetClient
from tests.scrape.fake_http import FakeExporter, Seen, closed_port

LIMIT = 1 << 20
T = TypeVar("T")


@pytest.fixture(autouse=True, params=["asyncio", "uvloop"])
def event_loop_kind(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test runs on asyncio's loop and on uvloop (which the server uses)."""
    global _RUNNER
    _RUNNER = uvloop.run if request.param == "uvloop" else asyncio.run
    yield
    _RUNNER = asyncio.run


_RUNNER: Callable[[Coroutine[Any, Any, Any]], Any] = asyncio.run


def run(coro: Coroutine[Any, Any, T]) -> T:
    result: T = _RUNNER(coro)
    return result


def get(client: TargetClient, url: str, limit: int = LIMIT, **headers: str) -> Coroutine[Any, Any, Response]:
    async def go() -> Response:
        async with asyncio.timeout(10):
            return await client.get(url, headers, limit)

    return go()


def test_keep_alive_reuses_one_connection_and_sends_headers() -> None:
    with FakeExporter(body=b"m 1\n") as fake:
        client = TargetClient(headers={"Authorization": "Bearer t"})

        async def three() -> list[Response]:
            return [await client.get(fake.url + "/metrics?a=b", {"Accept": "text/plain"}, LIMIT) for _ in range(3)]

        resps = run(three())
        assert [r.body for r in resps] == [b"m 1\n"] * 3
        assert resps[0].status == 200 and resps[0].reason == "OK"
        assert [r.connection for r in fake.requests] == [1, 1, 1]
        req = fake.requests[0]
        assert req.path == "/metrics?a=b"
        assert req.headers["authorization"] == "Bearer t" and req.headers["accept"] == "text/plain"
        assert req.headers["host"] == f"127.0.0.1:{fake.port}"


def test_connection_close_and_chunked_and_gzip() -> None:
    body = b"".join(b"metric_%d %d\n" % (i, i) for i in range(2000))
    with FakeExporter(body=body, close=True, chunked=True, gzip=True) as fake:
        client = TargetClient()

        async def two() -> list[Response]:
            return [await client.get(fake.url, {}, LIMIT) for _ in range(2)]

        resps = run(two())
        assert [r.body for r in resps] == [body, body]
        assert fake.connections == 2 and client.connections_opened == 2


class _OneShot(BaseHTTPRequestHandler):
    """Answers with keep-alive headers, then closes the connection anyway (an idle-timeout race)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"m 1\n")
        self.close_connection = True


def test_a_kept_alive_connection_closed_by_the_target_is_retried_on_a_fresh_one() -> None:
    server = HTTPServer(("127.0.0.1", 0), _OneShot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = TargetClient()
        url = f"http://127.0.0.1:{server.server_address[1]}/"

        async def two() -> list[bytes]:
            out = []
            for _ in range(2):
                out.append((await client.get(url, {}, LIMIT)).body)
                await asyncio.sleep(0.05)  # the server's close arrives meanwhile, or not yet
            return out

        assert run(two()) == [b"m 1\n", b"m 1\n"]
        assert client.connections_opened == 2
    finally:
        server.shutdown()
        server.server_close()


async def _raw_server(respond: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]) -> asyncio.Server:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            await r.readuntil(b"\r\n\r\n")
            await respond(r, w)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            w.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def _with_raw(respond: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]], limit: int = LIMIT) -> Response:
    async def go() -> Response:
        server = await _raw_server(respond)
        port = server.sockets[0].getsockname()[1]
        try:
            async with asyncio.timeout(10):
                return await TargetClient().get(f"http://127.0.0.1:{port}/metrics", {}, limit)
        finally:
            server.close()

    return run(go())


def test_body_delimited_by_the_end_of_the_connection() -> None:
    async def respond(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nm 1\nn 2\n")
        await w.drain()

    resp = _with_raw(respond)
    assert resp.body == b"m 1\nn 2\n" and resp.headers["content-type"] == "text/plain"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"garbage\r\n\r\n", "malformed HTTP response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nm 1\n", "unexpected EOF"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nm 1\n", "unexpected EOF"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Encoding: gzip\r\n\r\nnope", "gzip"),
        (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\n" + gzip.compress(b"m 1\n" * 100)[:10], "gzip: unexpected EOF"),
        (b"", "unexpected EOF"),
    ],
)
def test_garbage_and_truncation_fail_the_request_with_a_reason(raw: bytes, message: str) -> None:
    async def respond(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(raw)
        await w.drain()

    with pytest.raises(FetchError, match=message):
        _with_raw(respond)


def test_an_endless_body_stops_at_the_limit() -> None:
    async def respond(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"m 1\n" * 16384
        while True:  # a "10 GB" body: until the client hangs up
            w.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await w.drain()

    with pytest.raises(BodyTooLargeError, match=f"over {LIMIT} bytes"):
        _with_raw(respond)


def test_a_gzip_bomb_stops_at_the_limit_of_inflated_bytes() -> None:
    bomb = gzip.compress(b"\0" * (64 << 20))  # 64 MiB inflated, ~64 kB on the wire
    with FakeExporter(body=b"", extra_headers={}) as fake:
        fake.handler = lambda seen: (200, {"Content-Encoding": "gzip"}, bomb)
        with pytest.raises(BodyTooLargeError):
            run(get(TargetClient(), fake.url))


def test_redirects_are_followed_without_credentials_to_another_host() -> None:
    with FakeExporter(body=b"m 1\n") as fake:

        def handler(seen: Seen) -> tuple[int, dict[str, str], bytes] | None:
            if seen.path == "/a":
                return 302, {"Location": "/b"}, b""
            if seen.path == "/b":
                return 301, {"Location": f"http://localhost:{fake.port}/c"}, b""
            return None

        fake.handler = handler
        resp = run(get(TargetClient(headers={"Authorization": "Bearer secret"}), fake.url + "/a"))
        assert resp.body == b"m 1\n"
        assert [r.path for r in fake.requests] == ["/a", "/b", "/c"]
        assert [("authorization" in r.headers) for r in fake.requests] == [True, True, False]
        no_follow = run(get(TargetClient(follow_redirects=False), fake.url + "/a"))
        assert no_follow.status == 302


def test_a_redirect_loop_stops() -> None:
    with FakeExporter() as fake:
        fake.handler = lambda seen: (302, {"Location": "/again"}, b"")
        with pytest.raises(FetchError, match="stopped after 10 redirects"):
            run(get(TargetClient(), fake.url))


def test_connection_refused_names_the_address() -> None:
    port = closed_port()
    with pytest.raises(FetchError, match=f"dial tcp 127.0.0.1:{port}: .*[Rr]efused"):
        run(get(TargetClient(), f"http://127.0.0.1:{port}/metrics"))


def test_https_with_the_job_tls_context_and_server_name() -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("exporter.example")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    with FakeExporter(body=b"m 1\n") as fake:
        assert fake._server is not None
        fake._server.socket = server_ctx.wrap_socket(fake._server.socket, server_side=True)
        url = f"https://127.0.0.1:{fake.port}/metrics"
        client_ctx = ssl.create_default_context()
        ca.configure_trust(client_ctx)
        resp = run(get(TargetClient(client_ctx, server_name="exporter.example"), url))
        assert resp.body == b"m 1\n"
        with pytest.raises(FetchError, match=r"certificate|CERTIFICATE"):
            run(get(TargetClient(client_ctx), url))  # 127.0.0.1 is not the certificate's name
        with pytest.raises(FetchError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            run(get(TargetClient(ssl.create_default_context(), server_name="exporter.example"), url))


def test_a_client_outlives_its_event_loop() -> None:
    with FakeExporter(body=b"m 1\n") as fake:
        client = TargetClient()
        assert run(get(client, fake.url)).body == b"m 1\n"
        assert run(get(client, fake.url)).body == b"m 1\n"
