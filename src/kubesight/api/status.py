"""``/api/v1/status/*``: build info, runtime info, flags, config, TSDB stats."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kubesight import __version__
from kubesight.api.envelope import ApiError, Params, error, success
from kubesight.store.engine import Storage

# Grafana and other clients read "version" to decide which Prometheus API
# features exist; we answer the Prometheus release whose API we implement and
# name ourselves in "application", as Mimir does.
PROMETHEUS_API_VERSION = "3.0.0"


@dataclass
class ServerInfo:
    config_yaml: str
    flags: dict[str, str]
    start_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    retention: str = "15d"
    reload_success: bool = True
    last_config_time: datetime = field(default_factory=lambda: datetime.now(UTC))


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def routes(store: Storage, info: ServerInfo) -> list[Route]:
    async def buildinfo(request: Request) -> Response:
        return success(
            {
                "version": PROMETHEUS_API_VERSION,
                "revision": "",
                "branch": "",
                "buildUser": "",
                "buildDate": "",
                "goVersion": "",
                "application": "kubesight",
                "kubesightVersion": __version__,
            }
        )

    async def runtimeinfo(request: Request) -> Response:
        st = store.stats()
        return success(
            {
                "startTime": _iso(info.start_time),
                "CWD": os.getcwd(),
                "reloadConfigSuccess": info.reload_success,
                "lastConfigTime": _iso(info.last_config_time),
                "corruptionCount": st.wal_corruptions,
                "goroutineCount": threading.active_count(),
                "GOMAXPROCS": os.cpu_count() or 1,
                "GOMEMLIMIT": 0,
                "GOGC": "",
                "GODEBUG": "",
                "storageRetention": info.retention,
            }
        )

    async def flags(request: Request) -> Response:
        return success(info.flags)

    async def config(request: Request) -> Response:
        return success({"yaml": info.config_yaml})

    async def tsdb(request: Request) -> Response:
        try:
            p = await Params.of(request)
            limit = p.limit() or 10
        except ApiError as exc:
            return error(exc)
        st = store.stats()
        card = store.cardinality(limit)
        empty = st.head_samples == 0
        data: dict[str, object] = {
            "headStats": {
                "numSeries": st.series,
                "numLabelPairs": sum(len(v) for v in store.index.cardinality().values()),
                "chunkCount": 0,
                "minTime": 0 if empty else st.head_mint,
                "maxTime": 0 if empty else st.head_maxt,
            },
        }
        for key, rows in card.items():
            data[key] = [{"name": n, "value": v} for n, v in rows]
        return success(data)

    return [
        Route("/api/v1/status/buildinfo", buildinfo),
        Route("/api/v1/status/runtimeinfo", runtimeinfo),
        Route("/api/v1/status/flags", flags),
        Route("/api/v1/status/config", config),
        Route("/api/v1/status/tsdb", tsdb),
    ]
