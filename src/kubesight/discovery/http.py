"""http_sd_configs: target groups fetched as JSON from a URL every refresh_interval."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import httpx

from kubesight.discovery._groups import parse_groups
from kubesight.discovery._httpconfig import HTTPClientConfig
from kubesight.discovery.targetgroup import SendGroups, TargetGroup

log = logging.getLogger("kubesight.discovery.http")

URL_LABEL = "__meta_url"
# The content types Prometheus' http_sd accepts.
_CONTENT_TYPE = re.compile(r'^application/json(;\s*charset=("utf-8"|utf-8))?$', re.IGNORECASE)


class HTTPDiscoverer:
    def __init__(self, url: str, refresh_interval: float, http: HTTPClientConfig) -> None:
        self.url = url
        self.refresh_interval = refresh_interval
        self.http = http
        self._last_length = 0

    async def refresh(self, client: httpx.AsyncClient) -> list[TargetGroup]:
        """One fetch; raises ValueError or httpx.HTTPError with the reason."""
        seconds = self.refresh_interval
        # Go's FormatFloat(s, 'f', -1): "60", "0.5".
        header = str(int(seconds)) if seconds == int(seconds) else repr(seconds)
        resp = await client.get(self.url, headers={
            "Accept": "application/json",
            "X-Prometheus-Refresh-Interval-Seconds": header,
        })
        if resp.status_code != 200:
            raise ValueError(f"server returned HTTP status {resp.status_code} {resp.reason_phrase}")
        ctype = resp.headers.get("content-type", "")
        if not _CONTENT_TYPE.match(ctype.strip()):
            raise ValueError(f"unsupported content type {ctype!r}")
        try:
            data = json.loads(resp.content)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc}") from exc
        if isinstance(data, list) and any(g is None for g in data):
            raise ValueError("nil target group item found")
        groups = parse_groups(data, self.url, {URL_LABEL: self.url})
        removed = [TargetGroup(source=f"{self.url}:{i}")
                   for i in range(len(groups), self._last_length)]
        self._last_length = len(groups)
        return groups + removed

    async def run(self, send: SendGroups) -> None:
        # Prometheus' default HTTP client has no overall timeout; the refresh
        # interval bounds how long one fetch can usefully take.
        async with self.http.client(timeout=max(self.refresh_interval, 1.0),
                                    headers={"User-Agent": "kubesight"}) as client:
            while True:
                try:
                    groups = await self.refresh(client)
                except (ValueError, httpx.HTTPError, OSError) as exc:
                    log.error("http_sd: refresh of %s failed, keeping the previous targets: %s",
                              self.url, exc)
                else:
                    send(groups)
                await asyncio.sleep(self.refresh_interval)
