"""The real server process over HTTP: health, remote write, read APIs, bad input, crashes."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import cramjam
import httpx
import numpy as np
import pytest

from kubesight.model import Matcher, SampleBatch, stale_nan
from kubesight.wire.remote_read import ReadQuery, decode_read_response, encode_read_request
from kubesight.wire.remote_write import encode_write_v1, encode_write_v2
from tests.conftest import Server, start_server

V1 = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
      "X-Prometheus-Remote-Write-Version": "0.1.0"}
V2 = {"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
      "Content-Encoding": "snappy", "X-Prometheus-Remote-Write-Version": "2.0.0"}


def now_ms() -> int:
    return int(time.time() * 1000)


def batch(n_series: int, t: int, name: str = "m", value: float = 1.0) -> SampleBatch:
    return SampleBatch.from_series(
        [((("__name__", name), ("i", str(i)), ("job", "t")), [(t, value + i)]) for i in range(n_series)]
    )


def write(url: str, b: SampleBatch, v2: bool = False) -> httpx.Response:
    body = (encode_write_v2 if v2 else encode_write_v1)(b)
    return httpx.post(f"{url}/api/v1/write", content=bytes(cramjam.snappy.compress_raw(body)),
                      headers=V2 if v2 else V1, timeout=30)


def read(url: str, matchers: list[Matcher], start: int, end: int) -> list[tuple[dict[str, str], list[tuple[int, float]]]]:
    req = encode_read_request([ReadQuery(start, end, matchers)])
    r = httpx.post(f"{url}/api/v1/read", content=bytes(cramjam.snappy.compress_raw(req)),
                   headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
                            "X-Prometheus-Remote-Read-Version": "0.1.0"}, timeout=30)
    assert r.status_code == 200, r.text
    (res,) = decode_read_response(bytes(cramjam.snappy.decompress_raw(r.content)))
    return [(dict(res.labels[i]), list(zip(*[a.tolist() for a in res.samples(i)], strict=True)))
            for i in range(len(res))]


def test_health_ready_metrics(server: Server) -> None:
    assert httpx.get(f"{server.url}/-/healthy").status_code == 200
    assert httpx.get(f"{server.url}/-/ready").text.strip() == "kubesight is Ready."
    m = httpx.get(f"{server.url}/metrics")
    assert m.status_code == 200
    for name in ("kubesight_tsdb_head_series", "kubesight_tsdb_wal_bytes",
                 "kubesight_http_request_duration_seconds_bucket", "process_resident_memory_bytes"):
        assert name in m.text


def test_connect_page(server: Server) -> None:
    write(server.url, batch(4, now_ms(), "landing"))
    page = httpx.get(f"{server.url}/setup")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Connect</h1>" in page.text and f"{server.url}/api/v1/write" in page.text
    # kubesight's own self-scrape may add series; ours are at least there.
    shown = re.search(r'<div class="ks-num">([\d,]+)</div><div class="ks-lbl">series</div>', page.text)
    assert shown and int(shown.group(1).replace(",", "")) >= 4


def test_remote_write_v1_and_v2_then_read_back(server: Server) -> None:
    t = now_ms()
    assert write(server.url, batch(3, t, "v1m")).status_code == 204
    r = write(server.url, batch(2, t, "v2m"), v2=True)
    assert r.status_code == 204, r.text
    assert r.headers["X-Prometheus-Remote-Write-Samples-Written"] == "2"
    assert r.headers["X-Prometheus-Remote-Write-Histograms-Written"] == "0"
    got = read(server.url, [Matcher.of("__name__", "=~", "v.m")], t - 1000, t + 1000)
    assert [(lb["__name__"], lb["i"], s) for lb, s in got] == [
        ("v1m", "0", [(t, 1.0)]), ("v1m", "1", [(t, 2.0)]), ("v1m", "2", [(t, 3.0)]),
        ("v2m", "0", [(t, 1.0)]), ("v2m", "1", [(t, 2.0)]),
    ]
    s = httpx.get(f"{server.url}/api/v1/series", params={"match[]": 'v1m{i=~"0|2"}'}).json()
    assert s == {"status": "success", "data": [
        {"__name__": "v1m", "i": "0", "job": "t"}, {"__name__": "v1m", "i": "2", "job": "t"}]}
    # Scoped to this test's job: the server also monitors itself (job kubesight).
    ours = {"match[]": '{job="t"}'}
    assert httpx.get(f"{server.url}/api/v1/labels", params=ours).json()["data"] == ["__name__", "i", "job"]
    vals = httpx.get(f"{server.url}/api/v1/label/__name__/values", params=ours).json()
    assert vals == {"status": "success", "data": ["v1m", "v2m"]}
    lim = httpx.get(f"{server.url}/api/v1/label/i/values", params={"limit": "2"}).json()
    assert lim["data"] == ["0", "1"] and lim["warnings"] == ["results truncated due to limit"]
    post = httpx.post(f"{server.url}/api/v1/series", data={"match[]": "v2m"}).json()
    assert len(post["data"]) == 2


QUIET = ("--no-collectors.host", "--no-collectors.containers", "--no-rules.defaults")
"""Flags for a server that writes nothing of its own but its self-scrape (exact counts)."""


@pytest.fixture
def quiet_server(tmp_path: Path) -> Iterator[Server]:
    s = start_server(tmp_path / "data", *QUIET)
    try:
        yield s
    finally:
        s.stop()


def test_status_endpoints(quiet_server: Server) -> None:
    server = quiet_server
    write(server.url, batch(5, now_ms(), "card"))
    tsdb = httpx.get(f"{server.url}/api/v1/status/tsdb").json()["data"]
    assert tsdb["headStats"]["numSeries"] >= 5  # plus kubesight's own, once self-scraped
    assert {"name": "card", "value": 5} in tsdb["seriesCountByMetricName"]
    assert {"name": "job=t", "value": 5} in tsdb["seriesCountByLabelValuePair"]
    bi = httpx.get(f"{server.url}/api/v1/status/buildinfo").json()["data"]
    assert bi["application"] == "kubesight" and bi["version"].startswith("3.")
    assert "storageRetention" in httpx.get(f"{server.url}/api/v1/status/runtimeinfo").json()["data"]
    assert "data-dir" in httpx.get(f"{server.url}/api/v1/status/flags").json()["data"]
    assert "storage:" in httpx.get(f"{server.url}/api/v1/status/config").json()["data"]["yaml"]


def test_bad_input_answers_4xx_and_keeps_data(server: Server) -> None:
    t = now_ms()
    assert write(server.url, batch(2, t, "keep")).status_code == 204
    url = f"{server.url}/api/v1/write"
    good = bytes(cramjam.snappy.compress_raw(encode_write_v1(batch(2, t, "x"))))
    cases = {
        "garbage": (b"\x00garbage\xff" * 10, V1, 400),
        "truncated": (good[: len(good) // 2], V1, 400),
        "not snappy": (encode_write_v1(batch(1, t)), V1, 400),
        "wrong content type": (good, {**V1, "Content-Type": "application/json"}, 415),
        "wrong encoding": (good, {**V1, "Content-Encoding": "br"}, 415),
        "v2 body declared as v1": (bytes(cramjam.snappy.compress_raw(encode_write_v2(batch(2, t)))), V1, 400),
        "too large": (b"\x00" * (33 << 20), V1, 413),
        "bomb": (b"\xff\xff\xff\xff\x0f" + b"\x00" * 10, V1, 413),
    }
    for name, (body, headers, status) in cases.items():
        r = httpx.post(url, content=body, headers=headers, timeout=60)
        assert r.status_code == status, (name, r.status_code, r.text)
        assert r.text.strip(), name
    invalid = SampleBatch.from_series([
        ((("__name__", "ok2"),), [(t, 1.0)]),
        ((("job", "x"),), [(t, 1.0)]),  # no __name__
        ((("__name__", "e"), ("a", "")), [(t, 1.0)]),  # empty value
        ((("__name__", "f"),), [(t + 86_400_000, 1.0)]),  # a day ahead
    ])
    r = write(server.url, invalid)
    assert r.status_code == 400
    assert "missing metric name" in r.text and "empty value" in r.text and "in the future" in r.text
    special = SampleBatch.from_series([((("__name__", "special"),), [
        (t - 3000, float("nan")), (t - 2000, float("inf")), (t - 1000, stale_nan())])])
    assert write(server.url, special).status_code == 204
    got = read(server.url, [Matcher.of("__name__", "=~", "keep|ok2|special")], t - 10_000, t + 1000)
    assert [lb["__name__"] for lb, _ in got] == ["keep", "keep", "ok2", "special"]
    vals = np.asarray([v for _, v in got[3][1]])
    assert vals.view(np.uint64)[2] == 0x7FF0000000000002 and np.isinf(vals[1]) and np.isnan(vals[0])
    assert httpx.get(f"{server.url}/-/healthy").status_code == 200


def test_kill9_loses_no_acknowledged_sample(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = start_server(data)
    t0 = now_ms() - 600_000
    acked = 0
    try:
        for step in range(40):
            assert write(srv.url, batch(250, t0 + step * 15_000, "crash", step)).status_code == 204
            acked += 250
            if step == 20:
                assert httpx.post(f"{srv.url}/-/flush", timeout=60).status_code == 200
    finally:
        srv.kill9()
    srv2 = start_server(data)
    try:
        got = read(srv2.url, [Matcher.of("__name__", "=", "crash")], t0 - 1, t0 + 40 * 15_000)
        assert sum(len(s) for _, s in got) == acked
        by_i = {lb["i"]: pts for lb, pts in got}
        assert by_i["7"][:2] == [(t0, 7.0), (t0 + 15_000, 8.0)]
        # A clean stop flushes: the WAL holds no samples afterwards (only the
        # metadata it is seeded with), blocks everything.
        # (uvicorn re-raises SIGTERM after its graceful shutdown: -15 is clean.)
        assert srv2.stop() in (0, -15)
        assert "flushing the head to disk" in srv2.log.read_text()
    finally:
        srv2.stop()
    srv3 = start_server(data)
    try:
        assert re.search(r"store open: \d+ blocks, \d+ series, replayed 0 WAL samples", srv3.log.read_text())
        got = read(srv3.url, [Matcher.of("__name__", "=", "crash")], t0 - 1, t0 + 40 * 15_000)
        assert sum(len(s) for _, s in got) == acked
    finally:
        srv3.stop()


def test_flush_endpoint_writes_blocks(quiet_server: Server) -> None:
    server = quiet_server
    write(server.url, batch(100, now_ms(), "fl"))
    r = httpx.post(f"{server.url}/-/flush", timeout=60).json()
    assert r["flushedSamples"] == 100 and r["blocks"] >= 1
    assert any((server.data_dir / "blocks").iterdir())


def test_reload_applies_good_config_and_keeps_old_on_bad(tmp_path: Path) -> None:
    from tests.conftest import free_port

    port = free_port()
    cfg = tmp_path / "k.yml"
    job = "  - job_name: {name}\n    scrape_interval: 1s\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    cfg.write_text("scrape_configs:\n" + job.format(name="a", port=port))
    srv = start_server(tmp_path / "data", "--config", str(cfg), port=port)
    try:
        collectors = {"node", "cadvisor"}  # the built-in collectors are listed as pools too
        pools = lambda: [p for p in httpx.get(f"{srv.url}/api/v1/scrape_pools").json()["data"]["scrapePools"]  # noqa: E731
                         if p not in collectors]
        assert pools() == ["a"]
        cfg.write_text("scrape_configs:\n" + job.format(name="a", port=port) + job.format(name="b", port=port))
        assert httpx.post(f"{srv.url}/-/reload").status_code == 200
        assert pools() == ["a", "b"]
        cfg.write_text("scrape_configs:\n  - job_name: c\n    scrape_interval: nope\n")
        r = httpx.post(f"{srv.url}/-/reload")
        assert r.status_code == 500 and "job 'c': scrape_interval" in r.text
        assert pools() == ["a", "b"]
        info = httpx.get(f"{srv.url}/api/v1/status/runtimeinfo").json()["data"]
        assert info["reloadConfigSuccess"] is False
        time.sleep(2.5)
        t = httpx.get(f"{srv.url}/api/v1/targets").json()["data"]["activeTargets"]
        assert {x["scrapePool"]: x["health"] for x in t if x["scrapePool"] not in collectors} == \
            {"a": "up", "b": "up"}
    finally:
        srv.stop()


def test_self_monitoring_by_default(server: Server) -> None:
    t = httpx.get(f"{server.url}/api/v1/targets").json()["data"]["activeTargets"]
    scraped = [x for x in t if not x["scrapeUrl"].endswith(f"/collectors/{x['scrapePool']}/metrics")]
    assert [(x["scrapePool"], x["labels"]["instance"]) for x in scraped] == \
        [("kubesight", server.url.removeprefix("http://"))]


def test_pushgateway_push_query_restart_delete(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = start_server(data)
    try:
        body = b"# TYPE backup_last_success_seconds gauge\nbackup_last_success_seconds 1.7e9\n"
        r = httpx.put(f"{srv.url}/metrics/job/backup/instance/db1", content=body)
        assert r.status_code == 200, r.text
        q = httpx.get(f"{srv.url}/api/v1/query", params={"query": "backup_last_success_seconds"}).json()
        (s,) = q["data"]["result"]
        assert s["metric"] == {"__name__": "backup_last_success_seconds", "job": "backup", "instance": "db1"}
        assert float(s["value"][1]) == 1.7e9
        bad = httpx.put(f"{srv.url}/metrics/job/backup", content=b"bad{ 1\n")
        assert bad.status_code == 400 and "line 1" in bad.text
    finally:
        srv.stop()
    srv2 = start_server(data)
    try:
        groups = httpx.get(f"{srv2.url}/api/v1/metrics").json()["data"]
        assert any(g["labels"] == {"job": "backup", "instance": "db1"} for g in groups)
        assert httpx.delete(f"{srv2.url}/metrics/job/backup/instance/db1").status_code == 202
        q = httpx.get(f"{srv2.url}/api/v1/query", params={"query": "backup_last_success_seconds"}).json()
        assert q["data"]["result"] == []  # a stale marker ends the series at once
    finally:
        srv2.stop()


def _query(url: str, q: str) -> list[dict[str, object]]:
    r = httpx.get(f"{url}/api/v1/query", params={"query": q}, timeout=30)
    assert r.status_code == 200, r.text
    result: list[dict[str, object]] = r.json()["data"]["result"]
    return result


def test_host_collector_runs_by_default_and_serves_its_metrics(server: Server) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _query(server.url, 'up{job="node"}'):
        time.sleep(0.2)
    (up,) = _query(server.url, 'up{job="node"}')
    assert up["value"][1] == "1"  # type: ignore[index]
    cpus = _query(server.url, 'count(count by (cpu) (node_cpu_seconds_total{job="node",mode="idle"}))')
    assert int(cpus[0]["value"][1]) >= 1  # type: ignore[index]
    assert _query(server.url, 'node_memory_MemTotal_bytes{job="node"}')
    text = httpx.get(f"{server.url}/collectors/node/metrics", timeout=30)
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE node_cpu_seconds_total counter" in text.text
    missing = httpx.get(f"{server.url}/collectors/nope/metrics", timeout=30)
    assert missing.status_code == 404 and "running: " in missing.text


def test_collectors_can_be_switched_off(tmp_path: Path) -> None:
    cfg = tmp_path / "k.yml"
    cfg.write_text("collectors:\n  host:\n    enabled: false\n")
    s = start_server(tmp_path / "data", "--config", str(cfg))
    try:
        assert httpx.get(f"{s.url}/collectors/node/metrics", timeout=30).status_code == 404
    finally:
        s.stop()


def test_a_bad_collector_option_is_refused_at_start(tmp_path: Path) -> None:
    cfg = tmp_path / "k.yml"
    cfg.write_text("collectors:\n  host:\n    rootfss: /host\n")
    try:
        started = start_server(tmp_path / "data", "--config", str(cfg))
    except RuntimeError as exc:
        assert "collectors.host: unknown option(s) rootfss" in str(exc)
    else:
        started.stop()  # never leave a server running behind a failed test
        raise AssertionError("the server started with a misspelt option")
