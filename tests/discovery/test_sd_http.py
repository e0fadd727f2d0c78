"""http_sd_configs against a small HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from sd_helpers import Running, wait_for  # type: ignore[import-not-found]

from kubesight.discovery import TargetGroup
from kubesight.discovery.config import build_discoverers
from kubesight.discovery.http import HTTPDiscoverer

pytestmark = pytest.mark.timeout(60)


class SDServer:
    """Answers every GET with the current (status, content type, body); records headers."""

    def __init__(self) -> None:
        self.status, self.ctype, self.body = 200, "application/json", b"[]"
        self.headers: list[dict[str, str]] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        self.headers.append(headers)
        writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Type: {self.ctype}\r\n"
                     f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n".encode() + self.body)
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/sd"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def test_http_sd_groups_errors_keep_previous_and_removal(caplog: pytest.LogCaptureFixture) -> None:
    srv = SDServer()

    async def main() -> None:
        async with srv as url:
            [(name, d)] = build_discoverers("web", {"http_sd_configs": [
                {"url": url, "refresh_interval": "1s", "authorization": {"credentials": "s3cret"}}]}, Path("/"))
            assert name == "http_sd_configs/0" and isinstance(d, HTTPDiscoverer)
            d.refresh_interval = 0.05  # keep the test fast; the header still says what was configured
            srv.body = json.dumps([{"targets": ["a:1"], "labels": {"env": "x"}},
                                   {"targets": ["b:1"]}]).encode()
            async with Running(d) as out:
                await wait_for(lambda: len(out.groups) == 2)
                assert out.groups[f"{url}:0"] == TargetGroup(
                    f"{url}:0", ({"__address__": "a:1"},), {"env": "x", "__meta_url": url})
                h = srv.headers[0]
                assert h["x-prometheus-refresh-interval-seconds"] == "0.05"
                assert h["authorization"] == "Bearer s3cret"
                assert h["accept"] == "application/json"
                with caplog.at_level(logging.ERROR, logger="kubesight.discovery.http"):
                    for status, ctype, body in ((500, "application/json", b"[]"),
                                                (200, "application/json", b"[{nope"),
                                                (200, "text/plain", b"[]")):
                        caplog.clear()
                        srv.status, srv.ctype, srv.body = status, ctype, body
                        await wait_for(lambda: "keeping the previous targets" in caplog.text)
                        assert len(out.groups) == 2
                    assert "unsupported content type" in caplog.text
                srv.status, srv.ctype = 200, "application/json; charset=utf-8"
                srv.body = json.dumps([{"targets": ["c:1"]}]).encode()
                await wait_for(lambda: set(out.groups) == {f"{url}:0"} and
                               out.groups[f"{url}:0"].targets == ({"__address__": "c:1"},))
    asyncio.run(main())


def test_http_sd_default_refresh_header() -> None:
    srv = SDServer()

    async def main() -> None:
        async with srv as url:
            [(_, d)] = build_discoverers("web", {"http_sd_configs": [{"url": url}]}, Path("/"))
            assert isinstance(d, HTTPDiscoverer) and d.refresh_interval == 60.0
            async with Running(d) as out:
                await wait_for(lambda: bool(srv.headers) and bool(out.sends))
            assert srv.headers[0]["x-prometheus-refresh-interval-seconds"] == "60"
    asyncio.run(main())
