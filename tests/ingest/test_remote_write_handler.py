"""The remote-write handler's answers, with a fake store (no server process)."""

from __future__ import annotations

import cramjam
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from kubesight.errors import OverloadedError
from kubesight.ingest.remote_write import IngestMetrics, WriteLimits, remote_write_handler
from kubesight.model import SampleBatch
from kubesight.model.instrument import Registry
from kubesight.store import MemoryStore
from kubesight.store.interface import AppendResult
from kubesight.wire.remote_write import encode_write_v1, encode_write_v2

V1 = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}
V2 = {**V1, "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request"}
T = 1_700_000_000_000


def client(store: object, overloaded: str | None = None, limit: int = 1 << 20) -> tuple[TestClient, Registry]:
    reg = Registry()
    handler = remote_write_handler(
        store,  # type: ignore[arg-type]
        WriteLimits(limit, 4 * limit),
        IngestMetrics(reg),
        lambda: overloaded,
    )
    return TestClient(Starlette(routes=[Route("/w", handler, methods=["POST"])])), reg


def body(b: SampleBatch, v2: bool = False) -> bytes:
    return bytes(cramjam.snappy.compress_raw((encode_write_v2 if v2 else encode_write_v1)(b)))


GOOD = SampleBatch.from_series([((("__name__", "m"), ("a", str(i))), [(T, float(i))]) for i in range(3)])


def test_ok_v1_and_v2() -> None:
    store = MemoryStore()
    c, reg = client(store)
    assert c.post("/w", content=body(GOOD), headers=V1).status_code == 204
    r = c.post("/w", content=body(GOOD, True), headers=V2)
    assert r.status_code == 204
    assert r.headers["x-prometheus-remote-write-samples-written"] == "3"
    assert 'kubesight_ingest_samples_total{protocol="remote_write"} 6' in reg.render()


def test_partial_write_is_400_naming_what_was_refused() -> None:
    store = MemoryStore()
    c, reg = client(store)
    mixed = SampleBatch.from_series([((("__name__", "ok"),), [(T, 1.0)]), ((("x", "1"),), [(T, 2.0)])])
    r = c.post("/w", content=body(mixed, True), headers=V2)
    assert r.status_code == 400
    assert "wrote 1 sample(s), refused 1" in r.text and "missing metric name" in r.text
    assert r.headers["x-prometheus-remote-write-samples-written"] == "1"
    assert store.series([], 0, 2 * T) == [(("__name__", "ok"),)]
    assert 'kubesight_ingest_failed_requests_total{protocol="remote_write",code="400"} 1' in reg.render()


@pytest.mark.parametrize(
    ("content", "headers", "status", "words"),
    [
        (b"", V1, 400, "truncated"),  # not even snappy's length preamble
        (b"\x00", V1, 204, ""),  # snappy of an empty WriteRequest
        (b"\x01\x02", V1, 400, "decompress"),
        (body(GOOD)[:-3], V1, 400, ""),
        (body(GOOD), {**V1, "Content-Type": "text/plain"}, 415, "application/x-protobuf"),
        (body(GOOD), {**V1, "Content-Type": "application/x-protobuf;proto=foo.Bar"}, 415, "io.prometheus.write.v2.Request"),
        (body(GOOD), {**V1, "Content-Encoding": "gzip"}, 415, "snappy"),
        (b"x" * (2 << 20), V1, 413, "limit"),
    ],
)
def test_bad_requests(content: bytes, headers: dict[str, str], status: int, words: str) -> None:
    c, _ = client(MemoryStore())
    r = c.post("/w", content=content, headers=headers)
    assert r.status_code == status, r.text
    assert words in r.text


def test_overloaded_answers_503_with_retry_after() -> None:
    c, _ = client(MemoryStore(), overloaded="flush behind")
    r = c.post("/w", content=body(GOOD), headers=V1)
    assert r.status_code == 503 and r.headers["retry-after"] == "5" and "flush behind" in r.text


class Overloaded:
    def append(self, batch: SampleBatch) -> AppendResult:
        raise OverloadedError("head is full")


def test_store_overload_is_503() -> None:
    c, _ = client(Overloaded())
    r = c.post("/w", content=body(GOOD), headers=V1)
    assert r.status_code == 503 and "head is full" in r.text
