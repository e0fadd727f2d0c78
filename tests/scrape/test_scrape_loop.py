"""Scrape loops against a local fake target: labels, report series, staleness, failures."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import httpx
import numpy as np
import pytest

from kubesight.discovery import SendGroups, TargetGroup
from kubesight.model import Matcher, is_stale_nan
from kubesight.scrape.config import GlobalConfig, parse_scrape_config
from kubesight.scrape.loop import ScrapeLoop
from kubesight.scrape.manager import ScrapeManager
from kubesight.scrape.target import populate
from kubesight.store import MemoryStore

T0 = 1_700_000_000_000
HERE = Path(".")


class FakeTarget:
    """An httpx mock transport standing in for an exporter."""

    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        self.content_type = "text/plain; version=0.0.4"
        self.requests: list[httpx.Request] = []
        self.gzip = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = gzip.compress(self.body) if self.gzip else self.body
        headers = {"Content-Type": self.content_type}
        if self.gzip:
            headers["Content-Encoding"] = "gzip"
        return httpx.Response(self.status, content=body, headers=headers)


def make(cfg_extra: dict[str, object] | None = None) -> tuple[ScrapeLoop, FakeTarget, MemoryStore]:
    raw = {"job_name": "node", "static_configs": [{"targets": ["host:9100"]}], **(cfg_extra or {})}
    cfg = parse_scrape_config(raw, GlobalConfig(15_000, 10_000), base_dir=HERE)
    targets, _ = populate(cfg, TargetGroup("0", ({"__address__": "host:9100"},), {"env": "prod"}))
    fake = FakeTarget()
    store = MemoryStore()
    client = httpx.AsyncClient(transport=httpx.MockTransport(fake.handler))
    return ScrapeLoop(targets[0], cfg, store, client), fake, store


def values(store: MemoryStore, name: str) -> dict[tuple[tuple[str, str], ...], list[float]]:
    got = store.select([Matcher.of("__name__", "=", name)], 0, 2 * T0)
    return {got.labels[i]: got.samples(i)[1].tolist() for i in range(len(got))}


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_labels_report_series_and_staleness() -> None:
    loop, fake, store = make()
    fake.body = b'# TYPE a counter\na_total{x="1"} 1\na_total{x="2"} 2\n# HELP g A gauge.\ng 5\n'
    run(loop.scrape_once(T0))
    fake.body = b'a_total{x="1"} 3\n'  # x="2" and g disappear
    run(loop.scrape_once(T0 + 15_000))
    a = values(store, "a_total")
    key1 = (("__name__", "a_total"), ("env", "prod"), ("instance", "host:9100"), ("job", "node"), ("x", "1"))
    assert a[key1] == [1.0, 3.0]
    key2 = (*key1[:-1], ("x", "2"))
    assert a[key2][0] == 2.0 and is_stale_nan(np.asarray(a[key2][1:])).all()
    assert values(store, "up") == {(("__name__", "up"), ("env", "prod"), ("instance", "host:9100"), ("job", "node")): [1.0, 1.0]}
    assert list(values(store, "scrape_samples_scraped").values()) == [[3.0, 1.0]]
    assert list(values(store, "scrape_series_added").values()) == [[3.0, 0.0]]
    assert loop.health.metadata["g"].help == "A gauge."
    req = fake.requests[0]
    assert req.headers["X-Prometheus-Scrape-Timeout-Seconds"] == "10"
    assert "openmetrics-text" in req.headers["Accept"]


def test_failure_marks_everything_stale_and_up_zero() -> None:
    loop, fake, store = make()
    fake.body = b"m 1\n"
    run(loop.scrape_once(T0))
    fake.status = 500
    run(loop.scrape_once(T0 + 15_000))
    assert loop.health.health == "down" and "500" in loop.health.last_error
    m = next(iter(values(store, "m").values()))
    assert m[0] == 1.0 and is_stale_nan(np.asarray(m[1:])).all()
    assert list(values(store, "up").values()) == [[1.0, 0.0]]


def test_bad_exposition_fails_with_line_number() -> None:
    loop, fake, store = make()
    fake.body = b"ok 1\nbad{ 2\n"
    run(loop.scrape_once(T0))
    assert loop.health.health == "down"
    assert "line 2" in loop.health.last_error
    assert values(store, "ok") == {}


def test_honor_labels_and_exported_prefix() -> None:
    loop, fake, store = make()
    fake.body = b'm{job="inner",instance="x"} 1\n'
    run(loop.scrape_once(T0))
    (lbls,) = values(store, "m")
    d = dict(lbls)
    assert d["job"] == "node" and d["exported_job"] == "inner" and d["exported_instance"] == "x"
    loop2, fake2, store2 = make({"honor_labels": True})
    fake2.body = b'm{job="inner"} 1\n'
    run(loop2.scrape_once(T0))
    (lbls2,) = values(store2, "m")
    assert dict(lbls2)["job"] == "inner" and "exported_job" not in dict(lbls2)


def test_metric_relabel_sample_limit_and_gzip() -> None:
    loop, fake, store = make({
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


def test_body_size_limit() -> None:
    loop, fake, _ = make({"body_size_limit": "1KB"})
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
    async def scenario() -> None:
        raw = {"job_name": "slow", "scrape_interval": "2s", "scrape_timeout": "200ms"}
        cfg = parse_scrape_config(raw, GlobalConfig(), HERE)
        (slow,), _ = populate(cfg, TargetGroup("0", ({"__address__": "slow:1"},)))
        (fast,), _ = populate(cfg, TargetGroup("1", ({"__address__": "fast:1"},)))

        async def handler(request: httpx.Request) -> httpx.Response:
            if request.url.host == "slow":
                await asyncio.sleep(3600)
            return httpx.Response(200, content=b"m 1\n")

        store = MemoryStore()
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        loops = [ScrapeLoop(t, cfg, store, client) for t in (slow, fast)]
        t0 = asyncio.get_running_loop().time()
        await asyncio.gather(*(lp.scrape_once(T0) for lp in loops))
        assert asyncio.get_running_loop().time() - t0 < 2
        assert loops[0].health.health == "down" and "deadline exceeded" in loops[0].health.last_error
        assert loops[1].health.health == "up"

    run(scenario())


def test_duplicate_series_in_one_scrape_keep_the_first() -> None:
    loop, fake, store = make()
    fake.body = b'm{a="1"} 1\nm{a="1"} 2\n'
    run(loop.scrape_once(T0))
    assert list(values(store, "m").values()) == [[1.0]]
    assert list(values(store, "scrape_samples_post_metric_relabeling").values()) == [[1.0]]


def test_unexpected_error_marks_down_and_the_loop_survives() -> None:
    loop, _fake, store = make()

    def boom(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug")

    loop.client = httpx.AsyncClient(transport=httpx.MockTransport(boom))
    run(loop.scrape_once(T0))
    assert loop.health.health == "down" and "internal error: a bug" in loop.health.last_error
    assert list(values(store, "up").values()) == [[0.0]]
