"""The HTTP client settings of a monitor's endpoint -> a job's, with credentials read from Secrets.

Part of :mod:`monitors`: the Operator inlines Secret values into the job
(``basic_auth``, ``bearer_token``, ``authorization.credentials``); TLS
material it writes to files in the Prometheus pod, which kubesight does not do
yet, so such endpoints are skipped (:class:`UnsupportedError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Obj = dict[str, Any]
# Secret data already base64-decoded, keyed "<namespace>/<name>".
Secrets = Mapping[str, Mapping[str, str]]


class RejectedError(Exception):
    """The whole monitor is invalid, as the Operator would reject it."""


class UnsupportedError(Exception):
    """kubesight cannot scrape this endpoint as configured; the monitor's others still count."""


def secret_refs(ep: Obj) -> list[Obj]:
    refs = [ep.get("bearerTokenSecret"), (ep.get("authorization") or {}).get("credentials")]
    basic = ep.get("basicAuth") or {}
    refs += [basic.get("username"), basic.get("password")]
    return [r for r in refs if isinstance(r, dict)]


def _secret(secrets: Secrets, ns: str, ref: Obj, field: str) -> str:
    name, key = ref.get("name", ""), ref.get("key", "")
    data = secrets.get(f"{ns}/{name}")
    if data is None or key not in data:
        if ref.get("optional"):
            return ""
        # The Operator rejects a monitor whose Secret reference cannot be resolved.
        raise RejectedError(f"{field}: key {key!r} of secret {ns}/{name} not found")
    return data[key]


def http_settings(ep: Obj, ns: str, secrets: Secrets) -> Obj:
    out: Obj = {}
    for src, dst in (("followRedirects", "follow_redirects"), ("enableHttp2", "enable_http2")):
        if ep.get(src) is not None:
            out[dst] = bool(ep[src])
    for unsupported in ("proxyUrl", "proxyConfig", "oauth2"):
        if ep.get(unsupported):
            raise UnsupportedError(f"{unsupported} is not supported by kubesight's scraper yet")
    tls = ep.get("tlsConfig")
    if tls is not None:
        out["tls_config"] = _tls(tls)
    if ep.get("bearerTokenFile"):
        out["bearer_token_file"] = ep["bearerTokenFile"]
    token = ep.get("bearerTokenSecret")
    if isinstance(token, dict) and token.get("name"):
        out["bearer_token"] = _secret(secrets, ns, token, "bearerTokenSecret")
    basic = ep.get("basicAuth")
    if basic is not None:
        out["basic_auth"] = {
            "username": _secret(secrets, ns, basic.get("username") or {}, "basicAuth.username"),
            "password": _secret(secrets, ns, basic.get("password") or {}, "basicAuth.password")}
    auth = ep.get("authorization")
    if auth is not None:
        a: Obj = {"type": str(auth.get("type") or "Bearer").strip()}
        if auth.get("credentials") is not None:
            a["credentials"] = _secret(secrets, ns, auth["credentials"], "authorization.credentials")
        if auth.get("credentialsFile"):
            a["credentials_file"] = auth["credentialsFile"]
        out["authorization"] = a
    return out


def _tls(tls: Obj) -> Obj:
    for ref in ("ca", "cert"):
        if tls.get(ref):
            raise UnsupportedError(f"tlsConfig.{ref} from a Secret or ConfigMap is not supported yet "
                               "(use caFile/certFile/keyFile)")
    if tls.get("keySecret"):
        raise UnsupportedError("tlsConfig.keySecret is not supported yet (use keyFile)")
    out: Obj = {}
    if tls.get("insecureSkipVerify") is not None:
        out["insecure_skip_verify"] = bool(tls["insecureSkipVerify"])
    if tls.get("serverName"):
        out["server_name"] = tls["serverName"]
    for src, dst in (("minVersion", "min_version"), ("maxVersion", "max_version"),
                     ("caFile", "ca_file"), ("certFile", "cert_file"), ("keyFile", "key_file")):
        if tls.get(src):
            out[dst] = tls[src]
    return out
