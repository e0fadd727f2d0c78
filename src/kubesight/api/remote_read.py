"""``POST /api/v1/read``: Prometheus remote read with the SAMPLES response type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import cramjam
from starlette.requests import Request
from starlette.responses import Response

from kubesight.errors import DecodeError, UnsupportedError, ValidationError
from kubesight.ingest.http import BodyTooLargeError, read_body, text_error
from kubesight.store.interface import Querier
from kubesight.wire.remote_read import decode_read_request, encode_read_response
from kubesight.wire.remote_write import TooLargeError, decompress

_SAMPLES = 0  # prometheus.ReadRequest.ResponseType.SAMPLES


def remote_read_handler(
    store: Querier, max_request_bytes: int, max_decoded_bytes: int
) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        try:
            body = await read_body(request, max_request_bytes)
            raw = decompress(body, request.headers.get("content-encoding"), max_decoded_bytes)
            queries, accepted = decode_read_request(raw)
        except (BodyTooLargeError, TooLargeError) as exc:
            return text_error(413, str(exc))
        except UnsupportedError as exc:
            return text_error(415, str(exc))
        except (DecodeError, ValidationError) as exc:
            return text_error(400, f"cannot decode the remote read request: {exc}")
        if accepted and _SAMPLES not in accepted:
            return text_error(
                400, "only the SAMPLES response type is supported; add it to accepted_response_types"
            )
        results = [store.select(q.matchers, q.start_ms, q.end_ms) for q in queries]
        payload = bytes(cramjam.snappy.compress_raw(encode_read_response(results)))
        return Response(
            payload,
            headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"},
        )

    return handle
