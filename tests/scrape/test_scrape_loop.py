"""Scrape loops against a local fake target: labels, report series, staleness, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kubesight.discovery import SendGroups, TargetGroup
from kubesight.model import Matcher, is_stale_nan
from kubesight.scrape.config import GlobalConfig, parse_scrape_config
from kubesight.scrape.http import TargetClient
from kubesight.scrape.loop import ScrapeLoop
from kubesight.scrape.manager import ScrapeManager
from kubesight.scrape.target import populate
from kubesight.store import MemoryStore
from tests.scrape.fake_http import FakeExporter

T0 = 1_700_000_000_000
HERE = Path(".")


@pytest.fixture
def fake() -> Iterator[FakeExporter]:
    with FakeExporter() as f:
        yield f


def make(fake: FakeExporter, cfg_extra: dict[str, object] | None = None) -> tuple[ScrapeLoop, MemoryStore]:
    addr = f"127.0.0.1:{fake.port}"
    raw = {"job_name": "node", "static_configs": [{"targets": [addr]}], **(cfg_extra or {})}
    cfg = parse_scrape_config(raw, GlobalConfig(15_000, 10_000), base_dir=HERE)
    targets, _ = populate(cfg, TargetGroup("0", ({"__address__": addr},), {"env": "prod"}))
    store = MemoryStore()
    return ScrapeLoop(targets[0], cfg, store, TargetClient()), store


def values(store: MemoryStore, name: str) -> dict[tuple[tuple[str, str], ...], list[float]]:
    got = store.select([Matcher.of("__name__", "=", name)], 0, 2 * T0)
    return {got.labels[i]: got.samples(i)[1].tolist() for i in range(len(got))}


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_labels_report_series_and_staleness(fake: FakeExporter) -> None:
    loop, store = make(fake)
    inst = ("instance", f"127.0.0.1:{fake.port}")
    fake.body = b'# TYPE a counter\na_total{x="1"} 1\na_total{x="2"} 2\n# HELP g A gauge.\ng 5\n'
    run(loop.scrape_once(T0))
    fake.body = b'a_total{x="1"} 3\n'  # x="2" and g disappear
    run(loop.scrape_once(T0 + 15_000))
    a = values(store, "a_total")
    key1 = (("__name__", "a_total"), ("env", "prod"), inst, ("job", "node"), ("x", "1"))
    assert a[key1] == [1.0, 3.0]
    key2 = (*key1[:-1], ("x", "2"))
    assert a[key2][0] == 2.0 and is_stale_nan(np.asarray(a[key2][1:])).all()
    assert values(store, "up") == {(("__name__", "up"), ("env", "prod"), inst, ("job", "node")): [1.0, 1.0]}
    assert list(values(store, "scrape_samples_scraped").values()) == [[3.0, 1.0]]
    assert list(values(store, "scrape_series_added").values()) == [[3.0, 0.0]]
    assert loop.health.metadata["g"].help == "A gauge."
    req = fake.requests[0]
    assert req.headers["x-prometheus-scrape-timeout-seconds"] == "10"
    assert "openmetrics-text" in req.headers["accept"]
    assert req.headers["accept-encoding"] == "gzip" and req.path == "/metrics"


def test_failure_marks_everything_stale_and_up_zero(fake: FakeExporter) -> None:
    loop, store = make(fake)
    fake.body = b"m 1\n"
    run(loop.scrape_once(T0))
    fake.status = 500
    run(loop.scrape_once(T0 + 15_000))
    assert loop.health.health == "down" and "500" in loop.health.last_error
    m = next(iter(values(store, "m").values()))
    assert m[0] == 1.0 and is_stale_nan(np.asarray(m[1:])).all()
    assert list(values(store, "up").values()) == [[1.0, 0.0]]


def test_bad_exposition_fails_with_line_number(fake: FakeExporter) -> None:
    loop, store = make(fake)
    fake.body = b"ok 1\nbad{ 2\n"
    run(loop.scrape_once(T0))
    assert loop.health.health == "down"
    assert "line 2" in loop.health.last_error
    assert values(store, "ok") == {}


def test_honor_labels_and_exported_prefix(fake: FakeExporter) -> None:
    loop, store = make(fake)
    fake.body = b'm{job="inner",instance="x"} 1\n'
    run(loop.scrape_once(T0))
    (lbls,) = values(store, "m")
    d = dict(lbls)
    assert d["job"] == "node" and d["exported_job"] == "inner" and d["exported_instance"] == "x"
    loop2, store2 = make(fake, {"honor_labels": True})
    fake.body = b'm{job="inner"} 1\n'
    run(loop2.scrape_once(T0))
    (lbls2,) = values(store2, "m")
    assert dict(lbls2)["job"] == "inner" and "exported_job" not in dict(lbls2)


def test_metric_relabel_sample_limit_and_gzip(fake: FakeExporter) -> None:
    loop, store = make(fake, {
        "metric_relabel_configs": [{"source_labels": ["__name__"], "regex": "drop_.*", "action": "drop"}],
        "sample_limit": 2,
    })
    fake.gzip = True
    fake.body = b"keep_a 1\ndrop_b 2\nkeep_c 3\n"
    run(loop.scrape_once(T0))
    assert loop.health.health == "up"
    assert set(values(store, "keep_a")) and not values(store, "drop_b")
    assert list(values(store, "scrape_samples_post_metric_relabeling").values()) == [[2.0]]
    fake.body = b"keep_a 1\nkeep_b 2\nkeep_c 3\n"
    run(loop.scrape_once(T0 + 15_000))
    assert loop.health.health == "down" and "sample limit exceeded" in loop.health.last_error


def test_body_size_limit(fake: FakeExporter) -> None:
    loop, _ = make(fake, {"body_size_limit": "1KB"})
    fake.body = b"m 1\n" * 1000
    run(loop.scrape_once(T0))
    assert loop.health.health == "down" and "body size limit" in loop.health.last_error


class StaticOnce:
    def __init__(self, groups: list[TargetGroup]) -> None:
        self.groups = groups

    async def run(self, send: SendGroups) -> None:
        send(self.groups)
        await asyncio.Event().wait()


def test_manager_reconciles_targets_and_marks_removed_stale() -> None:
    async def scenario() -> None:
        store = MemoryStore()
        groups = [TargetGroup("0", ({"__address__": "a:1"}, {"__address__": "b:1"}), {})]
        disc = StaticOnce(groups)
        mgr = ScrapeManager(store, lambda cfg: [("static_configs/0", disc)])
        cfg = parse_scrape_config(
            {"job_name": "j", "scrape_interval": "1h",
             "relabel_configs": [{"source_labels": ["__address__"], "regex": "b:.*", "action": "drop"}]},
            GlobalConfig(), HERE,
        )
        await mgr.apply([cfg])
        await asyncio.sleep(0.1)
        pool = mgr.pools["j"]
        assert [lp.target.url for lp in pool.loops.values()] == ["http://a:1/metrics"]
        assert [dict(d.discovered)["__address__"] for d in pool.dropped] == ["b:1"]
        await mgr.apply([])
        assert mgr.pools == {}

    run(scenario())


def test_config_errors_name_job_and_field() -> None:
    from kubesight.errors import ConfigError

    with pytest.raises(ConfigError, match=r"job .x.: scrape_timeout .* greater than scrape_interval"):
        parse_scrape_config({"job_name": "x", "scrape_interval": "5s", "scrape_timeout": "10s"}, GlobalConfig(), HERE)
    with pytest.raises(ConfigError, match="job 'x': unknown field"):
        parse_scrape_config({"job_name": "x", "scrape_intervall": "5s"}, GlobalConfig(), HERE)
    with pytest.raises(ConfigError, match=r"job 'x': relabel_configs\[0\]"):
        parse_scrape_config({"job_name": "x", "relabel_configs": [{"action": "replace"}]}, GlobalConfig(), HERE)


def test_target_that_never_answers_times_out_and_others_go_on() -> None:
    with FakeExporter(delay=3.0) as slow_fake, FakeExporter(body=b"m 1\n") as fast_fake:

        async def scenario() -> None:
            raw = {"job_name": "slow", "scrape_interval": "2s", "scrape_timeout": "200ms"}
            cfg = parse_scrape_config(raw, GlobalConfig(), HERE)
            (slow,), _ = populate(cfg, TargetGroup("0", ({"__address__": f"127.0.0.1:{slow_fake.port}"},)))
            (fast,), _ = populate(cfg, TargetGroup("1", ({"__address__": f"127.0.0.1:{fast_fake.port}"},)))
            store = MemoryStore()
            loops = [ScrapeLoop(t, cfg, store, TargetClient()) for t in (slow, fast)]
            t0 = asyncio.get_running_loop().time()
            await asyncio.gather(*(lp.scrape_once(T0) for lp in loops))
            assert asyncio.get_running_loop().time() - t0 < 2
            assert loops[0].health.health == "down"
            assert loops[0].health.last_error == f'Get "{slow.url}": context deadline exceeded'
            assert loops[1].health.health == "up"

        run(scenario())


def test_duplicate_series_in_one_scrape_keep_the_first(fake: FakeExporter) -> None:
    loop, store = make(fake)
    fake.body = b'm{a="1"} 1\nm{a="1"} 2\n'
    run(loop.scrape_once(T0))
    assert list(values(store, "m").values()) == [[1.0]]
    assert list(values(store, "scrape_samples_post_metric_relabeling").values()) == [[1.0]]


def test_unexpected_error_marks_down_and_the_loop_survives(fake: FakeExporter) -> None:
    loop, store = make(fake)

    def boom(*args: object) -> object:
        raise RuntimeError("a bug")

    loop._prepare = boom  # type: ignore[method-assign,assignment]
    fake.body = b"m 1\n"
    run(loop.scrape_once(T0))
    assert loop.health.health == "down" and "internal error: a bug" in loop.health.last_error
    assert list(values(store, "up").values()) == [[0.0]]


def _scrape_all(loop: ScrapeLoop, fake: FakeExporter, bodies: list[bytes | int]) -> None:
    """Scrape once per entry, 15 s apart: bytes are served with 200, an int is an error status."""

    async def go() -> None:
        for i, b in enumerate(bodies):
            if isinstance(b, int):
                fake.status = b
            else:
                fake.status, fake.body = 200, b
            await loop.scrape_once(T0 + 15_000 * i)

    run(go())


def test_repeat_bodies_of_the_same_shape_store_every_value(fake: FakeExporter) -> None:
    loop, store = make(fake)
    body = "# HELP a_total A.\n# TYPE a_total counter\na_total{{x=\"1\"}} {0}\na_total{{x=\"2\"}} {1}\n"
    _scrape_all(loop, fake, [body.format(i, 10 * i).encode() for i in range(4)])
    got = values(store, "a_total")
    assert sorted(got.values()) == [[0.0, 1.0, 2.0, 3.0], [0.0, 10.0, 20.0, 30.0]]
    assert list(values(store, "scrape_series_added").values()) == [[2.0, 0.0, 0.0, 0.0]]
    assert list(values(store, "scrape_samples_scraped").values()) == [[2.0] * 4]
    assert loop._plan is not None  # the fast path was taken after the first scrape


def test_a_failure_between_same_shaped_bodies_restarts_series_cleanly(fake: FakeExporter) -> None:
    loop, store = make(fake)
    _scrape_all(loop, fake, [b"m 1\n", b"m 2\n", 500, b"m 3\n", b"m 4\n"])
    (m,) = values(store, "m").values()
    assert m[:2] == [1.0, 2.0] and is_stale_nan(np.asarray([m[2]])).all() and m[3:] == [3.0, 4.0]
    # After a failed scrape every series was marked stale, so it counts as added again.
    assert list(values(store, "scrape_series_added").values()) == [[1.0, 0.0, 0.0, 1.0, 0.0]]
    assert list(values(store, "up").values()) == [[1.0, 1.0, 0.0, 1.0, 1.0]]


def test_a_changed_shape_marks_the_vanished_series_stale(fake: FakeExporter) -> None:
    loop, store = make(fake)
    _scrape_all(loop, fake, [b"a 1\nb 1\n", b"a 2\nb 2\n", b"a 3\n", b"a 4\n", b"a 5\nb 5\n"])
    b = next(iter(values(store, "b").values()))
    assert b[:2] == [1.0, 2.0] and is_stale_nan(np.asarray([b[2]])).all() and b[3:] == [5.0]
    assert list(values(store, "scrape_series_added").values()) == [[2.0, 0.0, 0.0, 0.0, 1.0]]


def test_samples_with_their_own_timestamps_keep_them(fake: FakeExporter) -> None:
    loop, store = make(fake)
    _scrape_all(loop, fake, [f"m 1 {T0 - 5000}\n".encode(), f"m 2 {T0 + 1000}\n".encode()])
    got = store.select([Matcher.of("__name__", "=", "m")], 0, 2 * T0)
    assert got.samples(0)[0].tolist() == [T0 - 5000, T0 + 1000]


def test_a_target_exposing_up_does_not_overwrite_the_report(fake: FakeExporter) -> None:
    loop, store = make(fake)
    _scrape_all(loop, fake, [b"up 0\nother 1\n", b"up 0\nother 2\n"])
    assert list(values(store, "up").values()) == [[1.0, 1.0]]
    assert list(values(store, "other").values()) == [[1.0, 2.0]]


def test_the_fast_path_never_drops_a_samples_own_timestamp(fake: FakeExporter) -> None:
    loop, store = make(fake)
    _scrape_all(loop, fake, [b"m 1\n", b"m 2\n"])
    assert loop._plan is not None and loop._plan.keep_idx is None
    # Same shape, but the parse stamps the sample otherwise (as a target's own timestamp would).
    shape = loop._shape
    import kubesight.scrape.loop as loop_mod

    orig_parse = loop_mod.parse

    def parse_with_stamp(*a: object, **kw: object) -> object:
        out = orig_parse(*a, **kw)  # type: ignore[arg-type]
        out.batch.timestamps[:] = T0 + 30_000 - 5_000
        assert out.shape is shape
        return out

    loop_mod.parse = parse_with_stamp  # type: ignore[assignment]
    try:
        _scrape_all(loop, fake, [b"m 3\n"])  # one more scrape, at T0
    finally:
        loop_mod.parse = orig_parse  # type: ignore[assignment]
    got = store.select([Matcher.of("__name__", "=", "m")], 0, 2 * T0)
    assert T0 + 25_000 in got.samples(0)[0].tolist()
