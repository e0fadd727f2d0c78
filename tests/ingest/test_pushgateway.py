"""The Pushgateway API: semantics from the Pushgateway's README, the exporter, persistence, bad input."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import math
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import cramjam
import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from kubesight.ingest import pushgateway_proto, pushgateway_store
from kubesight.ingest.pushgateway import PathError, PushLimits, parse_grouping_key, routes
from kubesight.ingest.pushgateway_export import PushExporter, run_exporter
from kubesight.ingest.pushgateway_store import PushRegistry
from kubesight.ingest.remote_write import IngestMetrics
from kubesight.model import Labels
from kubesight.model.instrument import Registry
from kubesight.model.samples import is_stale_nan
from kubesight.store import MemoryStore

T0 = 1_700_000_000.0


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Env:
    """A registry on a fake clock, its exporter on a MemoryStore, and an HTTP client."""

    def __init__(self, directory: Path | None = None, limits: PushLimits | None = None) -> None:
        self.clock = Clock()
        self.store = MemoryStore()
        self.registry = PushRegistry(directory, clock=self.clock)
        self.exporter = PushExporter(self.registry, self.store, clock=self.clock)
        self.registry.subscribe(self.exporter.export_group)
        self.client = TestClient(Starlette(routes=routes(self.registry, limits)))

    def latest(self) -> dict[Labels, float]:
        """Every series' newest value that is not a stale marker, as an instant query would see it."""
        data = self.store.select([], 0, 1 << 62)
        out: dict[Labels, float] = {}
        for i, labels in enumerate(data.labels):
            _, vs = data.samples(i)
            if not is_stale_nan(vs[-1:]).any():
                out[labels] = float(vs[-1])
        return out

    def values(self, name: str) -> dict[Labels, float]:
        return {lbl: v for lbl, v in self.latest().items() if dict(lbl)["__name__"] == name}


@pytest.fixture
def env() -> Iterator[Env]:
    e = Env()
    with e.client:
        yield e


def L(name: str, /, **labels: str) -> Labels:  # noqa: N802 - reads like a series literal
    return tuple(sorted({"__name__": name, **labels}.items()))


# ---------------------------------------------------------------------------
# The README's examples, as (requests, expected series with their values)
# ---------------------------------------------------------------------------

COMPLEX = b"""# TYPE some_metric counter
some_metric{label="val1"} 42
# TYPE another_metric gauge
# HELP another_metric Just an example.
another_metric 2398.283
"""

Step = tuple[str, str, bytes]

PB = {"Content-Type": "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"}


def pb_family(name: str, mtype: int, metrics: list[dict[str, Any]], help: str = "") -> bytes:
    """One varint-delimited MetricFamily; each metric is {"labels": {...}, field: value-or-dict}."""
    mf = pushgateway_proto._MetricFamily(name=name, type=mtype, help=help)
    for spec in metrics:
        m = mf.metric.add()
        for k, v in spec.get("labels", {}).items():
            m.label.add(name=k, value=v)
        for field, value in spec.items():
            if field == "labels":
                continue
            if field == "timestamp_ms":
                m.timestamp_ms = value
            elif field == "summary":
                q, count, total = value
                for qq, qv in q:
                    m.summary.quantile.add(quantile=qq, value=qv)
                m.summary.sample_count, m.summary.sample_sum = count, total
            elif field == "histogram":
                buckets, count, total = value
                for ub, c in buckets:
                    m.histogram.bucket.add(upper_bound=ub, cumulative_count=c)
                m.histogram.sample_count, m.histogram.sample_sum = count, total
            elif field == "native":
                m.histogram.sample_count = 1
                m.histogram.positive_span.append(b"\x08\x01")
            else:
                getattr(m, field).value = value
    raw: bytes = mf.SerializeToString()
    n, prefix = len(raw), bytearray()
    while True:
        prefix.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(prefix) + raw


SEMANTICS: list[tuple[str, list[Step], dict[Labels, float]]] = [
    (
        "one sample into {job=some_job}",
        [("PUT", "/metrics/job/some_job", b"some_metric 3.14\n")],
        {L("some_metric", job="some_job"): 3.14},
    ),
    (
        "complex push into {job, instance}",
        [("PUT", "/metrics/job/some_job/instance/some_instance", COMPLEX)],
        {
            L("some_metric", job="some_job", instance="some_instance", label="val1"): 42,
            L("another_metric", job="some_job", instance="some_instance"): 2398.283,
        },
    ),
    (
        "DELETE of {job} leaves {job, instance}",
        [
            ("PUT", "/metrics/job/some_job", b"a 1\n"),
            ("PUT", "/metrics/job/some_job/instance/some_instance", b"b 2\n"),
            ("DELETE", "/metrics/job/some_job", b""),
        ],
        {L("b", job="some_job", instance="some_instance"): 2},
    ),
    (
        "PUT replaces every family of the group",
        [("PUT", "/metrics/job/j", b"a 1\nb 2\n"), ("PUT", "/metrics/job/j", b"a 3\n")],
        {L("a", job="j"): 3},
    ),
    (
        "POST replaces only the families in the body",
        [("PUT", "/metrics/job/j", b"a 1\nb 2\n"), ("POST", "/metrics/job/j", b"a 3\n")],
        {L("a", job="j"): 3, L("b", job="j"): 2},
    ),
    (
        "POST replaces a whole family, not single series",
        [("PUT", "/metrics/job/j", b'a{x="1"} 1\na{x="2"} 2\n'), ("POST", "/metrics/job/j", b'a{x="3"} 3\n')],
        {L("a", job="j", x="3"): 3},
    ),
    (
        "an empty PUT empties the group",
        [("PUT", "/metrics/job/j", b"a 1\n"), ("PUT", "/metrics/job/j", b"")],
        {},
    ),
    (
        "an empty POST changes no metric",
        [("PUT", "/metrics/job/j", b"a 1\n"), ("POST", "/metrics/job/j", b"")],
        {L("a", job="j"): 1},
    ),
    (
        "grouping labels overwrite pushed labels of the same name",
        [("PUT", "/metrics/job/j/instance/i", b'a{job="other",instance="x",y="1"} 1\n')],
        {L("a", job="j", instance="i", y="1"): 1},
    ),
    (
        "a pushed instance label stays when the key has none",
        [("PUT", "/metrics/job/j", b'a{instance="pod-1"} 1\n')],
        {L("a", job="j", instance="pod-1"): 1},
    ),
    (
        "groups with the same metric name and different keys coexist",
        [("PUT", "/metrics/job/j/instance/1", b"a 1\n"), ("PUT", "/metrics/job/j/instance/2", b"a 2\n")],
        {L("a", job="j", instance="1"): 1, L("a", job="j", instance="2"): 2},
    ),
    (
        "a POST of TYPE and HELP lines alone replaces nothing (the text parser drops empty families)",
        [("PUT", "/metrics/job/j", b"a 1\nb 2\n"), ("POST", "/metrics/job/j", b"# TYPE a gauge\n# HELP b x\n")],
        {L("a", job="j"): 1, L("b", job="j"): 2},
    ),
    (
        "deleting a group that does not exist is no error",
        [("DELETE", "/metrics/job/nothing/instance/here", b"")],
        {},
    ),
    (
        "a pushed push_time_seconds is replaced by the group's own",
        [("PUT", "/metrics/job/j", b"push_time_seconds 5\na 1\n")],
        {L("a", job="j"): 1},
    ),
    (
        "summaries and histograms are completed as client_golang exposes them",
        [("PUT", "/metrics/job/j", b'# TYPE s summary\ns{quantile="0.5"} 1\n# TYPE h histogram\n'
                                    b'h_bucket{le="1"} 2\nh_count 3\n')],
        {
            L("s", job="j", quantile="0.5"): 1, L("s_sum", job="j"): 0, L("s_count", job="j"): 0,
            L("h_bucket", job="j", le="1.0"): 2, L("h_bucket", job="j", le="+Inf"): 3,
            L("h_sum", job="j"): 0, L("h_count", job="j"): 3,
        },
    ),
]


@pytest.mark.parametrize(("steps", "expected"), [(s, e) for _, s, e in SEMANTICS], ids=[n for n, _, _ in SEMANTICS])
def test_semantics(env: Env, steps: list[Step], expected: dict[Labels, float]) -> None:
    for method, path, body in steps:
        env.clock.t += 1
        r = env.client.request(method, path, content=body)
        assert r.status_code == (202 if method == "DELETE" else 200), r.text
    got = {k: v for k, v in env.latest().items() if not dict(k)["__name__"].startswith("push_")}
    assert got == expected


def test_push_time_and_failure_time(env: Env) -> None:
    assert env.client.put("/metrics/job/j", content=b"a 1\n").status_code == 200
    assert env.values("push_time_seconds") == {L("push_time_seconds", job="j"): T0}
    assert env.values("push_failure_time_seconds") == {L("push_failure_time_seconds", job="j"): 0}
    env.clock.t = T0 + 10.5
    r = env.client.post("/metrics/job/j", content=b"a 1 1234\n")
    assert r.status_code == 400 and "must not have timestamps" in r.text and "sample a" in r.text
    assert env.values("push_time_seconds") == {L("push_time_seconds", job="j"): T0}
    assert env.values("push_failure_time_seconds") == {L("push_failure_time_seconds", job="j"): T0 + 10.5}
    assert env.values("a") == {L("a", job="j"): 1}
    [group] = env.client.get("/api/v1/metrics").json()["data"]
    assert group["last_push_successful"] is False
    env.clock.t = T0 + 20
    assert env.client.post("/metrics/job/j", content=b"").status_code == 200
    assert env.values("push_time_seconds") == {L("push_time_seconds", job="j"): T0 + 20}
    assert env.client.get("/api/v1/metrics").json()["data"][0]["last_push_successful"] is True


def test_refused_push_to_a_new_group_creates_it_with_only_the_failure_time(env: Env) -> None:
    assert env.client.put("/metrics/job/new", content=b"a 1 5\n").status_code == 400
    assert env.latest() == {
        L("push_time_seconds", job="new"): 0,
        L("push_failure_time_seconds", job="new"): T0,
    }


def test_grouping_key_with_empty_value_is_kept_in_the_key_not_on_series(env: Env) -> None:
    r = env.client.put("/metrics/job/example/first_label@base64/=/second_label/foobar", content=b'a{first_label="x"} 1\n')
    assert r.status_code == 200
    assert env.values("a") == {L("a", job="example", second_label="foobar"): 1}
    [group] = env.client.get("/api/v1/metrics").json()["data"]
    assert group["labels"] == {"job": "example", "first_label": "", "second_label": "foobar"}
    assert group["a"]["metrics"][0]["labels"] == {
        "job": "example", "first_label": "", "second_label": "foobar", "instance": "",
    }


def test_groups_that_would_store_the_same_series_are_refused(env: Env) -> None:
    # {job="a"} and {job="a",x=""} are two groups to the Pushgateway, but
    # Prometheus drops empty labels, so their series (push_time_seconds at
    # least) would be stored as one: kubesight refuses the second push.
    assert env.client.put("/metrics/job/a", content=b"m 1\n").status_code == 200
    r = env.client.put("/metrics/job/a/x@base64/=", content=b"n 1\n")
    assert r.status_code == 400 and 'push_time_seconds{job="a"} is pushed twice' in r.text
    assert env.values("m") == {L("m", job="a"): 1} and env.values("n") == {}
    assert env.values("push_time_seconds") == {L("push_time_seconds", job="a"): T0}
    assert [g.key for g in env.registry.groups()] == [(("job", "a"),)]


# ---------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------

TITAN = {"job": "titan", "name": "Προμηθεύς"}
KEYS: list[tuple[str, dict[str, str]]] = [
    ("/metrics/job/some_job", {"job": "some_job"}),
    ("/metrics/job/some_job/", {"job": "some_job"}),
    ("/metrics/job/directory_cleaner/path@base64/L3Zhci90bXA", {"job": "directory_cleaner", "path": "/var/tmp"}),
    ("/metrics/job/directory_cleaner/path@base64/L3Zhci90bXA=", {"job": "directory_cleaner", "path": "/var/tmp"}),
    ("/metrics/job/example/first_label@base64/=/second_label/foobar",
     {"job": "example", "first_label": "", "second_label": "foobar"}),
    ("/metrics/job/example/first_label@base64/==", {"job": "example", "first_label": ""}),
    ("/metrics/job/titan/name/%CE%A0%CF%81%CE%BF%CE%BC%CE%B7%CE%B8%CE%B5%CF%8D%CF%82", TITAN),
    ("/metrics/job/titan/name@base64/zqDPgc6_zrzOt864zrXPjc-C", TITAN),
    ("/metrics/job@base64/L3Zhci90bXA/instance/a", {"job": "/var/tmp", "instance": "a"}),
    ("/metrics/job/a%20b/x/y%3Dz", {"job": "a b", "x": "y=z"}),
    ("/metrics/job/a/job/b", {"job": "a"}),
    ("/metrics/job/a/x/", {"job": "a", "x": ""}),  # a trailing slash is an empty value, as in the Pushgateway  # the path's job wins, as in the Pushgateway
]


@pytest.mark.parametrize(("path", "key"), KEYS, ids=[p for p, _ in KEYS])
def test_grouping_key_paths(env: Env, path: str, key: dict[str, str]) -> None:
    assert env.client.put(path, content=b"m 1\n").status_code == 200
    [group] = env.client.get("/api/v1/metrics").json()["data"]
    assert group["labels"] == key
    assert env.values("m") == {L("m", **{k: v for k, v in key.items() if v}): 1}
    assert env.client.delete(path).status_code == 202
    assert env.client.get("/api/v1/metrics").json()["data"] == []


BAD_PATHS: list[tuple[str, str]] = [
    ("/metrics/job", "job name is required"),
    ("/metrics/job/", "job name is required"),
    ("/metrics/job//x/y", "job name is required"),
    ("/metrics/job@base64/=", "job name is required"),
    ("/metrics/job/j/instance", "odd number of components"),
    ("/metrics/job/j/a/1/b", "odd number of components"),
    ("/metrics/job/j/a//b/2", "empty value for label 'a'"),
    ("/metrics/job/j/a/1/b/2/", "odd number of components"),
    ("/metrics/job/j//", "improper label name ''"),
    ("/metrics/job/j/a@base64/!!!", "invalid base64 encoding for a="),
    ("/metrics/job/j/a@base64/x", "invalid base64 encoding for a="),
    ("/metrics/job@base64/%25%25", "invalid base64 encoding for job="),
    ("/metrics/job/j/a@base64/_w", "not valid UTF-8"),
    ("/metrics/job/j/1abc/x", "improper label name '1abc'"),
    ("/metrics/job/j/__x/y", "improper label name '__x'"),
    ("/metrics/job/j/a.b/y", "improper label name 'a.b'"),
]


@pytest.mark.parametrize(("path", "message"), BAD_PATHS, ids=[p for p, _ in BAD_PATHS])
@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_bad_paths(env: Env, method: str, path: str, message: str) -> None:
    r = env.client.request(method, path, content=b"m 1\n" if method != "DELETE" else b"")
    assert r.status_code == 400, r.text
    assert message in r.text
    assert env.registry.groups() == []


def test_parse_grouping_key_is_pure() -> None:
    assert parse_grouping_key("j", "b/2/a/1") == (("a", "1"), ("b", "2"), ("job", "j"))
    with pytest.raises(PathError):
        parse_grouping_key("", "")


# ---------------------------------------------------------------------------
# Bad bodies: 4xx with a reason, and the previous group intact
# ---------------------------------------------------------------------------

BAD_BODIES: list[tuple[str, bytes, dict[str, str], int, str]] = [
    ("garbage", b"\x00\xff\xfe garbage {{{\n", {}, 400, "cannot parse the pushed text format: line 1"),
    ("truncated in labels", b'a 1\nb{x="1', {}, 400, "line 2"),
    ("no final newline", b"a 1\nb 2", {}, 400, "line 2: the body does not end with a newline"),
    ("CRLF", b"a 1\r\n", {}, 400, "CRLF line endings are not allowed"),
    ("bad value", b"a 1\nb zz\n", {}, 400, "line 2"),
    ("bad escape", b'a{x="\\q"} 1\n', {}, 400, "line 1"),
    ("second TYPE", b"# TYPE a gauge\n# TYPE a gauge\na 1\n", {}, 400, "line 2"),
    ("timestamp", b"a 1\nb 2 1700000000000\n", {}, 400, "sample b has timestamp 1700000000000"),
    ("reserved label", b'a{__x="1"} 1\n', {}, 400, "label name '__x' is reserved"),
    ("duplicate series", b"a 1\na 2\n", {}, 400, "series a{job=\"j\"} is pushed twice"),
    ("duplicate after grouping", b'a{job="x"} 1\na 2\n', {}, 400, "pushed twice"),
    ("suffix collision", b"# TYPE s summary\ns_count 1\n# TYPE s_sum gauge\ns_sum 1\n", {}, 400,
     "'s_sum' collides with the summary 's'"),
    ("protobuf garbage", b"\x05\xff\xff\xff\xff\xff", PB, 400, "cannot parse the pushed protobuf MetricFamily stream"),
    ("protobuf cut", b"\x09\x0a\x03abc", PB, 400, "message of 9 bytes is cut off after 5"),
    ("protobuf bad prefix", b"\xff" * 11, PB, 400, "invalid length prefix"),
    ("protobuf text", b"\x05\x0a\x03abc", {"Content-Type": "application/vnd.google.protobuf; encoding=text"},
     415, "unsupported protobuf Content-Type"),
    ("unknown encoding", b"a 1\n", {"Content-Encoding": "br"}, 415, "unsupported Content-Encoding 'br'"),
    ("bad gzip", b"not gzip", {"Content-Encoding": "gzip"}, 400, "not valid gzip"),
    ("truncated gzip", gzip.compress(b"a 1\n" * 100)[:20], {"Content-Encoding": "gzip"}, 400, "gzip"),
    ("bad snappy", b"not snappy", {"Content-Encoding": "snappy"}, 400, "not valid snappy"),
    ("gzip bomb", gzip.compress(b"#" * (1 << 20)), {"Content-Encoding": "gzip"}, 413, "larger than the limit"),
    ("huge", b"a 1\n" * 100_000, {}, 413, "larger than the limit of 65536 bytes"),
    ("snappy bomb", bytes(cramjam.snappy.compress(b"#" * (1 << 20))), {"Content-Encoding": "snappy"}, 413,
     "larger than the limit of 262144 bytes"),
]


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [b[1:] for b in BAD_BODIES],
    ids=[b[0] for b in BAD_BODIES],
)
@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_bad_bodies_keep_the_previous_group(
    method: str, body: bytes, headers: dict[str, str], status: int, message: str
) -> None:
    e = Env(limits=PushLimits(max_body_bytes=64 << 10, max_decoded_bytes=256 << 10))
    with e.client as c:
        assert c.put("/metrics/job/j", content=b"# TYPE keep gauge\nkeep 7\n").status_code == 200
        before = e.values("keep")
        r = c.request(method, "/metrics/job/j", content=body, headers=headers)
        assert r.status_code == status, r.text
        assert message in r.text
        assert r.text.endswith("\n") and r.text.count("\n") == 1
        assert e.values("keep") == before == {L("keep", job="j"): 7}
        assert c.post("/metrics/job/j", content=b"after 1\n").status_code == 200  # still serving


def test_type_conflict_across_groups_and_help_tolerated(env: Env) -> None:
    c = env.client
    assert c.put("/metrics/job/a", content=b"# HELP m one\n# TYPE m counter\nm 1\n").status_code == 200
    r = c.put("/metrics/job/b", content=b"# TYPE m gauge\nm 2\n")
    assert r.status_code == 400
    assert "metric family 'm' is pushed as gauge but is counter in another group" in r.text
    # Untyped against typed is a conflict too: the exposition could not say both.
    assert c.put("/metrics/job/b", content=b"m 2\n").status_code == 400
    assert c.put("/metrics/job/b", content=b"# HELP m two\n# TYPE m counter\nm 2\n").status_code == 200
    assert env.values("m") == {L("m", job="a"): 1, L("m", job="b"): 2}
    # Once the conflicting group is gone, the other type may be pushed.
    assert c.delete("/metrics/job/a").status_code == 202
    assert c.delete("/metrics/job/b").status_code == 202
    assert c.put("/metrics/job/b", content=b"# TYPE m gauge\nm 3\n").status_code == 200


def test_protobuf_push_as_client_golang_sends_it(env: Env) -> None:
    body = (
        pb_family("g", 1, [{"labels": {"a": "x", "job": "ignored", "e": ""}, "gauge": 1.5}], "A gauge.")
        + pb_family("c", 0, [{"counter": 7}])
        + pb_family("u", 3, [{"untyped": -1}])
        + pb_family("s", 2, [{"summary": ([(0.5, 2.0), (0.99, 3.0)], 4, 9.5)}])
        + pb_family("h", 4, [{"labels": {"p": "q"}, "histogram": ([(0.1, 1), (1, 3)], 5, 2.25)}])
    )
    r = env.client.put("/metrics/job/j/instance/i", content=body, headers=PB)
    assert r.status_code == 200, r.text
    got = {k: v for k, v in env.latest().items() if not dict(k)["__name__"].startswith("push_")}
    base = {"job": "j", "instance": "i"}
    assert got == {
        L("g", a="x", **base): 1.5, L("c", **base): 7, L("u", **base): -1,
        L("s", quantile="0.5", **base): 2, L("s", quantile="0.99", **base): 3,
        L("s_sum", **base): 9.5, L("s_count", **base): 4,
        L("h_bucket", le="0.1", p="q", **base): 1, L("h_bucket", le="1.0", p="q", **base): 3,
        L("h_bucket", le="+Inf", p="q", **base): 5, L("h_sum", p="q", **base): 2.25, L("h_count", p="q", **base): 5,
    }
    assert env.store.metadata("g")["g"][0].help == "A gauge."
    assert env.store.metadata("s")["s"][0].type == "summary"
    # An empty protobuf family replaces its namesake, as in the Pushgateway.
    assert env.client.post("/metrics/job/j/instance/i", content=pb_family("u", 3, []), headers=PB).status_code == 200
    assert env.values("u") == {}
    # POST replaces by family name across formats.
    assert env.client.post("/metrics/job/j/instance/i", content=b"c 8\n").status_code == 200
    assert env.values("c") == {L("c", **base): 8} and env.values("g") == {L("g", a="x", **base): 1.5}


PB_REFUSED: list[tuple[str, bytes, int, str, bool]] = [
    ("timestamp", pb_family("t", 1, [{"gauge": 1, "timestamp_ms": 5}]), 400, "sample t has timestamp 5", True),
    ("wrong type", pb_family("t", 1, [{"counter": 1}]), 400, "metric t of family 't' is not a gauge", True),
    ("reserved label", pb_family("t", 1, [{"labels": {"__r": "1"}, "gauge": 1}]), 400, "'__r' is reserved", True),
    ("duplicate label", pb_family("t", 1, [{"labels": {"a": "1", "b": "2"}, "gauge": 1}]).replace(b"\x0a\x01b", b"\x0a\x01a"),
     400, "empty or duplicate label name", True),
    ("native histogram", pb_family("n", 4, [{"native": 1}]), 400, "native histograms cannot be pushed yet", False),
    ("gauge histogram", pb_family("n", 5, [{"labels": {}}]), 400, "type gaugehistogram cannot be pushed", False),
    ("unknown type", pb_family("n", 9, []), 400, "unknown metric type 9", False),
    ("no name", pb_family("", 1, []), 400, "metric family without a name", False),
    ("name not UTF-8", b"\x05\x0a\x03\xff\xfe\xfd", 400, "the metric family name is not valid UTF-8", False),
    ("label not UTF-8", pb_family("t", 1, [{"labels": {"a": "\u00e9"}, "gauge": 1}]).replace(b"\xc3\xa9", b"\xe9\xe9"),
     400, "a label value of 't' is not valid UTF-8", False),
]


@pytest.mark.parametrize(
    ("body", "status", "message", "sets_failure"), [c[1:] for c in PB_REFUSED], ids=[c[0] for c in PB_REFUSED]
)
def test_protobuf_refusals(env: Env, body: bytes, status: int, message: str, sets_failure: bool) -> None:
    assert env.client.put("/metrics/job/j", content=b"keep 1\n").status_code == 200
    env.clock.t += 5
    r = env.client.post("/metrics/job/j", content=body, headers=PB)
    assert r.status_code == status, r.text
    assert message in r.text
    if status == 400:
        assert env.values("keep") == {L("keep", job="j"): 1}
        failure = env.values("push_failure_time_seconds")[L("push_failure_time_seconds", job="j")]
        assert failure == (T0 + 5 if sets_failure else 0)


def test_gzip_and_snappy_bodies(env: Env) -> None:
    c = env.client
    assert c.put("/metrics/job/g", content=gzip.compress(b"a 1\n"), headers={"Content-Encoding": "gzip"}).status_code == 200
    snappy = bytes(cramjam.snappy.compress(b"b 2\n"))
    assert c.put("/metrics/job/s", content=snappy, headers={"Content-Encoding": "snappy"}).status_code == 200
    assert env.values("a") == {L("a", job="g"): 1}
    assert env.values("b") == {L("b", job="s"): 2}


def test_content_type_is_ignored_except_protobuf(env: Env) -> None:
    # The Pushgateway reads any other Content-Type as text, as client libraries expect.
    for ct in ("text/plain; version=0.0.4; charset=utf-8", "application/x-www-form-urlencoded", "application/json"):
        assert env.client.put("/metrics/job/j", content=b"a 1\n", headers={"Content-Type": ct}).status_code == 200


def test_method_not_allowed_and_metrics_untouched(env: Env) -> None:
    assert env.client.get("/metrics/job/j").status_code == 405
    paths = {getattr(r, "path", "") for r in routes(env.registry)}
    assert "/metrics" not in paths


# ---------------------------------------------------------------------------
# The exporter: periodic appends and stale markers
# ---------------------------------------------------------------------------


def _samples(store: MemoryStore, name: str) -> list[tuple[int, float]]:
    data = store.select([], 0, 1 << 62)
    for i, labels in enumerate(data.labels):
        if dict(labels)["__name__"] == name:
            ts, vs = data.samples(i)
            return list(zip(ts.tolist(), vs.tolist(), strict=True))
    return []


def test_exporter_appends_every_tick_and_marks_deleted_groups_stale() -> None:
    e = Env()
    with e.client as c:
        assert c.put("/metrics/job/j", content=b"a 1\nb 2\n").status_code == 200  # exported at once
        e.clock.t = T0 + 15
        e.exporter.export_all()
        e.clock.t = T0 + 20
        assert c.put("/metrics/job/j", content=b"a 3\n").status_code == 200  # b replaced away
        e.clock.t = T0 + 30
        e.exporter.export_all()
        e.clock.t = T0 + 40
        assert c.delete("/metrics/job/j").status_code == 202
        e.clock.t = T0 + 45
        e.exporter.export_all()
    ms = int(T0 * 1000)
    a = _samples(e.store, "a")
    assert [t - ms for t, _ in a] == [0, 15_000, 20_000, 30_000, 40_000]
    assert [v for _, v in a[:4]] == [1, 1, 3, 3] and is_stale_nan(np.array([a[4][1]])).all()
    b = _samples(e.store, "b")
    assert [t - ms for t, _ in b] == [0, 15_000, 20_000]
    assert is_stale_nan(np.array([b[2][1]])).all()
    pt = _samples(e.store, "push_time_seconds")
    assert [v for _, v in pt[:4]] == [T0, T0, T0 + 20, T0 + 20]
    assert e.latest() == {}
    assert e.store.metadata("a") == {"a": [e.store.metadata("a")["a"][0]]}
    assert e.store.metadata("push_time_seconds")["push_time_seconds"][0].type == "gauge"


def test_exporter_marks_stale_a_group_deleted_while_not_listening() -> None:
    clock = Clock()
    reg = PushRegistry(None, clock=clock)
    store = MemoryStore()
    exp = PushExporter(reg, store, clock=clock)  # not subscribed: only ticks see changes
    reg.push((("job", "j"),), {}, replace=True)
    exp.export_all()
    reg.delete((("job", "j"),))
    clock.t += 15
    exp.export_all()
    ts, vs = store.select([], 0, 1 << 62).samples(0)
    assert ts.tolist() == [int(T0 * 1000), int((T0 + 15) * 1000)]
    assert is_stale_nan(vs[1:]).all()


def test_run_exporter_ticks_on_its_interval_and_unsubscribes() -> None:
    clock = Clock()
    reg = PushRegistry(None, clock=clock)
    store = MemoryStore()
    reg.push((("job", "j"),), {}, replace=True)
    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)
        clock.t += s
        if len(sleeps) == 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(run_exporter(reg, store, 10.0, clock, sleep=sleep))
    assert sleeps == [10.0, 10.0, 10.0]
    assert [t for t, _ in _samples(store, "push_time_seconds")] == [int((T0 + d) * 1000) for d in (0, 10, 20)]
    assert reg._listeners == []


async def _push_then_query(reg: PushRegistry, store: MemoryStore) -> int:
    task = asyncio.create_task(run_exporter(reg, store, 3600.0))
    await asyncio.sleep(0)  # let it subscribe
    reg.push((("job", "late"),), {}, replace=True)
    n = len(store.series([], 0, 1 << 62))  # visible before any tick
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return n


def test_run_exporter_exports_a_push_immediately() -> None:
    assert asyncio.run(_push_then_query(PushRegistry(None), MemoryStore())) == 2


# ---------------------------------------------------------------------------
# Persistence
# ---------------------------------------------------------------------------


def test_groups_survive_a_restart(tmp_path: Path) -> None:
    d = tmp_path / "pushgateway"
    e = Env(d)
    with e.client as c:
        assert c.put("/metrics/job/j/instance/i", content=COMPLEX).status_code == 200
        assert c.put("/metrics/job/k/path@base64/L3Zhci90bXA", content=b"n NaN\np +Inf\nq -1e-300\n").status_code == 200
        assert c.put("/metrics/job/gone", content=b"x 1\n").status_code == 200
        assert c.delete("/metrics/job/gone").status_code == 202
        e.clock.t += 1
        assert c.post("/metrics/job/j/instance/i", content=b"z 1 5\n").status_code == 400
        before = c.get("/api/v1/metrics").json()
        latest = e.latest()
    assert sorted(p.name for p in d.iterdir() if not p.name.startswith("group-")) == []
    assert len(list(d.iterdir())) == 2
    e2 = Env(d)
    with e2.client as c2:
        assert c2.get("/api/v1/metrics").json() == before
        e2.exporter.export_all()
        got = e2.latest()
    assert got.keys() == latest.keys()
    for k, v in latest.items():
        assert got[k] == v or (math.isnan(got[k]) and math.isnan(v))
    assert e2.registry.get((("instance", "i"), ("job", "j"))).failure_time == T0 + 1  # type: ignore[union-attr]


def test_corrupt_file_is_moved_aside_and_the_rest_loads(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    d = tmp_path / "pg"
    e = Env(d)
    with e.client as c:
        assert c.put("/metrics/job/a", content=b"a 1\n").status_code == 200
        assert c.put("/metrics/job/b", content=b"b 1\n").status_code == 200
    files = sorted(d.glob("group-*.json"))
    victim = next(f for f in files if b'"b"' in f.read_bytes())
    victim.write_bytes(victim.read_bytes()[:30])
    (d / "group-x.json").write_text(json.dumps({"version": 99}))
    (d / "group-y.json.tmp").write_text("half a write")
    with caplog.at_level(logging.ERROR, "kubesight.ingest.pushgateway"):
        reg = PushRegistry(d)
    assert [g.key for g in reg.groups()] == [(("job", "a"),)]
    assert "cannot read pushed group" in caplog.text and victim.name in caplog.text
    assert len(list(d.glob("*.corrupt-*"))) == 2
    assert not list(d.glob("*.tmp"))
    # The group can be pushed again and persists normally.
    e3 = Env(d)
    with e3.client as c:
        assert c.put("/metrics/job/b", content=b"b 2\n").status_code == 200
    assert {g.key for g in PushRegistry(d).groups()} == {(("job", "a"),), (("job", "b"),)}


def test_persistence_failure_does_not_fail_the_push(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    e = Env(tmp_path / "pg")

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pushgateway_store, "_write_atomic", disk_full)
    with e.client as c, caplog.at_level(logging.ERROR, "kubesight.ingest.pushgateway"):
        r = c.put("/metrics/job/a", content=b"a 1\n")
    assert "cannot persist group {job=\"a\"}" in caplog.text and "No space left" in caplog.text
    assert r.status_code == 200 and e.values("a") == {L("a", job="a"): 1}


# ---------------------------------------------------------------------------
# The read API
# ---------------------------------------------------------------------------


def test_api_metrics_shape(env: Env) -> None:
    body = (b"# HELP d Duration.\n# TYPE d gauge\nd 0.25\n# TYPE s summary\ns{quantile=\"0.5\"} 2\ns_sum 3\ns_count 4\n"
            b"# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.5\nh_count 2\n")
    assert env.client.put("/metrics/job/batch", content=body).status_code == 200
    r = env.client.get("/api/v1/metrics")
    assert r.headers["access-control-allow-origin"] == "*"
    [g] = r.json()["data"]
    assert g["labels"] == {"job": "batch"} and g["last_push_successful"] is True
    assert g["d"] == {
        "time_stamp": "2023-11-14T22:13:20Z", "type": "GAUGE", "help": "Duration.",
        "metrics": [{"labels": {"instance": "", "job": "batch"}, "value": "0.25"}],
    }
    assert g["s"]["metrics"] == [{"labels": {"instance": "", "job": "batch"}, "quantiles": {"0.5": "2"}, "sum": "3", "count": "4"}]
    assert g["h"]["type"] == "HISTOGRAM"
    assert g["h"]["metrics"][0]["buckets"] == {"0.1": "1", "+Inf": "2"}
    assert g["push_time_seconds"]["metrics"][0]["value"] == "1.7e+09"
    assert g["push_failure_time_seconds"]["help"].startswith("Last Unix time when changing this group")
    st = env.client.get("/api/v1/status").json()
    assert st["status"] == "success" and st["data"]["start_time"] == "2023-11-14T22:13:20Z"


def test_ingest_metrics_count_pushes_and_failures() -> None:
    reg = Registry()
    c = TestClient(Starlette(routes=routes(PushRegistry(None), metrics=IngestMetrics(reg))))
    assert c.put("/metrics/job/j", content=b"a 1\nb 2\n").status_code == 200
    assert c.put("/metrics/job/j", content=b"a{").status_code == 400
    assert c.delete("/metrics/job").status_code == 400
    text = reg.render()
    assert 'kubesight_ingest_samples_total{protocol="pushgateway"} 2' in text
    assert 'kubesight_ingest_failed_requests_total{protocol="pushgateway",code="400"} 2' in text


def test_mutated_bodies_never_fail_the_server(env: Env) -> None:
    # Random edits of valid bodies, in both formats: every answer is 200 or a
    # 4xx with a reason, never a 500, and the state stays exportable.
    rnd = random.Random(7)
    seeds = [
        COMPLEX,
        b'# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n# TYPE s summary\ns{quantile="0.5"} 1\n',
        b'a{b="c\\n\\"d"} 1e3\n# HELP x y\nx NaN\n',
        pb_family("g", 1, [{"labels": {"a": "x"}, "gauge": 1.5}]) + pb_family("h", 4, [{"histogram": ([(0.1, 1)], 5, 2.25)}]),
    ]
    for _ in range(600):
        body = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 4)):
            op = rnd.random()
            if op < 0.4 and body:
                body[rnd.randrange(len(body))] = rnd.randrange(256)
            elif op < 0.7 and body:
                del body[rnd.randrange(len(body))]
            else:
                body.insert(rnd.randrange(len(body) + 1), rnd.choice(b'{}"=,# \n\\\xff\x00ae1'))
        r = env.client.request(
            rnd.choice(["PUT", "POST"]), rnd.choice(["/metrics/job/f", "/metrics/job/f/x/1", "/metrics/job/g"]),
            content=bytes(body), headers=PB if rnd.random() < 0.4 else {},
        )
        assert r.status_code in (200, 400), (bytes(body), r.text)
    env.exporter.export_all()
    assert env.client.get("/api/v1/metrics").status_code == 200


def test_wired_as_the_server_wires_it(tmp_path: Path) -> None:
    # The wiring docs/pushgateway.md and the module docstring describe: routes
    # at the root, run_exporter started and stopped with the app.
    store = MemoryStore()
    registry = PushRegistry(tmp_path / "pushgateway")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(run_exporter(registry, store))
        await asyncio.sleep(0)  # subscribed before the first request
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    with TestClient(Starlette(routes=routes(registry), lifespan=lifespan)) as c:
        assert c.put("/metrics/job/wired", content=b"w 1\n").status_code == 200
        assert store.series([], 0, 1 << 62) == [L("push_failure_time_seconds", job="wired"),
                                                L("push_time_seconds", job="wired"), L("w", job="wired")]
    assert registry._listeners == []
