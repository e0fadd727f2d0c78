"""The scrape HTTP client: one kept-alive HTTP/1.1 connection per target, nothing more.

A scrape is always the same request to the same URL, so the general-purpose
clients' machinery (connection pools, request and response objects, header
multidicts, middleware) was most of a scrape's cost: httpx took ~0.8 ms of
CPU per request, more than parsing the body (bench/scrape.py). This client
keeps one connection per target, writes a request rendered once, and parses
the response with ``httptools`` (llhttp, the parser uvicorn uses), which also
undoes chunked encoding. What it does, as Prometheus' scraper (Go's
net/http) does:

- keep-alive, and one silent retry on a fresh connection when a reused one
  turns out to have been closed by the target before answering;
- ``Content-Encoding: gzip`` inflated as it arrives, with the body size limit
  applied to the inflated bytes (a gzip bomb stops at the limit);
- redirects (301, 302, 303, 307, 308; at most 10) when ``follow_redirects``;
  credentials are not sent to another host;
- HTTPS with the job's TLS context and ``server_name``.

Timeouts belong to the caller (``asyncio.timeout`` around :meth:`TargetClient.get`).
"""

from __future__ import annotations

import asyncio
import os
import ssl
import urllib.parse
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import httptools

_MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_HEADER_BYTES = 1 << 20  # a response whose headers alone exceed this is not an exporter


class FetchError(Exception):
    """The request failed: the message says how, as Go's client would."""


class BodyTooLargeError(FetchError):
    pass


@dataclass
class Response:
    status: int
    reason: str
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    body: bytes  # inflated when the target sent gzip


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int

    @property
    def netloc(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _split(url: str) -> tuple[_Origin, str]:
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https"):
        raise FetchError(f"unsupported protocol scheme {u.scheme!r}")
    if not u.hostname:
        raise FetchError("no host in request URL")
    try:
        port = u.port or (443 if u.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchError(f"invalid port in {u.netloc!r}: {exc}") from None
    target = (u.path or "/") + (f"?{u.query}" if u.query else "")
    return _Origin(u.scheme, u.hostname, port), target


class _Exchange(asyncio.Protocol):
    """One connection; collects one response at a time."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.waiter: asyncio.Future[None] | None = None
        self._reset()

    def _reset(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.reason = ""
        self.headers: dict[str, str] = {}
        self.header_bytes = 0
        self.headers_done = False
        self.keep_alive = False
        self.chunks: list[bytes] = []
        self.size = 0
        self.inflater: zlib._Decompress | None = None
        self.complete = False
        self.received = False  # any byte of this response arrived
        self.error: BaseException | None = None

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received = True
        if self.complete or self.error is not None:
            return  # bytes after a whole response: the connection is not reused (see get)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # pragma: no cover - we never ask to upgrade
            self._fail(FetchError("unexpected protocol upgrade"))
        except httptools.HttpParserError as exc:
            # An exception raised in one of our callbacks arrives as the context.
            cause = exc.__context__
            self._fail(cause if isinstance(cause, FetchError) else FetchError(f"malformed HTTP response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.complete:
            return
        if self.headers_done and self.error is None and self._delimited_by_eof():
            # A body without a length or chunks (HTTP/1.0 style) ends with the connection.
            try:
                self.on_message_complete()
                return
            except FetchError as err:
                self._fail(err)
                return
        self._fail(FetchError("unexpected EOF" if exc is None else str(exc) or type(exc).__name__))

    # -- httptools callbacks ----------------------------------------------------

    def on_status(self, reason: bytes) -> None:
        self.reason = reason.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(value)
        if self.header_bytes > _MAX_HEADER_BYTES:
            raise FetchError(f"server response headers exceeded {_MAX_HEADER_BYTES} bytes; aborted")
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def _delimited_by_eof(self) -> bool:
        h = self.headers
        return "content-length" not in h and "chunked" not in h.get("transfer-encoding", "").lower()

    def on_headers_complete(self) -> None:
        self.headers_done = True
        # Asked now: llhttp forgets it once the message is complete.
        self.keep_alive = self.parser.should_keep_alive()
        if self.headers.get("content-encoding", "").strip().lower() == "gzip":
            self.inflater = zlib.decompressobj(wbits=31)

    def on_body(self, body: bytes) -> None:
        if self.inflater is not None:
            try:
                body = self.inflater.decompress(body, self.limit - self.size + 1)
            except zlib.error as exc:
                raise FetchError(f"gzip: invalid body: {exc}") from None
            if self.inflater.unconsumed_tail:
                raise BodyTooLargeError(self._too_large())
        self.size += len(body)
        if self.size > self.limit:
            raise BodyTooLargeError(self._too_large())
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.inflater is not None and not self.inflater.eof:
            raise FetchError("gzip: unexpected EOF")
        self.complete = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    # -- helpers -----------------------------------------------------------------

    def _too_large(self) -> str:
        return f"body size limit exceeded: the body is over {self.limit} bytes"

    def _fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.error)
        if self.transport is not None:
            self.transport.close()


class TargetClient:
    """Requests to one target over (at most) one kept-alive connection."""

    def __init__(
        self,
        tls: ssl.SSLContext | None = None,
        server_name: str | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
    ) -> None:
        self.tls = tls
        self.server_name = server_name
        self.headers = dict(headers or {})
        self.follow_redirects = follow_redirects
        self._conn: _Exchange | None = None
        self._origin: _Origin | None = None
        self._requests: dict[tuple[str, _Origin, tuple[tuple[str, str], ...], bool], bytes] = {}
        self._urls: dict[str, tuple[_Origin, str]] = {}
        self.connections_opened = 0

    async def aclose(self) -> None:
        self._drop()

    def _drop(self) -> None:
        conn = self._conn
        if conn is not None and conn.transport is not None and not conn.loop.is_closed():
            conn.transport.close()
        self._conn = None
        self._origin = None

    async def get(self, url: str, headers: Mapping[str, str], limit: int) -> Response:
        """GET ``url`` with ``headers`` (plus the client's own), following redirects."""
        split = self._urls.get(url)
        if split is None:
            if len(self._urls) > 16:  # one URL per target; redirects add a few
                self._urls.clear()
            split = self._urls[url] = _split(url)
        origin, target = split
        first = origin
        for _ in range(_MAX_REDIRECTS + 1):
            # Credentials set on the client go to the target's own host only.
            send_own = origin.host == first.host
            resp = await self._request(origin, target, headers, limit, send_own)
            if not (self.follow_redirects and resp.status in _REDIRECTS):
                return resp
            location = resp.headers.get("location")
            if not location:
                return resp
            url = urllib.parse.urljoin(f"{origin.scheme}://{origin.netloc}{target}", location)
            origin, target = _split(url)
        raise FetchError(f"stopped after {_MAX_REDIRECTS} redirects")

    def _render(self, origin: _Origin, target: str, headers: Mapping[str, str], send_own: bool) -> bytes:
        key = (target, origin, tuple(headers.items()), send_own)
        req = self._requests.get(key)
        if req is None:
            if len(self._requests) > 16:  # only redirects add entries; keep it bounded
                self._requests.clear()
            lines = [f"GET {target} HTTP/1.1", f"Host: {origin.netloc}"]
            merged = {**self.headers, **headers} if send_own else dict(headers)
            lines += [f"{k}: {v}" for k, v in merged.items()]
            req = self._requests[key] = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return req

    async def _request(
        self, origin: _Origin, target: str, headers: Mapping[str, str], limit: int, send_own: bool
    ) -> Response:
        req = self._render(origin, target, headers, send_own)
        for attempt in (0, 1):
            conn = self._conn
            reused = (
                conn is not None
                and self._origin == origin
                and not conn.closed
                and conn.loop is asyncio.get_running_loop()  # a client may outlive its event loop
            )
            if not reused:
                self._drop()
                conn = await self._connect(origin, limit)
            assert conn is not None
            conn._reset()
            conn.limit = limit
            loop = asyncio.get_running_loop()
            conn.waiter = loop.create_future()
            assert conn.transport is not None
            conn.transport.write(req)
            try:
                await conn.waiter
            except FetchError:
                self._drop()
                # A kept-alive connection the target had closed: try once more, fresh.
                if reused and attempt == 0 and not conn.received:
                    continue
                raise
            except BaseException:
                self._drop()  # cancelled or timed out mid-response: never reuse this connection
                raise
            finally:
                conn.waiter = None
            if not conn.keep_alive or conn.closed:
                self._drop()
            return Response(conn.parser.get_status_code(), conn.reason, conn.headers, b"".join(conn.chunks))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _connect(self, origin: _Origin, limit: int) -> _Exchange:
        loop = asyncio.get_running_loop()
        tls = origin.scheme == "https"
        if tls and self.tls is None:
            raise FetchError("https target but no TLS configuration")
        try:
            _, proto = await loop.create_connection(
                lambda: _Exchange(limit),
                origin.host,
                origin.port,
                ssl=self.tls if tls else None,
                server_hostname=(self.server_name or origin.host) if tls else None,
            )
        except ssl.SSLError as exc:
            raise FetchError(f"tls: {exc}") from None
        except OSError as exc:
            # Go's wording: "dial tcp 10.0.0.1:9100: connect: connection refused".
            why = os.strerror(exc.errno).lower() if exc.errno else str(exc)
            raise FetchError(f"dial tcp {origin.host}:{origin.port}: connect: {why}") from None
        self.connections_opened += 1
        self._conn, self._origin = proto, origin
        return proto

