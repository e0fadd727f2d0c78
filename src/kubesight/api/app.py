"""The HTTP application: every API surface on one port.

The store opens in the background after the socket is bound, so ``/-/healthy``
answers at once and ``/-/ready`` turns 200 when the WAL has been replayed;
until then every data endpoint answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psutil
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from kubesight.api import remote_read, series, status
from kubesight.api.status import ServerInfo
from kubesight.errors import KubesightError
from kubesight.ingest.remote_write import IngestMetrics, WriteLimits, remote_write_handler
from kubesight.model.instrument import Registry
from kubesight.store.engine import Storage

log = logging.getLogger("kubesight.api")

_ALWAYS_SERVED = ("/-/healthy", "/-/ready", "/metrics")
_MAINTENANCE_S = 15.0  # how often to check flush and retention; cheap when idle
_RETENTION_S = 300.0  # retention only ever deletes whole 2h blocks, so 5m is plenty
_OVERLOAD_FACTOR = 4  # head this many times its flush size means flushing is behind


Hook = Callable[[], Awaitable[None]]


@dataclass
class AppOptions:
    limits: WriteLimits
    info: ServerInfo
    extra_routes: list[BaseRoute] = field(default_factory=list)
    after_open: list[Hook] = field(default_factory=list)
    """Run once the store is ready (start scraping, rules...)."""
    before_close: list[Hook] = field(default_factory=list)
    """Run on shutdown before the store's final flush."""
    reload: Callable[[], Awaitable[None]] | None = None
    """Re-read the config; raises KubesightError (old config kept) on failure."""
    ingest_metrics: IngestMetrics | None = None
    """Shared with other ingest routes (Pushgateway) so all protocols count in one place."""


def build_app(store: Storage, opts: AppOptions, registry: Registry | None = None) -> Starlette:
    registry = registry or Registry()
    _register_self_metrics(registry, store)
    ingest_metrics = opts.ingest_metrics or IngestMetrics(registry)
    durations = registry.histogram(
        "kubesight_http_request_duration_seconds",
        "Time to answer HTTP requests, by handler.",
        ["handler"],
    )
    wake = asyncio.Event()

    def overloaded() -> str | None:
        if store.head.samples > _OVERLOAD_FACTOR * store.head_limit():
            wake.set()
            return f"{store.head.samples} samples waiting to be flushed to disk"
        return None

    write = remote_write_handler(store, opts.limits, ingest_metrics, overloaded)

    async def write_and_wake(request: Request) -> Response:
        resp = await write(request)
        if store.needs_flush():
            wake.set()
        return resp

    async def healthy(request: Request) -> Response:
        return PlainTextResponse("kubesight is Healthy.\n")

    async def ready(request: Request) -> Response:
        if store.ready:
            return PlainTextResponse("kubesight is Ready.\n")
        return PlainTextResponse("Service Unavailable\n", status_code=503)

    async def flush(request: Request) -> Response:
        n = await asyncio.to_thread(store.flush)
        st = store.stats()
        return JSONResponse({"flushedSamples": n, "blocks": st.blocks, "blockBytes": st.block_bytes})

    async def reload(request: Request) -> Response:
        if opts.reload is None:
            return PlainTextResponse("reloading is not available\n", status_code=501)
        try:
            await _do_reload()
        except KubesightError as exc:
            return PlainTextResponse(f"failed to reload config: {exc}\n", status_code=500)
        return PlainTextResponse("")

    async def _do_reload() -> None:
        assert opts.reload is not None
        try:
            await opts.reload()
        except KubesightError as exc:
            opts.info.reload_success = False
            log.error("config reload failed, keeping the running config: %s", exc)
            raise
        opts.info.reload_success = True
        opts.info.last_config_time = datetime.now(UTC)
        log.info("config reloaded")

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(registry.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    routes: list[BaseRoute] = [
        Route("/-/healthy", healthy, methods=["GET", "HEAD"]),
        Route("/-/ready", ready, methods=["GET", "HEAD"]),
        Route("/-/flush", flush, methods=["POST"]),
        Route("/-/reload", reload, methods=["POST", "PUT"]),
        Route("/metrics", metrics),
        Route("/api/v1/write", write_and_wake, methods=["POST"]),
        Route(
            "/api/v1/read",
            remote_read.remote_read_handler(
                store, opts.limits.max_request_bytes, opts.limits.max_decoded_bytes
            ),
            methods=["POST"],
        ),
        *series.routes(store),
        *status.routes(store, opts.info),
        *opts.extra_routes,
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        opener = asyncio.create_task(asyncio.to_thread(store.open))
        opener.add_done_callback(_stop_if_failed)
        maint = asyncio.create_task(_maintain(store, wake, opener))
        starter = asyncio.create_task(_after_open(opener, opts.after_open))
        loop = asyncio.get_running_loop()
        if opts.reload is not None:
            loop.add_signal_handler(
                signal.SIGHUP, lambda: asyncio.ensure_future(_quiet(_do_reload()))
            )
        try:
            yield
        finally:
            starter.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starter
            for hook in opts.before_close:
                try:
                    await hook()
                except Exception:
                    log.exception("shutdown step failed")
            maint.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await maint
            with contextlib.suppress(Exception):
                await opener
            if store.ready:
                log.info("shutting down: flushing the head to disk")
                await asyncio.to_thread(store.close)

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(_ReadyGate, store=store)
    app.add_middleware(_Timing, observe=durations.observe)
    return app


async def _after_open(opener: asyncio.Task[None], hooks: list[Hook]) -> None:
    await opener
    for hook in hooks:
        await hook()


async def _quiet(aw: Awaitable[None]) -> None:
    with contextlib.suppress(KubesightError):
        await aw


def _stop_if_failed(task: asyncio.Task[None]) -> None:
    if task.cancelled() or task.exception() is None:
        return
    # Without a store there is nothing to serve: say why and stop, rather than
    # answer 503 forever.
    log.critical("cannot open the store: %s", task.exception())
    os.kill(os.getpid(), signal.SIGTERM)


async def _maintain(store: Storage, wake: asyncio.Event, opener: asyncio.Task[None]) -> None:
    await opener
    last_retention = 0.0
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), _MAINTENANCE_S)
        wake.clear()
        try:
            if store.needs_flush():
                await asyncio.to_thread(store.flush, False)
            elif store.needs_compaction():
                await asyncio.to_thread(store.compact, True)
            if time.monotonic() - last_retention >= _RETENTION_S:
                last_retention = time.monotonic()
                await asyncio.to_thread(store.apply_retention)
        except Exception:
            # Keep serving: a failed flush leaves the data in the head and WAL.
            log.exception("store maintenance failed; will retry")


class _ReadyGate:
    def __init__(self, app: ASGIApp, store: Storage) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.store.ready and scope["path"] not in _ALWAYS_SERVED:
            resp = PlainTextResponse(
                "kubesight is starting (replaying the write-ahead log); retry shortly\n",
                status_code=503,
                headers={"Retry-After": "1"},
            )
            await resp(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _Timing:
    def __init__(self, app: ASGIApp, observe: Callable[..., None]) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            handler = getattr(route, "path", None) or "other"
            self.observe(time.perf_counter() - t0, handler)


def _register_self_metrics(registry: Registry, store: Storage) -> None:
    proc = psutil.Process(os.getpid())
    start = proc.create_time()
    r = registry
    r.gauge("kubesight_tsdb_head_series", "Series in the index.", lambda: store.stats().series)
    r.gauge("kubesight_tsdb_head_samples", "Samples in the in-memory head.", lambda: store.stats().head_samples)
    r.gauge("kubesight_tsdb_head_bytes", "Bytes of sample columns in the head.", lambda: store.stats().head_bytes)
    r.gauge("kubesight_tsdb_wal_bytes", "Size of the write-ahead log on disk.", lambda: store.stats().wal_bytes)
    r.gauge("kubesight_tsdb_blocks_loaded", "Blocks on disk.", lambda: store.stats().blocks)
    r.gauge("kubesight_tsdb_blocks_bytes", "Size of the blocks on disk.", lambda: store.stats().block_bytes)
    r.gauge("kubesight_tsdb_samples_appended_total", "Samples appended since start.", lambda: store.samples_appended, "counter")
    r.gauge("kubesight_tsdb_wal_corruptions_total", "WAL corruptions found at replay.", lambda: store.wal_corruptions, "counter")
    r.gauge("process_cpu_seconds_total", "CPU time of this process.", lambda: sum(proc.cpu_times()[:2]), "counter")
    r.gauge("process_resident_memory_bytes", "Resident memory.", lambda: proc.memory_info().rss)
    r.gauge("process_start_time_seconds", "Start time, Unix seconds.", lambda: start)
    r.gauge("process_open_fds", "Open file descriptors.", lambda: proc.num_fds())
