"""The Pushgateway's HTTP API: ``PUT``/``POST``/``DELETE /metrics/job/<job>{/<label>/<value>}``.

Answers as the Pushgateway does: 200 for an accepted push, 202 for a delete,
400 with a one-line reason for a bad path or body or a refused push (the
previously pushed group stays as it was), 413 over the size limit, 415 for
an unknown Content-Encoding or protobuf other than delimited MetricFamily
messages. The body is the delimited protobuf format when its Content-Type
says so exactly (client_golang's default), otherwise text format 0.0.4,
whatever the Content-Type says, as the Pushgateway falls back to text.

Also served: ``GET /api/v1/metrics`` (the groups as the Pushgateway's JSON
API lists them) and ``GET /api/v1/status``. The pushed metrics reach the store
through :func:`~kubesight.ingest.pushgateway_export.run_exporter`, not
through a ``/metrics`` page: kubesight's ``/metrics`` is its own.

Wiring (the server owns the event loop; everything here runs on it)::

    registry = PushRegistry(data_dir / "pushgateway")      # loads persisted groups
    app_routes += pushgateway.routes(registry, PushLimits(), ingest_metrics)
    # at startup:
    task = asyncio.create_task(run_exporter(registry, store))
    await asyncio.sleep(0)                                 # subscribed before the first push
    # at shutdown:
    task.cancel()
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cramjam
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kubesight import __version__
from kubesight.errors import DecodeError, UnsupportedError, ValidationError
from kubesight.ingest.http import BodyTooLargeError, read_body, text_error
from kubesight.ingest.pushgateway_export import run_exporter
from kubesight.ingest.pushgateway_proto import PROTOBUF_MEDIA_TYPE, parse_delimited
from kubesight.ingest.pushgateway_store import (
    Group,
    GroupingKey,
    PushedFamily,
    PushRegistry,
    group_families,
)
from kubesight.ingest.remote_write import IngestMetrics
from kubesight.model.labels import METRIC_NAME, format_labels
from kubesight.wire.exposition import Format, format_go_float, parse

__all__ = ["PushLimits", "PushRegistry", "parse_grouping_key", "routes", "run_exporter"]

log = logging.getLogger("kubesight.ingest.pushgateway")


@dataclass(frozen=True)
class PushLimits:
    # 16 MiB: far above what a batch job pushes, small enough that a runaway
    # pusher cannot make the server buffer gigabytes.
    max_body_bytes: int = 16 << 20
    max_decoded_bytes: int = 64 << 20


class PathError(ValueError):
    """A grouping key path that cannot be read; the message is the 400 answer."""


BASE64_SUFFIX = "@base64"
# The Pushgateway validates path label names with the classic scheme unless
# started with --push.enable-utf8-names, which kubesight does not emulate.
_LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# A parsed sample can carry no timestamp smaller than this: text timestamps
# are int64 milliseconds, and this one would be year -292 million.
_NO_TIMESTAMP = -(1 << 63)


def _b64(value: str, what: str) -> str:
    # RFC 4648 URL-safe alphabet; padding optional (the Pushgateway strips
    # every trailing '='), so '=' alone is the empty value.
    raw = value.rstrip("=")
    try:
        data = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PathError(f"invalid base64 encoding for {what}={value!r}: {exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PathError(f"{what}={value!r} decodes to bytes that are not valid UTF-8") from None


def parse_grouping_key(job: str, rest: str, job_base64: bool = False) -> GroupingKey:
    """The grouping key of ``/metrics/job[@base64]/<job>/<rest>``, or :class:`PathError`.

    ``rest`` is the (percent-decoded) path after the job: ``""`` or
    ``name/value/name@base64/value...``. As in the Pushgateway, a trailing
    slash after a label name gives it the empty value; an empty value
    anywhere else needs base64 (the Pushgateway's router redirects such paths).
    """
    if job_base64:
        job = _b64(job, "job")
    if not job:
        raise PathError("job name is required: push to /metrics/job/<job>{/<label>/<value>}")
    labels: dict[str, str] = {}
    if rest:
        parts = rest.split("/")
        if len(parts) % 2:
            raise PathError(
                f"odd number of components in label string {'/' + rest!r}: "
                "labels come as /<name>/<value> pairs (use <name>@base64/= for an empty value)"
            )
        for i in range(0, len(parts), 2):
            name, value = parts[i], parts[i + 1]
            plain = name.removesuffix(BASE64_SUFFIX)
            if not _LABEL_NAME_RE.fullmatch(plain) or plain.startswith("__"):
                raise PathError(
                    f"improper label name {plain!r} in the path: names match [a-zA-Z_][a-zA-Z0-9_]* "
                    "and do not start with '__'"
                )
            if plain != name:
                value = _b64(value, plain)
            elif value == "" and i + 2 < len(parts):
                raise PathError(
                    f"empty value for label {plain!r} in the path: an empty value or one containing "
                    f"'/' must be base64-encoded ({plain}@base64/=)"
                )
            labels[plain] = value
    # The Pushgateway lets the job of the path win over a 'job' label pair.
    labels["job"] = job
    return tuple(sorted(labels.items()))


def _decode_body(body: bytes, encoding: str | None, limit: int) -> bytes:
    enc = (encoding or "").strip().lower()
    if enc in ("", "identity"):
        return body
    if enc == "gzip":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = d.decompress(body, limit + 1)
        except zlib.error as exc:
            raise DecodeError(f"body is not valid gzip data: {exc}") from None
        if len(out) > limit:
            raise BodyTooLargeError(limit)
        if not d.eof:
            raise DecodeError("gzip body is truncated")
        return out
    if enc == "snappy":
        # The Pushgateway reads snappy's framed (stream) format. The frames
        # declare their sizes, so a bomb is refused before anything is inflated.
        if _snappy_framed_size(body) > limit:
            raise BodyTooLargeError(limit)
        try:
            out = bytes(cramjam.snappy.decompress(body))
        except Exception as exc:  # cramjam raises its own DecompressionError
            raise DecodeError(f"body is not valid snappy framed data: {exc}") from None
        if len(out) > limit:
            raise BodyTooLargeError(limit)
        return out
    raise UnsupportedError(f"unsupported Content-Encoding {encoding!r}; accepted: gzip, snappy")


def _snappy_framed_size(body: bytes) -> int:
    """The uncompressed size the chunks of a snappy stream declare (0 where unreadable)."""
    total, i, n = 0, 0, len(body)
    while i + 4 <= n:
        kind = body[i]
        length = int.from_bytes(body[i + 1:i + 4], "little")
        chunk = body[i + 4:i + 4 + length]
        if kind == 0x01:  # uncompressed: a 4-byte checksum, then the data
            total += max(length - 4, 0)
        elif kind == 0x00:  # compressed: a checksum, then a block led by its varint length
            size = shift = 0
            for b in chunk[4:9]:  # 5 bytes: a block's length is a 32-bit varint
                size |= (b & 0x7F) << shift
                shift += 7
                if b < 0x80:
                    break
            total += size
        i += 4 + length
    return total


def _body_format(content_type: str | None) -> str:
    """``"text"`` or ``"protobuf"``, or raise UnsupportedError for protobuf we cannot read.

    As in the Pushgateway, only the exact delimited MetricFamily media type is
    protobuf and anything else is read as text.
    """
    media, _, params = (content_type or "").partition(";")
    if media.strip().lower() != PROTOBUF_MEDIA_TYPE:
        return "text"
    p = dict(
        (k.strip().lower(), v.strip().strip('"'))
        for k, _, v in (item.partition("=") for item in params.split(";"))
    )
    if p.get("proto") == "io.prometheus.client.MetricFamily" and p.get("encoding") == "delimited":
        return "protobuf"
    raise UnsupportedError(
        f"unsupported protobuf Content-Type {content_type!r}: only "
        "'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
        "encoding=delimited' or the text format 0.0.4 can be pushed"
    )


def _families_from_body(body: bytes, fmt: str, key: GroupingKey, now: float) -> dict[str, PushedFamily]:
    """Parse and check a body; DecodeError for bad bytes, ValidationError for a refused push."""
    if fmt == "protobuf":
        samples, metadata = parse_delimited(body)
        return group_families(samples, metadata, key, now, keep_empty=True)
    if body and not body.endswith(b"\n"):
        # The Pushgateway's parser needs a newline after every line, and it is
        # the only sign that a text body was not cut short in transit.
        last = body.count(b"\n") + 1
        raise DecodeError(
            f"line {last}: the body does not end with a newline "
            "(every line, the last one too, must end with \\n; the body may be truncated)"
        )
    # Strict: the real Pushgateway parses with expfmt, which refuses what
    # Prometheus' lenient scraper accepts (bad escapes, a second TYPE...).
    parsed = parse(body, Format.TEXT_004, default_timestamp_ms=_NO_TIMESTAMP, strict=True)
    batch = parsed.batch
    ts = batch.timestamps
    bad = (ts != _NO_TIMESTAMP).nonzero()[0]
    if len(bad):
        i = int(bad[0])
        raise ValidationError(
            f"pushed metrics must not have timestamps: sample {format_labels(batch.series[i])} "
            f"has timestamp {int(ts[i])} (the time of a pushed sample is the time it is read)"
        )
    return group_families(list(zip(batch.series, batch.values.tolist(), strict=True)), parsed.metadata, key, now)


def _key_of(request: Request, job_base64: bool) -> GroupingKey:
    job, _, rest = str(request.path_params.get("path", "")).partition("/")
    return parse_grouping_key(job, rest, job_base64)


def _counted(
    handler: Callable[[Request], Awaitable[Response]], metrics: IngestMetrics | None
) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        resp = await handler(request)
        if metrics is not None and resp.status_code >= 400:
            metrics.failed_requests.inc(1, "pushgateway", str(resp.status_code))
        return resp

    return handle


def _push_handler(
    registry: PushRegistry, limits: PushLimits, replace: bool, job_base64: bool, metrics: IngestMetrics | None
) -> Callable[[Request], Awaitable[Response]]:
    method = "PUT" if replace else "POST"

    async def handle(request: Request) -> Response:
        try:
            key = _key_of(request, job_base64)
        except PathError as exc:
            return text_error(400, str(exc))
        try:
            fmt = _body_format(request.headers.get("content-type"))
        except UnsupportedError as exc:
            return text_error(415, str(exc))
        try:
            body = _decode_body(
                await read_body(request, limits.max_body_bytes),
                request.headers.get("content-encoding"),
                limits.max_decoded_bytes,
            )
        except BodyTooLargeError as exc:
            return text_error(413, str(exc))
        except UnsupportedError as exc:
            return text_error(415, str(exc))
        except DecodeError as exc:
            return text_error(400, str(exc))
        try:
            now = registry.clock()
            families = _families_from_body(body, fmt, key, now)
        except UnsupportedError as exc:
            return text_error(400, f"cannot store the pushed metrics: {exc}")
        except DecodeError as exc:
            # As in the Pushgateway, a body that does not parse never reaches
            # the group, so it does not set push_failure_time_seconds.
            what = "text format" if fmt == "text" else "protobuf MetricFamily stream"
            return text_error(400, f"cannot parse the pushed {what}: {exc}")
        except ValidationError as exc:
            registry.fail(key, now)
            return _refused(request, method, key, exc)
        try:
            registry.push(key, families, replace=replace, now=now)
        except ValidationError as exc:
            return _refused(request, method, key, exc)
        if metrics is not None:
            metrics.samples.inc(sum(len(f.samples) for f in families.values()), "pushgateway")
        return Response(status_code=200)

    return handle


def _refused(request: Request, method: str, key: GroupingKey, exc: Exception) -> Response:
    msg = f"pushed metrics are invalid or inconsistent with existing metrics: {exc}"
    log.error("pushgateway: %s to group %s from %s refused: %s", method, dict(key),
              request.client.host if request.client else "?", exc)
    return text_error(400, msg)


def _delete_handler(registry: PushRegistry, job_base64: bool) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        try:
            key = _key_of(request, job_base64)
        except PathError as exc:
            return text_error(400, str(exc))
        registry.delete(key)
        return Response(status_code=202)

    return handle


# -- the read API ------------------------------------------------------------

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Cache-Control": "no-cache, no-store, must-revalidate",
}


def _rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _api_labels(group: Group, labels: tuple[tuple[str, str], ...]) -> dict[str, str]:
    # The Pushgateway shows the grouping labels (empty ones too) and an
    # instance label on every metric, empty when none was pushed.
    out = {k: v for k, v in labels if k != METRIC_NAME}
    out.update(group.key)
    out.setdefault("instance", "")
    return out


def _api_family(group: Group, fam: PushedFamily) -> dict[str, Any]:
    metrics: list[dict[str, Any]] = []
    if fam.type in ("summary", "histogram"):
        # As the Pushgateway lists its protobuf messages: every metric has a
        # sum, a count and its quantiles or buckets (only those pushed).
        inner, parts = ("quantile", "quantiles") if fam.type == "summary" else ("le", "buckets")
        by_base: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
        for labels, value in fam.samples:
            d = dict(labels)
            base = tuple(p for p in labels if p[0] not in (METRIC_NAME, inner))
            m = by_base.setdefault(
                base, {"labels": _api_labels(group, base), parts: {}, "sum": "0", "count": "0"}
            )
            name = d[METRIC_NAME]
            if name == fam.name + "_sum":
                m["sum"] = format_go_float(value)
            elif name == fam.name + "_count":
                m["count"] = format_go_float(value)
            elif inner in d:
                m[parts][format_go_float(float(d[inner]))] = format_go_float(value)
        metrics = list(by_base.values())
    else:
        metrics = [{"labels": _api_labels(group, lbls), "value": format_go_float(v)} for lbls, v in fam.samples]
    out: dict[str, Any] = {
        "time_stamp": _rfc3339(fam.pushed_at),
        "type": "UNTYPED" if fam.type == "unknown" else fam.type.upper(),
        "metrics": metrics,
    }
    if fam.help:
        out["help"] = fam.help
    return out


def _metrics_api(registry: PushRegistry) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        data = []
        for group in registry.groups():
            entry: dict[str, Any] = {
                "labels": dict(group.key),
                "last_push_successful": group.last_push_successful,
            }
            for fam in group.all_families():
                entry[fam.name] = _api_family(group, fam)
            data.append(entry)
        return JSONResponse({"status": "success", "data": data}, headers=_CORS)

    return handle


def _status_api(registry: PushRegistry, limits: PushLimits) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "success",
                "data": {
                    "build_information": {"version": __version__, "program": "kubesight"},
                    "flags": {
                        "persistence.file": str(registry.directory or ""),
                        "push.disable-consistency-check": "false",
                        "push.max-body-bytes": str(limits.max_body_bytes),
                    },
                    "start_time": _rfc3339(registry.started),
                },
            },
            headers=_CORS,
        )

    return handle


def routes(
    registry: PushRegistry, limits: PushLimits | None = None, metrics: IngestMetrics | None = None
) -> list[Route]:
    """The push API and the Pushgateway's read API, for the server to mount at its root.

    With ``metrics``, accepted samples and failed requests are counted under
    ``protocol="pushgateway"`` in kubesight's own ingest metrics.
    """
    limits = limits or PushLimits()
    out: list[Route] = []
    for prefix, b64 in (("/metrics/job", False), ("/metrics/job" + BASE64_SUFFIX, True)):
        put = _counted(_push_handler(registry, limits, True, b64, metrics), metrics)
        post = _counted(_push_handler(registry, limits, False, b64, metrics), metrics)
        delete = _counted(_delete_handler(registry, b64), metrics)

        async def dispatch(
            request: Request,
            put: Callable[[Request], Awaitable[Response]] = put,
            post: Callable[[Request], Awaitable[Response]] = post,
            delete: Callable[[Request], Awaitable[Response]] = delete,
        ) -> Response:
            handler = {"PUT": put, "POST": post, "DELETE": delete}[request.method]
            return await handler(request)

        methods = ["PUT", "POST", "DELETE"]
        # '/metrics/job' and '/metrics/job/' with no job answer 400 (not 404)
        # so a script with an empty variable learns why.
        out.append(Route(prefix, dispatch, methods=methods))
        out.append(Route(prefix + "/{path:path}", dispatch, methods=methods))
    out.append(Route("/api/v1/metrics", _metrics_api(registry), methods=["GET"]))
    out.append(Route("/api/v1/status", _status_api(registry, limits), methods=["GET"]))
    return out
