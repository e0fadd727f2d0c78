"""HTTP helpers shared by ingest handlers: bounded body reads and error answers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse


class BodyTooLargeError(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than the limit of {limit} bytes")
        self.limit = limit


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (before buffering it all) one larger than ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def text_error(status: int, message: str, headers: dict[str, str] | None = None) -> PlainTextResponse:
    # Remote-write senders log the body of an error response verbatim, so it is
    # one line of plain text that says what was wrong.
    return PlainTextResponse(message.rstrip() + "\n", status_code=status, headers=headers)
