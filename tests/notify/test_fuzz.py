"""Bad input gets a clear error, never a crash: matchers, configs and API bodies from Hypothesis."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from kubesight.api.alertmanager import routes
from kubesight.errors import ConfigError, ValidationError
from kubesight.notify import Notifier, default_config
from kubesight.notify.config import load_dict
from kubesight.notify.labels import parse_matchers

_text = st.text(alphabet=st.sampled_from(list('ab=!~"\\,{} .*()[]x\n')), max_size=30)
_json: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_keys = st.sampled_from(["route", "receivers", "global", "inhibit_rules", "time_intervals", "receiver",
                         "group_by", "matchers", "routes", "name", "webhook_configs", "url",
                         "group_wait", "continue", "equal", "times", "weekdays"])
_config: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | _text | st.just("5m") | st.just("..."),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=16,
)


@given(_text)
@settings(max_examples=300, deadline=None)
def test_matcher_parsing_never_crashes(text: str) -> None:
    try:
        for m in parse_matchers(text):
            m.matches("x")
    except ValidationError:
        pass


@given(_config)
@settings(max_examples=300, deadline=None)
def test_config_loading_never_crashes(raw: Any) -> None:
    try:
        load_dict(raw)
    except ConfigError as exc:
        assert str(exc).startswith("alertmanager: ")


def test_api_bodies_never_crash() -> None:
    n = Notifier(default_config())
    client = TestClient(Starlette(routes=routes(n)))

    @given(_json)
    @settings(max_examples=200, deadline=None)
    def post(body: Any) -> None:
        for path in ("/api/v2/alerts", "/api/v2/silences"):
            r = client.post(path, json=body)
            assert r.status_code in (200, 400, 404), (path, body, r.text)

    post()
