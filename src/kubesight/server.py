"""Wire the server's components from a validated config and run them."""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from kubesight import __version__
from kubesight.api.app import AppOptions, build_app
from kubesight.api.status import ServerInfo
from kubesight.config import Config
from kubesight.ingest.remote_write import WriteLimits
from kubesight.model.durations import parse_duration_ms
from kubesight.model.instrument import Registry
from kubesight.store.engine import Storage, StorageOptions, check_dir_writable
from kubesight.web import landing

log = logging.getLogger("kubesight.server")


def _query_routes(store: Storage, cfg: Config) -> list[BaseRoute]:
    try:
        from kubesight.api import query
        from kubesight.promql import Engine
    except ImportError:  # the PromQL engine is optional while it is being built
        return []
    engine = Engine(
        store,
        lookback_delta_ms=parse_duration_ms(cfg.query.lookback_delta),
        max_samples=cfg.query.max_samples,
        timeout_s=parse_duration_ms(cfg.query.timeout) / 1000,
    )
    return list(query.routes(engine))


def build(cfg: Config, flags: dict[str, str]) -> tuple[Starlette, Storage]:
    data_dir = Path(cfg.server.data_dir).resolve()
    check_dir_writable(data_dir)
    store = Storage(
        data_dir,
        StorageOptions(
            retention_ms=cfg.storage.retention_ms,
            retention_bytes=cfg.storage.retention_bytes,
            head_max_samples=cfg.storage.head_max_samples,
            wal_fsync=cfg.storage.wal_fsync,
        ),
    )
    info = ServerInfo(config_yaml=cfg.to_yaml(), flags=flags, retention=cfg.storage.retention)
    opts = AppOptions(
        limits=WriteLimits(cfg.server.max_request_bytes, cfg.server.max_decoded_bytes),
        info=info,
        extra_routes=[*_query_routes(store, cfg), *landing.routes(store.stats, str(data_dir))],
    )
    return build_app(store, opts, Registry()), store


def run(cfg: Config, flags: dict[str, str]) -> None:
    # Decoding a request allocates a tuple and strings per new series; with
    # the default gen-0 threshold (700) the collector ran ~20% of cold decode
    # time (measured in bench/wire_decode.py). Long-lived data is numpy arrays.
    gc.set_threshold(100_000, 50, 100)
    app, store = build(cfg, flags)
    url = f"http://{cfg.server.listen}"
    print(
        f"kubesight {__version__}\n"
        f"  UI and API:  {url}\n"
        f"  remote write: {url}/api/v1/write\n"
        f"  data:        {store.dir}\n"
        f"  config:      {cfg.source or '(built-in defaults)'}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app,
        host=cfg.server.host,
        port=cfg.server.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=30,
    )
