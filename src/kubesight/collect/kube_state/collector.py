"""The object-state collector: a watch cache of the Kubernetes API, served as kube-state-metrics families.

:meth:`KubeStateCollector.start` lists and watches every enabled resource
(list + watch from the list's ``resourceVersion``, bookmarks, resume after a
dropped watch, clean relist on 410 Gone, capped exponential backoff: the
:class:`~kubesight.discovery._kubeclient.Informer` discovery uses). Each
object is turned into its samples when it changes and only those are kept;
:meth:`collect` concatenates them, without an API call.

Nothing the API server sends stops the collector: an object of an unexpected
shape contributes what could be read from it, and one that cannot be read
at all is counted in ``kubesight_kube_state_object_errors_total``; failed
lists and watches are retried and counted in
``kubesight_kube_state_list_watch_errors_total``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Any

import httpx

from kubesight.collect.family import Family
from kubesight.collect.kube_state import cluster, pods, workloads
from kubesight.collect.kube_state._rows import Kind, Options
from kubesight.collect.kube_state._values import Allowlist
from kubesight.discovery._kubeclient import (
    BACKOFF_MAX,
    BACKOFF_START,
    Informer,
    KubeAccess,
    Obj,
    OnError,
    Transform,
)
from kubesight.discovery._kubeclient import RESOURCES as API_RESOURCES

log = logging.getLogger("kubesight.collect.kube_state")

# Objects per list page. A page's decoded JSON is garbage once its objects are
# turned into samples, but the allocator keeps the memory it spanned: smaller
# pages than client-go's 500 keep the process ~20 MB smaller at 10,000 pods.
LIST_PAGE = 100

_ROWS = "rows"  # the key under which an informer holds an object's samples
_LAYOUT = "layout"  # ... and how many of them each family has
# Distinct layouts, shared; bounded against a cluster where every object differs.
_LAYOUTS: dict[tuple[int, ...], tuple[int, ...]] = {}
_LAYOUTS_MAX = 10_000

KINDS: dict[str, Kind] = {k.resource: k for k in (pods.KIND, *workloads.KINDS, *cluster.KINDS)}
"""Every resource the collector knows, by its plural name (kube-state-metrics' ``--resources``)."""


@dataclass(frozen=True)
class KubeStateOptions:
    """What to watch and which Kubernetes labels/annotations to expose.

    ``resources``: plural resource names (default: all of :data:`KINDS`);
    ``namespaces``: watch only these (default: all); ``labels_allowlist`` and
    ``annotations_allowlist``: kube-state-metrics' ``--metric-labels-allowlist``
    and ``--metric-annotations-allowlist`` as mappings
    (``{"pods": ["app"], "*": ["team"]}``); ``metric_allowlist`` /
    ``metric_denylist``: its ``--metric-allowlist`` / ``--metric-denylist``,
    regular expressions searched in family names (one or the other).
    """

    resources: tuple[str, ...] = tuple(KINDS)
    namespaces: tuple[str, ...] = ()
    labels_allowlist: Mapping[str, Iterable[str]] = field(default_factory=dict)
    annotations_allowlist: Mapping[str, Iterable[str]] = field(default_factory=dict)
    metric_allowlist: tuple[str, ...] = ()
    metric_denylist: tuple[str, ...] = ()

    def family_filter(self) -> Callable[[str], bool]:
        """Whether a family is served, under ``metric_allowlist`` / ``metric_denylist``."""
        if self.metric_allowlist and self.metric_denylist:
            raise ValueError("kube-state: metric-allowlist and metric-denylist are both set; "
                             "they are mutually exclusive, set only one")
        patterns = []
        for what, items in (("metric-allowlist", self.metric_allowlist), ("metric-denylist", self.metric_denylist)):
            for item in items:
                try:
                    patterns.append(re.compile(item))
                except re.error as exc:
                    raise ValueError(f"kube-state: {what}: {item!r} is not a regular expression: {exc}") from exc
        allow = bool(self.metric_allowlist)
        if not patterns:
            return lambda name: True
        return lambda name: any(p.search(name) for p in patterns) == allow

    def validated(self) -> Options:
        unknown = [r for r in self.resources if r not in KINDS]
        if unknown:
            raise ValueError(f"kube-state: unknown resource(s) {', '.join(unknown)}; "
                             f"known: {', '.join(KINDS)}")
        return Options(
            Allowlist(self.labels_allowlist, KINDS, "metric-labels-allowlist", self.resources),
            Allowlist(self.annotations_allowlist, KINDS, "metric-annotations-allowlist", self.resources))


class KubeStateCollector:
    """kube-state-metrics' families from a watch cache; ``collect()`` never calls the API."""

    name = "kube-state-metrics"

    def __init__(self, access: KubeAccess, options: KubeStateOptions | None = None,
                 backoff_start: float | None = None, backoff_max: float | None = None) -> None:
        self.access = access
        self.options = options or KubeStateOptions()
        self._opts = self.options.validated()
        served = self.options.family_filter()
        # Families left out by the metric allow/deny lists are never stored.
        self._kinds = [replace(KINDS[r], families=tuple(f for f in KINDS[r].families if served(f.name)))
                       for r in self.options.resources]
        self._backoff_start = BACKOFF_START if backoff_start is None else backoff_start
        self._backoff_max = BACKOFF_MAX if backoff_max is None else backoff_max
        self._lock = threading.Lock()  # collect() may run in a worker thread
        self._object_errors: dict[str, int] = dict.fromkeys(self.options.resources, 0)
        self._api_errors: dict[tuple[str, str], int] = {}
        self.informers: dict[str, list[Informer]] = {}
        self._client: httpx.AsyncClient | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # ---- lifecycle ----------------------------------------------------------

    async def start(self) -> None:
        """Start the list+watch loops; returns at once (see :meth:`wait_synced`)."""
        if self._tasks:
            return
        try:
            self._client = self.access.client()
        except (OSError, ValueError) as exc:  # a CA or client certificate that cannot be read
            # ssl's own message does not say which file it could not read.
            files = ", ".join(f"{k} {v}" for k in ("ca_file", "cert_file", "key_file")
                              if (v := getattr(self.access.http, k)) is not None)
            raise RuntimeError(f"kube-state: cannot set up the client for {self.access.base_url}: {exc}"
                               + (f" (reading {files})" if files else "")) from exc
        for kind in self._kinds:
            res = API_RESOURCES[kind.resource]
            scopes = list(self.options.namespaces) if res.namespaced and self.options.namespaces else [""]
            self.informers[kind.resource] = [
                Informer(self._client, self.access.base_url, res, ns, transform=self._transform(kind),
                         on_error=self._on_error(kind.resource),
                         log_name="kube-state", backoff_start=self._backoff_start, page_size=LIST_PAGE,
                         backoff_max=self._backoff_max)
                for ns in scopes]
        self._tasks = [asyncio.create_task(inf.run(), name=f"kube-state {inf.url}")
                       for infs in self.informers.values() for inf in infs]

    async def wait_synced(self, timeout: float | None = None) -> bool:
        """True once every collection has been listed; False if ``timeout`` passed first."""
        waits = [inf.synced.wait() for infs in self.informers.values() for inf in infs]
        try:
            await asyncio.wait_for(asyncio.gather(*waits), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> KubeStateCollector:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- cache --------------------------------------------------------------

    def _transform(self, kind: Kind) -> Transform:
        """What the informer keeps of an object: all its samples in one flat tuple, in
        ``kind.families`` order, and its layout: how many samples each family has.

        One tuple per object rather than one per family saves ~1.5 kB per pod;
        the layouts repeat (most pods look alike), so each is kept once.
        """
        opts = self._opts
        names = [s.name for s in kind.families]

        def transform(obj: Obj) -> Obj:
            try:
                rows = kind.build(obj, opts)
            except Exception as exc:  # one unreadable object must not stop its watch
                meta = obj.get("metadata") if isinstance(obj, dict) else None
                where = (f"{meta.get('namespace', '')}/{meta.get('name', '')}"
                         if isinstance(meta, dict) else "?")
                log.error("kube-state: cannot read %s %s: %r", kind.resource, where, exc)
                with self._lock:
                    self._object_errors[kind.resource] += 1
                rows = {}
            groups = [rows.get(n, ()) for n in names]
            layout = tuple(len(g) for g in groups)
            layout = _LAYOUTS.setdefault(layout, layout) if len(_LAYOUTS) < _LAYOUTS_MAX else layout
            return {_ROWS: tuple(chain.from_iterable(groups)), _LAYOUT: layout}
        return transform

    def _on_error(self, resource: str) -> OnError:
        def on_error(verb: str, exc: Exception) -> None:
            with self._lock:
                self._api_errors[(resource, verb)] = self._api_errors.get((resource, verb), 0) + 1
        return on_error

    # ---- collect --------------------------------------------------------------

    def collect(self) -> list[Family]:
        out: list[Family] = []
        for kind in self._kinds:
            # list() copies a store in one C call, which the event loop's thread
            # (the informers) cannot interleave with: no lock on the hot path.
            # Within a family, samples come grouped by object layout rather than
            # object by object; order within a family means nothing to Prometheus.
            by_layout: dict[tuple[int, ...], list[tuple[Any, ...]]] = {}
            for inf in self.informers.get(kind.resource, ()):
                for held in list(inf.store.values()):
                    by_layout.setdefault(held[_LAYOUT], []).append(held[_ROWS])
            per_family: list[list[Any]] = [[] for _ in kind.families]
            for layout, flats in by_layout.items():
                # Transposed, column j holds the j-th sample of every object of this
                # layout; a family's samples are a run of columns. All in C: no new
                # tuple per sample, so a collection costs list appends only.
                columns = list(zip(*flats, strict=True))
                pos = 0
                for i, n in enumerate(layout):
                    if n:
                        per_family[i].extend(chain.from_iterable(columns[pos:pos + n]))
                        pos += n
            for spec, fam_samples in zip(kind.families, per_family, strict=True):
                out.append(Family(spec.name, spec.type, spec.help, samples=fam_samples))
        with self._lock:
            out.extend(self._self_families())
        return out

    def _self_families(self) -> list[Family]:
        synced = Family("kubesight_kube_state_synced", "gauge",
                        "Whether every collection of the resource has been listed from the API server (1) or not yet (0).")
        objects = Family("kubesight_kube_state_objects", "gauge",
                         "Objects of the resource in the watch cache.")
        obj_err = Family("kubesight_kube_state_object_errors_total", "counter",
                         "Objects of the resource that could not be read at all (they contribute no series).")
        api_err = Family("kubesight_kube_state_list_watch_errors_total", "counter",
                         "Failed lists and watches of the resource (each is retried with backoff).")
        for kind in self._kinds:
            r = kind.resource
            infs = self.informers.get(r, [])
            synced.add(float(bool(infs) and all(i.synced.is_set() for i in infs)), [("resource", r)])
            objects.add(float(sum(len(i.store) for i in infs)), [("resource", r)])
            obj_err.add(float(self._object_errors[r]), [("resource", r)])
            for verb in ("list", "watch"):
                api_err.add(float(self._api_errors.get((r, verb), 0)), [("resource", r), ("verb", verb)])
        return [synced, objects, obj_err, api_err]
