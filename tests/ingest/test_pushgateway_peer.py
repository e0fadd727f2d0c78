"""Differential test: the same pushes to Debian's prometheus-pushgateway and to kubesight.

After every request both must answer the same status class, and what
Prometheus would store from a ``honor_labels: true`` scrape of the real
Pushgateway's ``/metrics`` (its pushed families, parsed by kubesight's own
text parser, which drops empty labels as Prometheus does) must equal what
kubesight's exporter appended: the same series, values and types. Push times
come from two clocks, so for them only "zero or not" is compared.
"""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from kubesight.model import Labels
from kubesight.wire.exposition import Format, parse
from tests.conftest import free_port, require_peer
from tests.ingest.test_pushgateway import COMPLEX, PB, Env, pb_family

# The real Pushgateway's own metrics; everything else on its /metrics was pushed.
_OWN_PREFIXES = ("go_", "process_", "pushgateway_", "promhttp_")
_TIMES = ("push_time_seconds", "push_failure_time_seconds")


@dataclass
class Peer:
    url: str
    proc: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def pushgateway() -> Iterator[Peer]:
    binary = require_peer("prometheus-pushgateway", "prometheus-pushgateway")
    port = free_port()
    proc = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file=", "--log.level=error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"prometheus-pushgateway did not start on {url} (exit {proc.poll()})")
            time.sleep(0.05)
        yield Peer(url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _theirs(peer: Peer) -> tuple[dict[Labels, float], dict[str, str]]:
    body = httpx.get(peer.url + "/metrics", timeout=10).content
    parsed = parse(body, Format.TEXT_004, default_timestamp_ms=0)
    series = {
        lbls: v
        for lbls, v in zip(parsed.batch.series, parsed.batch.values.tolist(), strict=True)
        if not dict(lbls)["__name__"].startswith(_OWN_PREFIXES)
    }
    types = {md.metric_family: md.type for md in parsed.metadata if not md.metric_family.startswith(_OWN_PREFIXES)}
    return series, types


def _comparable(series: dict[Labels, float]) -> dict[Labels, object]:
    # NaN compared as a word: NaN != NaN.
    return {k: (v != 0 if dict(k)["__name__"] in _TIMES else "NaN" if math.isnan(v) else v) for k, v in series.items()}


def _api(doc: dict[str, Any]) -> list[str]:
    """/api/v1/metrics without what two servers cannot share: times, order."""
    assert doc["status"] == "success"
    groups = []
    for g in doc["data"]:
        g = dict(g)
        for name, fam in list(g.items()):
            if not isinstance(fam, dict) or name == "labels":
                continue
            fam = {k: v for k, v in fam.items() if k != "time_stamp"}
            metrics = fam["metrics"]
            if name in _TIMES:
                metrics = [{**m, "value": m["value"] != "0"} for m in metrics]
            fam["metrics"] = sorted(json.dumps(m, sort_keys=True) for m in metrics)
            g[name] = fam
        groups.append(json.dumps(g, sort_keys=True))
    return sorted(groups)


GZ = {"Content-Encoding": "gzip"}
# (method, path, body, headers): each step of one shared history.
SCENARIO: list[tuple[str, str, bytes, dict[str, str]]] = [
    ("PUT", "/metrics/job/some_job", b"some_metric 3.14\n", {}),
    ("PUT", "/metrics/job/some_job/instance/some_instance", COMPLEX, {}),
    ("POST", "/metrics/job/some_job/instance/some_instance", b'# TYPE some_metric counter\nsome_metric{label="val2"} 1\n', {}),
    ("PUT", "/metrics/job/j/instance/i", b'a{job="other",instance="x",y="1"} 1\n', {}),
    ("PUT", "/metrics/job/directory_cleaner/path@base64/L3Zhci90bXA", b'some_metric{foo="bar"} 3.14\n', {}),
    ("PUT", "/metrics/job/example/first_label@base64/=/second_label/foobar", b'm{first_label="x"} 1\n', {}),
    ("PUT", "/metrics/job/titan/name/%CE%A0%CF%81%CE%BF%CE%BC%CE%B7%CE%B8%CE%B5%CF%8D%CF%82", b"t 1\n", {}),
    ("PUT", "/metrics/job@base64/L3Zhci90bXA", b"u 1\n", {}),
    ("POST", "/metrics/job/j/instance/i", b"a 2 1700000000000\n", {}),
    ("PUT", "/metrics/job/other", b"# TYPE some_metric gauge\nsome_metric 1\n", {}),
    ("PUT", "/metrics/job/dup", b"d 1\nd 2\n", {}),
    ("PUT", "/metrics/job/reserved", b'r{__x="1"} 1\n', {}),
    ("PUT", "/metrics/job/summary", b"# TYPE s summary\ns_count 1\n", {}),
    ("PUT", "/metrics/job/collide", b"# TYPE s_sum gauge\ns_sum 1\n", {}),
    ("PUT", "/metrics/job/garbage", b"not { a metric\n", {}),
    ("PUT", "/metrics/job/garbage", b"a 1\nb 2", {}),
    ("PUT", "/metrics/job/garbage", b"a 1\r\n", {}),
    ("PUT", "/metrics/job/garbage", b"# TYPE a gauge\nb 1\n# TYPE a gauge\n", {}),
    ("PUT", "/metrics/job/garbage", b'a{x="\\q"} 1\n', {}),
    ("PUT", "/metrics/job/lenient", b'a{} 1\nb{x="1",} 2\n\n\nc 1e3\nd NaN\ne -Inf\n', {}),
    ("PUT", "/metrics/job/hist", b'# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 3\nh_sum 4\nh_count 3\n'
                                  b'# TYPE hs histogram\nhs_bucket{le="0.5"} 1\nhs_count 2\n'
                                  b'# TYPE q summary\nq{quantile="0.9"} 7\n', {}),
    ("PUT", "/metrics/job/gz", gzip.compress(b"# TYPE g gauge\ng 5\n"), GZ),
    ("PUT", "/metrics/job/help1", b"# HELP hm one\n# TYPE hm gauge\nhm 1\n", {}),
    ("PUT", "/metrics/job/help2", b"# HELP hm two\n# TYPE hm gauge\nhm 2\n", {}),
    ("PUT", "/metrics/job/own", b"push_time_seconds 5\nown 1\n", {}),
    ("POST", "/metrics/job/some_job", b"", {}),
    ("PUT", "/metrics/job/j/instance/i", b"", {}),
    ("DELETE", "/metrics/job/some_job", b"", {}),
    ("DELETE", "/metrics/job/nothing/here/x", b"", {}),
    ("PUT", "/metrics/job/j/a@base64/!!", b"x 1\n", {}),
    ("PUT", "/metrics/job/j/a/1/b", b"x 1\n", {}),
    ("PUT", "/metrics/job/j/1abc/x", b"x 1\n", {}),
    ("PUT", "/metrics/job/j/__x/x", b"x 1\n", {}),
    ("PUT", "/metrics/job@base64/=", b"x 1\n", {}),
    ("PUT", "/metrics/job/slash/", b"sl 1\n", {}),
    # Groups whose keys differ only by an empty label would store the same
    # series (kubesight refuses that, see docs/pushgateway.md), so each is
    # deleted before the next.
    ("DELETE", "/metrics/job/slash", b"", {}),
    ("PUT", "/metrics/job/slash/x/", b"sl 2\n", {}),
    ("PUT", "/metrics/job/slash/x/1/y/", b"sl 3\n", {}),
    ("DELETE", "/metrics/job/slash/x/1/y@base64/=", b"", {}),
    ("PUT", "/metrics/job/slash/x/1/", b"sl 4\n", {}),
    ("PUT", "/metrics/job/proto/instance/p", pb_family("pg", 1, [{"labels": {"a": "x", "job": "no"}, "gauge": 1.5}], "G.")
     + pb_family("pc", 0, [{"counter": 7}]) + pb_family("pu", 3, [{"untyped": -1}])
     + pb_family("ps", 2, [{"summary": ([(0.5, 2.0), (0.99, 3.0)], 4, 9.5)}])
     + pb_family("ph", 4, [{"labels": {"p": "q"}, "histogram": ([(0.1, 1), (1, 3)], 5, 2.25)}]), PB),
    ("POST", "/metrics/job/proto/instance/p", pb_family("pc", 0, [{"counter": 8}]), PB),
    ("POST", "/metrics/job/proto/instance/p", pb_family("pu", 3, []), PB),
    ("POST", "/metrics/job/hist", b"# TYPE h histogram\n# HELP q x\n", {}),
    ("POST", "/metrics/job/proto/instance/p", pb_family("pt", 1, [{"gauge": 1, "timestamp_ms": 5}]), PB),
    ("POST", "/metrics/job/proto/instance/p", pb_family("pc", 1, [{"counter": 1}]), PB),
    ("POST", "/metrics/job/proto/instance/p",
     pb_family("pd", 1, [{"labels": {"a": "1", "b": "2"}, "gauge": 1}]).replace(b"\x0a\x01b", b"\x0a\x01a"), PB),
    ("PUT", "/metrics/job/other", b"# TYPE some_metric counter\nsome_metric 9\n", {}),
    ("DELETE", "/metrics/job/other", b"", {}),
]


def test_same_answers_and_same_series_as_the_pushgateway(pushgateway: Peer) -> None:
    env = Env()
    with env.client as ours, httpx.Client(base_url=pushgateway.url, timeout=10) as theirs:
        for step, (method, path, body, headers) in enumerate(SCENARIO):
            env.clock.t += 1
            a = ours.request(method, path, content=body, headers=headers)
            b = theirs.request(method, path, content=body, headers=headers)
            where = f"step {step}: {method} {path} {body[:60]!r}"
            assert a.status_code == b.status_code, f"{where}: ours {a.status_code} {a.text!r}, theirs {b.status_code} {b.text!r}"
            if a.status_code >= 400:
                assert a.text.strip() and b.text.strip(), where
            if "timestamp" in b.text:
                assert a.text.startswith(b.text.strip()), where
            env.exporter.export_all()
            series, types = _theirs(pushgateway)
            assert _comparable(env.latest()) == _comparable(series), where
            for name, t in types.items():
                md = env.store.metadata(name)[name][0]
                assert (md.type, name) == (t, name), where
        assert _api(ours.get("/api/v1/metrics").json()) == _api(theirs.get("/api/v1/metrics").json())
        # The comparisons above were not between two empty sets.
        assert len(series) > 40
        names = {dict(k)["__name__"] for k in series}
        assert {"pg", "pc", "ps", "ph_bucket", "h_bucket", "sl"} <= names
