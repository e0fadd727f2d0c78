"""Scrape pools: one per job, fed by discovery, running one loop per target.

The manager receives target groups from the job's discoverers, turns them
into targets (relabeling), and reconciles the running loops: new targets get
a loop at their fixed offset in the interval, vanished ones are stopped and
their series marked stale. It answers the targets API from the same state.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kubesight.discovery import Discoverer, TargetGroup
from kubesight.scrape.config import ScrapeConfig
from kubesight.scrape.http import TargetClient
from kubesight.scrape.loop import ScrapeLoop
from kubesight.scrape.target import DroppedTarget, Target, populate
from kubesight.store.interface import Appender
from kubesight.wire.exposition import SharedTexts

log = logging.getLogger("kubesight.scrape")

# Prometheus waits 5s after a discovery update before applying it, so bursts
# of changes (a rolling deployment) reconcile once.
_UPDATE_DEBOUNCE_S = 5.0


@dataclass
class ScrapePool:
    cfg: ScrapeConfig
    new_client: Callable[[], TargetClient]
    groups: dict[str, TargetGroup] = field(default_factory=dict)
    loops: dict[str, ScrapeLoop] = field(default_factory=dict)
    dropped: list[DroppedTarget] = field(default_factory=list)
    dropped_total: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    dirty: asyncio.Event = field(default_factory=asyncio.Event)
    texts: SharedTexts = field(default_factory=SharedTexts)  # parsed exposition texts, for all targets


def _client_factory(cfg: ScrapeConfig) -> Callable[[], TargetClient]:
    """Clients for one job's targets: one per target (one kept-alive connection), one TLS context.

    The SSL context, costly to build, is shared; so are the auth headers.
    """
    h = cfg.http
    # Always built: relabeling can make any target https (__scheme__).
    ctx = ssl.create_default_context(cafile=h.ca_file)
    if h.cert_file:
        ctx.load_cert_chain(h.cert_file, h.key_file)
    if h.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    headers = {}
    if h.bearer_token is not None:
        headers["Authorization"] = f"{h.authorization_type} {h.bearer_token}"
    elif h.basic_auth:
        token = base64.b64encode(f"{h.basic_auth[0]}:{h.basic_auth[1]}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"

    def new() -> TargetClient:
        return TargetClient(ctx, h.server_name, headers, h.follow_redirects)

    return new


class ScrapeManager:
    def __init__(
        self,
        store: Appender,
        discoverers: Callable[[ScrapeConfig], list[tuple[str, Discoverer]]],
        clock: Callable[[], float] = time.time,
        offset_seed: str = "",
    ) -> None:
        self.store = store
        self.discoverers = discoverers
        self.clock = clock
        self.seed = offset_seed
        self.pools: dict[str, ScrapePool] = {}

    async def apply(self, configs: list[ScrapeConfig]) -> None:
        """Start, restart or stop pools so that they match ``configs``."""
        wanted = {c.job_name: c for c in configs}
        for job in list(self.pools):
            if job not in wanted or wanted[job] != self.pools[job].cfg:
                await self._stop_pool(job, mark_stale=job not in wanted)
        for job, cfg in wanted.items():
            if job not in self.pools:
                self._start_pool(cfg)

    async def stop(self) -> None:
        for job in list(self.pools):
            await self._stop_pool(job, mark_stale=False)

    def _start_pool(self, cfg: ScrapeConfig) -> None:
        pool = ScrapePool(cfg, _client_factory(cfg))
        self.pools[cfg.job_name] = pool
        for name, disc in self.discoverers(cfg):
            pool.tasks.append(asyncio.create_task(disc.run(self._sender(pool, name)), name=f"sd {cfg.job_name}/{name}"))
        pool.tasks.append(asyncio.create_task(self._reconcile_loop(pool), name=f"pool {cfg.job_name}"))

    async def _stop_pool(self, job: str, mark_stale: bool) -> None:
        pool = self.pools.pop(job)
        for t in pool.tasks:
            t.cancel()
        for t in pool.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await asyncio.gather(*(lp.stop(mark_stale) for lp in pool.loops.values()))

    def _sender(self, pool: ScrapePool, provider: str) -> Callable[[list[TargetGroup]], None]:
        def send(groups: list[TargetGroup]) -> None:
            for g in groups:
                key = f"{provider}/{g.source}"
                if g.targets:
                    pool.groups[key] = g
                else:
                    pool.groups.pop(key, None)
            pool.dirty.set()

        return send

    async def _reconcile_loop(self, pool: ScrapePool) -> None:
        first = True
        while True:
            await pool.dirty.wait()
            if not first:
                await asyncio.sleep(_UPDATE_DEBOUNCE_S)
            first = False
            pool.dirty.clear()
            try:
                await self.reconcile(pool)
            except Exception:
                log.exception("job %s: applying discovered targets failed", pool.cfg.job_name)

    async def reconcile(self, pool: ScrapePool) -> None:
        targets: dict[str, Target] = {}
        dropped: list[DroppedTarget] = []
        for key in sorted(pool.groups):
            ts, ds = populate(pool.cfg, pool.groups[key])
            for t in ts:
                targets.setdefault(t.key, t)
            dropped.extend(ds)
        limit = pool.cfg.target_limit
        if limit and len(targets) > limit:
            log.error("job %s: %d targets over target_limit %d: scraping none", pool.cfg.job_name, len(targets), limit)
            targets = {}
        pool.dropped_total = len(dropped)
        keep = pool.cfg.keep_dropped_targets
        pool.dropped = dropped[:keep] if keep else dropped
        gone = [k for k in pool.loops if k not in targets]
        await asyncio.gather(*(pool.loops.pop(k).stop(True) for k in gone))
        for k, t in targets.items():
            if k not in pool.loops:
                lp = ScrapeLoop(t, pool.cfg, self.store, pool.new_client(), self.clock, pool.texts)
                pool.loops[k] = lp
                lp.start(t.offset_ms(self.seed))
