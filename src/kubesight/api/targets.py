"""``/api/v1/targets``, ``/api/v1/scrape_pools``, ``/api/v1/targets/metadata``.

The built-in collectors (host, containers, kube-state) are listed as targets
too, each in a pool named after its job, at the URL that serves its series
(``/collectors/<job>/metrics``): they write ``up`` like a scrape does, so the
Targets page and ``up{job="node"}`` agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kubesight.api.envelope import ApiError, Params, bad_data, error, parse_selector, success
from kubesight.collect.runner import CollectorRunner
from kubesight.model.durations import format_duration_ms
from kubesight.scrape.manager import ScrapeManager

_NEVER = "0001-01-01T00:00:00Z"  # Go's zero time, what Prometheus shows before a first scrape


def _time(ts: float) -> str:
    if not ts:
        return _NEVER
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _collector_target(r: CollectorRunner, base: str) -> dict[str, Any]:
    h = r.health
    path = f"/collectors/{r.job}/metrics"
    return {
        "discoveredLabels": {"__address__": r.instance, "__metrics_path__": path, "__scheme__": "http",
                             "job": r.job},
        "labels": dict(r.target),
        "scrapePool": r.job,
        "scrapeUrl": base + path,
        "globalUrl": base + path,
        "lastError": h.last_error,
        "lastScrape": _time(h.last_collect),
        "lastScrapeDuration": h.last_duration,
        "health": h.health,
        "scrapeInterval": format_duration_ms(round(r.interval_s * 1000)),
        "scrapeTimeout": format_duration_ms(round(r.interval_s * 1000)),
    }


def routes(manager: ScrapeManager, collectors: Sequence[CollectorRunner] = ()) -> list[Route]:
    def pools() -> list[str]:
        return sorted({*manager.pools, *(r.job for r in collectors)})

    async def targets(request: Request) -> Response:
        try:
            p = await Params.of(request)
            state = (p.get("state") or "any").lower()
            if state not in ("active", "dropped", "any"):
                raise bad_data(f'invalid parameter "state": {state!r} (want active, dropped or any)')
        except ApiError as exc:
            return error(exc)
        only_pool = p.get("scrapePool")
        active: list[dict[str, Any]] = []
        dropped: list[dict[str, Any]] = []
        counts: dict[str, int] = {}
        base = str(request.base_url).rstrip("/")
        for job in pools():
            if only_pool and job != only_pool:
                continue
            if job not in manager.pools:  # a built-in collector
                if state in ("active", "any"):
                    active.extend(_collector_target(r, base) for r in collectors if r.job == job)
                if state in ("dropped", "any"):
                    counts[job] = 0
                continue
            pool = manager.pools[job]
            counts[job] = pool.dropped_total
            if state in ("active", "any"):
                for lp in sorted(pool.loops.values(), key=lambda lp: lp.target.labels):
                    t, h = lp.target, lp.health
                    active.append({
                        "discoveredLabels": dict(t.discovered),
                        "labels": dict(t.labels),
                        "scrapePool": job,
                        "scrapeUrl": t.url,
                        "globalUrl": t.url,
                        "lastError": h.last_error,
                        "lastScrape": _time(h.last_scrape),
                        "lastScrapeDuration": h.last_duration,
                        "health": h.health,
                        "scrapeInterval": format_duration_ms(t.interval_ms),
                        "scrapeTimeout": format_duration_ms(t.timeout_ms),
                    })
            if state in ("dropped", "any"):
                dropped.extend({"discoveredLabels": dict(d.discovered), "scrapePool": job} for d in pool.dropped)
        data: dict[str, Any] = {}
        if state in ("active", "any"):
            data["activeTargets"] = active
        if state in ("dropped", "any"):
            data["droppedTargets"] = dropped
            data["droppedTargetCounts"] = counts
        return success(data)

    async def scrape_pools(request: Request) -> Response:
        return success({"scrapePools": pools()})

    async def targets_metadata(request: Request) -> Response:
        try:
            p = await Params.of(request)
            limit = p.limit()
            selector = p.get("match_target")
            matchers: list[Any] = []
            if selector:
                sets = parse_selector(selector)
                matchers = sets[0] if len(sets) == 1 else []
        except ApiError as exc:
            return error(exc)
        metric = p.get("metric")
        out: list[dict[str, Any]] = []
        for job in sorted(manager.pools):
            for lp in manager.pools[job].loops.values():
                lbls = lp.target.labels
                if matchers and not all(m.matches_labels(lbls) for m in matchers):
                    continue
                for name, md in sorted(lp.health.metadata.items()):
                    if metric and name != metric:
                        continue
                    out.append({"target": dict(lbls), "metric": name, "type": md.type,
                                "help": md.help, "unit": md.unit})
                    if limit and len(out) >= limit:
                        return success(out)
        return success(out)

    return [
        Route("/api/v1/targets", targets),
        Route("/api/v1/scrape_pools", scrape_pools),
        Route("/api/v1/targets/metadata", targets_metadata),
    ]
