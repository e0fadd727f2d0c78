"""The subset of Prometheus' HTTP client config that discovery supports.

basic_auth (username, password, password_file), authorization (type,
credentials, credentials_file), bearer_token(_file) (the older spelling of
authorization), tls_config (ca_file, cert_file, key_file,
insecure_skip_verify) and follow_redirects. Secrets in files are read on every
request, as Prometheus does, so a rotated token is picked up without a reload.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kubesight.errors import ConfigError

# Prometheus HTTP client keys kubesight cannot honour yet: refused by name rather
# than silently ignored, since each changes where or how requests go.
UNSUPPORTED_HTTP_KEYS = frozenset({
    "oauth2", "proxy_url", "no_proxy", "proxy_from_environment", "proxy_connect_header",
})
HTTP_CLIENT_KEYS = frozenset({
    "basic_auth", "authorization", "bearer_token", "bearer_token_file", "tls_config",
    "follow_redirects",
    # Accepted and moot: requests go over HTTP/1.1 either way, with the same meaning.
    "enable_http2",
}) | UNSUPPORTED_HTTP_KEYS
_TLS_KEYS = frozenset({"ca_file", "cert_file", "key_file", "insecure_skip_verify"})


@dataclass(frozen=True)
class HTTPClientConfig:
    username: str | None = None
    password: str | None = None
    password_file: Path | None = None
    auth_type: str | None = None
    credentials: str | None = None
    credentials_file: Path | None = None
    ca_file: Path | None = None
    ca_data: str | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure_skip_verify: bool = False
    follow_redirects: bool = True

    def is_default(self) -> bool:
        return self == HTTPClientConfig()

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if self.ca_file is not None or self.ca_data is not None:
            ctx = ssl.create_default_context(
                cafile=str(self.ca_file) if self.ca_file else None, cadata=self.ca_data)
        if self.cert_file is not None and self.key_file is not None:
            ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        if self.insecure_skip_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def client(self, timeout: float, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            auth=_FileAwareAuth(self._authorization),
            verify=self.ssl_context(),
            follow_redirects=self.follow_redirects,
            timeout=httpx.Timeout(timeout),
            headers=headers,
            trust_env=False,  # never route discovery through a proxy from the environment
        )

    def _authorization(self) -> str | None:
        if self.username is not None:
            password = self.password or ""
            if self.password_file is not None:
                password = self.password_file.read_text().strip()
            raw = f"{self.username}:{password}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        if self.auth_type is not None:
            credentials = self.credentials or ""
            if self.credentials_file is not None:
                credentials = self.credentials_file.read_text().strip()
            return f"{self.auth_type} {credentials}"
        return None


class _FileAwareAuth(httpx.Auth):
    def __init__(self, header: Callable[[], str | None]) -> None:
        self._header = header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        value = self._header()
        if value is not None:
            request.headers["Authorization"] = value
        yield request


def parse_http_client_config(raw: dict[str, Any], where: str, base_dir: Path) -> HTTPClientConfig:
    """Read the HTTP client keys of one SD entry; ``where`` prefixes every error."""

    def path(v: Any, field: str) -> Path:
        if not isinstance(v, str) or not v:
            raise ConfigError(f"{where}.{field}: expected a file path, got {v!r}")
        p = Path(v)
        return p if p.is_absolute() else base_dir / p

    def string(v: Any, field: str) -> str:
        if not isinstance(v, str):
            raise ConfigError(f"{where}.{field}: expected a string, got {v!r}")
        return v

    def section(key: str, allowed: frozenset[str]) -> dict[str, Any]:
        sec = raw.get(key)
        if sec is None:
            return {}
        if not isinstance(sec, dict):
            raise ConfigError(f"{where}.{key}: expected a map, got {sec!r}")
        for k in sec:
            if k not in allowed:
                raise ConfigError(
                    f"{where}.{key}.{k}: not supported (supported: {', '.join(sorted(allowed))})")
        return sec

    for key in sorted(UNSUPPORTED_HTTP_KEYS & raw.keys()):
        raise ConfigError(f"{where}.{key}: not supported by kubesight (supported: basic_auth, "
                          "authorization, bearer_token, bearer_token_file, tls_config, "
                          "follow_redirects)")
    if not isinstance(raw.get("enable_http2", True), bool):
        raise ConfigError(f"{where}.enable_http2: expected true or false")
    kw: dict[str, Any] = {}
    basic = section("basic_auth", frozenset({"username", "password", "password_file"}))
    authz = section("authorization", frozenset({"type", "credentials", "credentials_file"}))
    tls = section("tls_config", _TLS_KEYS)
    bearer = raw.get("bearer_token")
    bearer_file = raw.get("bearer_token_file")
    # Prometheus: "at most one of basic_auth, oauth2, bearer_token & bearer_token_file".
    used = [k for k, v in (("basic_auth", basic), ("authorization", authz),
                           ("bearer_token", bearer), ("bearer_token_file", bearer_file)) if v]
    if len(used) > 1:
        raise ConfigError(f"{where}: at most one of {', '.join(used)} must be configured")
    if basic:
        kw["username"] = string(basic.get("username", ""), "basic_auth.username")
        if "password" in basic and "password_file" in basic:
            raise ConfigError(f"{where}.basic_auth: at most one of password & password_file must be configured")
        if "password" in basic:
            kw["password"] = string(basic["password"], "basic_auth.password")
        if "password_file" in basic:
            kw["password_file"] = path(basic["password_file"], "basic_auth.password_file")
    if authz:
        auth_type = string(authz.get("type", "Bearer"), "authorization.type")
        if auth_type.lower() == "basic":
            raise ConfigError(f"{where}.authorization.type: authorization type cannot be set to \"basic\", use \"basic_auth\" instead")
        if "credentials" in authz and "credentials_file" in authz:
            raise ConfigError(f"{where}.authorization: at most one of credentials & credentials_file must be configured")
        kw["auth_type"] = auth_type
        if "credentials" in authz:
            kw["credentials"] = string(authz["credentials"], "authorization.credentials")
        if "credentials_file" in authz:
            kw["credentials_file"] = path(authz["credentials_file"], "authorization.credentials_file")
    if bearer:
        kw["auth_type"] = "Bearer"
        kw["credentials"] = string(bearer, "bearer_token")
    if bearer_file:
        kw["auth_type"] = "Bearer"
        kw["credentials_file"] = path(bearer_file, "bearer_token_file")
    for key in ("ca_file", "cert_file", "key_file"):
        if key in tls:
            kw[key] = path(tls[key], f"tls_config.{key}")
    if ("cert_file" in tls) != ("key_file" in tls):
        raise ConfigError(f"{where}.tls_config: cert_file and key_file must both be set")
    if "insecure_skip_verify" in tls:
        if not isinstance(tls["insecure_skip_verify"], bool):
            raise ConfigError(f"{where}.tls_config.insecure_skip_verify: expected true or false")
        kw["insecure_skip_verify"] = tls["insecure_skip_verify"]
    if "follow_redirects" in raw:
        if not isinstance(raw["follow_redirects"], bool):
            raise ConfigError(f"{where}.follow_redirects: expected true or false, got {raw['follow_redirects']!r}")
        kw["follow_redirects"] = raw["follow_redirects"]
    return HTTPClientConfig(**kw)
