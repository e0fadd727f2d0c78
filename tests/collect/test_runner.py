"""The collector runner: labels, report series, staleness, failures, duplicates."""

from __future__ import annotations

import asyncio

import numpy as np

from kubesight.collect.family import Family
from kubesight.collect.runner import CollectorRunner
from kubesight.model import Matcher, is_stale_nan
from kubesight.store import MemoryStore

T0 = 1_700_000_000_000


class Scripted:
    name = "node"

    def __init__(self) -> None:
        self.rounds: list[list[Family] | Exception] = []

    def collect(self) -> list[Family]:
        nxt = self.rounds.pop(0)
        if isinstance(nxt, Exception):
            raise nxt
        return nxt


def fams(**values: float) -> list[Family]:
    f = Family("node_thing", "gauge", "A thing.")
    for k, v in values.items():
        f.add(v, [("kind", k)])
    return [f]


def series(store: MemoryStore, name: str) -> dict[tuple[tuple[str, str], ...], list[float]]:
    got = store.select([Matcher.of("__name__", "=", name)], 0, 2 * T0)
    return {got.labels[i]: got.samples(i)[1].tolist() for i in range(len(got))}


def test_collections_are_labelled_reported_and_vanished_series_marked_stale() -> None:
    col, store = Scripted(), MemoryStore()
    r = CollectorRunner(col, store, "node", "host-1", 15)
    col.rounds = [fams(a=1, b=2), fams(a=3, b=4), fams(a=5), RuntimeError("boom"), fams(a=7)]
    for i in range(5):
        r.collect_once(T0 + 15_000 * i)
    got = series(store, "node_thing")
    key_a = (("__name__", "node_thing"), ("instance", "host-1"), ("job", "node"), ("kind", "a"))
    a = got[key_a]
    assert a[:3] == [1.0, 3.0, 5.0] and is_stale_nan(np.asarray([a[3]])).all() and a[4] == 7.0
    b = got[(*key_a[:3], ("kind", "b"))]
    assert b[:2] == [2.0, 4.0] and is_stale_nan(np.asarray(b[2:])).all()
    assert list(series(store, "up").values()) == [[1.0, 1.0, 1.0, 0.0, 1.0]]
    assert list(series(store, "scrape_samples_scraped").values()) == [[2.0, 2.0, 1.0, 0.0, 1.0]]
    assert r.health.health == "up"
    assert store.metadata("node_thing")["node_thing"][0].help == "A thing."


def test_a_failed_collection_says_why() -> None:
    col, store = Scripted(), MemoryStore()
    r = CollectorRunner(col, store, "node", "h", 15)
    col.rounds = [RuntimeError("disk on fire")]
    r.collect_once(T0)
    assert r.health.health == "down" and r.health.last_error == "internal error: disk on fire"


def test_clashing_target_labels_become_exported_and_duplicates_keep_the_first() -> None:
    col, store = Scripted(), MemoryStore()
    r = CollectorRunner(col, store, "kube-state-metrics", "ksm", 15)
    f = Family("kube_thing", "gauge", "")
    f.add(1, [("job", "batch-7")])
    f.add(2, [("job", "batch-7")])
    col.rounds = [[f]]
    r.collect_once(T0)
    (lbls, vals), = series(store, "kube_thing").items()
    assert dict(lbls)["exported_job"] == "batch-7" and dict(lbls)["job"] == "kube-state-metrics"
    assert vals == [1.0]


def test_the_loop_runs_on_its_interval_and_stops() -> None:
    async def scenario() -> None:
        col, store = Scripted(), MemoryStore()
        col.rounds = [fams(a=float(i)) for i in range(100)]
        r = CollectorRunner(col, store, "node", "h", 0.05)
        r.start()
        for _ in range(400):  # until three collections happened (10 s at most)
            await asyncio.sleep(0.025)
            if len(next(iter(series(store, "up").values()), [])) >= 3:
                break
        await r.stop()
        n = len(next(iter(series(store, "up").values())))
        assert n >= 3
        await asyncio.sleep(0.2)
        assert len(next(iter(series(store, "up").values()))) == n  # stopped means stopped

    asyncio.run(scenario())
