"""``POST /api/v1/write``: Prometheus remote write 1.0 and 2.0.

Status codes follow the specs: 204 when everything was written; 400 for a
payload that cannot be decoded or that holds invalid series (the valid ones in
it are still written, and the message says what was refused); 413 over the
size limit; 415 for an unknown content type or encoding; 503 with Retry-After
when the store is over its limits, so senders back off and retry. A client's
fault is never a 5xx, since senders retry 5xx forever.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from kubesight.errors import DecodeError, OverloadedError, UnsupportedError
from kubesight.ingest.http import BodyTooLargeError, read_body, text_error
from kubesight.model.instrument import Registry
from kubesight.store.interface import Appender
from kubesight.wire.remote_write import (
    LabelCache,
    TooLargeError,
    WriteVersion,
    decode_write_v1_counted,
    decode_write_v2,
    decompress,
    negotiate_content_type,
)

log = logging.getLogger("kubesight.ingest")


@dataclass
class WriteLimits:
    max_request_bytes: int
    max_decoded_bytes: int


class IngestMetrics:
    def __init__(self, registry: Registry) -> None:
        self.samples = registry.counter(
            "kubesight_ingest_samples_total", "Samples written, by protocol.", ["protocol"]
        )
        self.rejected = registry.counter(
            "kubesight_ingest_samples_rejected_total",
            "Samples refused (invalid series, bad timestamps), by protocol.",
            ["protocol"],
        )
        self.failed_requests = registry.counter(
            "kubesight_ingest_failed_requests_total",
            "Requests answered with an error, by protocol and status code.",
            ["protocol", "code"],
        )


def remote_write_handler(
    store: Appender,
    limits: WriteLimits,
    metrics: IngestMetrics,
    overloaded: Callable[[], str | None] = lambda: None,
) -> Callable[[Request], Awaitable[Response]]:
    # One cache per receiver: senders repeat each series' label bytes verbatim,
    # so most series skip string decoding entirely.
    cache = LabelCache()

    async def handle(request: Request) -> Response:
        resp = await _handle(request)
        if resp.status_code >= 400:
            metrics.failed_requests.inc(1, "remote_write", str(resp.status_code))
        return resp

    async def _handle(request: Request) -> Response:
        try:
            version = negotiate_content_type(request.headers.get("content-type"))
        except UnsupportedError as exc:
            return text_error(415, str(exc))
        reason = overloaded()
        if reason:
            return text_error(503, f"overloaded: {reason}; retry later", {"Retry-After": "5"})
        try:
            body = await read_body(request, limits.max_request_bytes)
        except BodyTooLargeError as exc:
            return text_error(413, str(exc))
        try:
            raw = decompress(body, request.headers.get("content-encoding"), limits.max_decoded_bytes)
        except TooLargeError as exc:
            return text_error(413, str(exc))
        except UnsupportedError as exc:
            return text_error(415, str(exc))
        except DecodeError as exc:
            return text_error(400, f"cannot decompress the request body: {exc}")
        try:
            dec = decode_write_v1_counted(raw, cache) if version is WriteVersion.V1 else decode_write_v2(raw, cache)
        except DecodeError as exc:
            return text_error(400, f"cannot decode the remote write request: {exc}")
        batch, histograms = dec.batch, dec.histograms
        try:
            res = store.append(batch)
        except OverloadedError as exc:
            return text_error(503, str(exc), {"Retry-After": "5"})
        metrics.samples.inc(res.samples_written, "remote_write")
        if res.samples_rejected:
            metrics.rejected.inc(res.samples_rejected, "remote_write")
        headers = {}
        if version is WriteVersion.V2:
            headers = {
                "X-Prometheus-Remote-Write-Samples-Written": str(res.samples_written),
                "X-Prometheus-Remote-Write-Histograms-Written": "0",
                "X-Prometheus-Remote-Write-Exemplars-Written": "0",
            }
        problems = list(res.errors)
        if histograms:
            problems.append(f"{histograms} native histogram sample(s) not written: not supported yet")
        if res.samples_rejected or res.series_rejected or histograms:
            msg = (
                f"wrote {res.samples_written} sample(s), refused {res.samples_rejected}"
                f" ({res.series_rejected} invalid series): " + "; ".join(problems)
            )
            log.warning("remote write from %s: %s", request.client.host if request.client else "?", msg)
            return text_error(400, msg, headers)
        # Exemplars are dropped without error, as Prometheus does with exemplar storage off.
        return Response(status_code=204, headers=headers)

    return handle
