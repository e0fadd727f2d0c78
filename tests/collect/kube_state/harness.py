"""Shared helpers: a collector on a FakeKube, and exposition text read back family by family."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from kubesight.collect.family import Family, encode
from kubesight.collect.kube_state import KubeStateCollector, KubeStateOptions
from kubesight.discovery._httpconfig import HTTPClientConfig
from kubesight.discovery._kubeclient import KubeAccess
from kubesight.discovery.fake_kube import FakeKube
from kubesight.model.labels import Labels
from kubesight.wire.exposition import parse
from kubesight.wire.exposition.media import Format

from .objects import ANNOTATIONS_ALLOWLIST, CLUSTER, LABELS_ALLOWLIST

EXPECTED = Path(__file__).parent / "expected"

# family -> (TYPE, HELP, {labels without __name__: value})
Parsed = dict[str, tuple[str, str, dict[Labels, float]]]


def read_families(body: bytes) -> Parsed:
    """Exposition text as families; labels with empty values are absent (Prometheus semantics)."""
    p = parse(body, Format.TEXT_004, default_timestamp_ms=0, strict=True)
    out: Parsed = {m.metric_family: (m.type, m.help, {}) for m in p.metadata}
    for i, ref in enumerate(p.batch.series_ref):
        lbls = p.batch.series[int(ref)]
        name = dict(lbls)["__name__"]
        rest = tuple((k, v) for k, v in lbls if k != "__name__")
        samples = out.setdefault(name, ("untyped", "", {}))[2]
        assert rest not in samples, f"duplicate series {name}{dict(rest)}"
        samples[rest] = float(p.batch.values[i])
    return out


def families_dict(fams: list[Family]) -> Parsed:
    """What a collection would serve, read back through the exposition parser."""
    return read_families(encode(fams))


def options(**kw: object) -> KubeStateOptions:
    base: dict[str, object] = {"labels_allowlist": LABELS_ALLOWLIST, "annotations_allowlist": ANNOTATIONS_ALLOWLIST}
    base.update(kw)
    return KubeStateOptions(**base)  # type: ignore[arg-type]


@asynccontextmanager
async def running(kube: FakeKube, opts: KubeStateOptions | None = None,
                  backoff: float = 0.05) -> AsyncIterator[KubeStateCollector]:
    c = KubeStateCollector(KubeAccess(kube.url, HTTPClientConfig()), opts or options(),
                           backoff_start=backoff, backoff_max=backoff * 4)
    await c.start()
    try:
        assert await c.wait_synced(10), "collector never synced"
        yield c
    finally:
        await c.stop()


def load_cluster(kube: FakeKube) -> None:
    for resource, objs in CLUSTER.items():
        for obj in objs:
            kube.add(resource, obj)


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``check()`` holds (watch events arrive asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def samples(c: KubeStateCollector, family: str) -> dict[Labels, float]:
    for f in c.collect():
        if f.name == family:
            return {tuple((k, v) for k, v in lbls if k != "__name__"): v for lbls, v in f.samples}
    raise KeyError(family)
