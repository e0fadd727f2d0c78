"""The Alertmanager v2 API served by build_app: JSON shapes, filters, silences, errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kubesight.api.alertmanager import parse_time
from kubesight.errors import ValidationError
from kubesight.notify.config import load_dict
from kubesight.notify.notifier import Notifier
from tests.notify.helpers import serve_notifier

CONFIG = """
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: [team="db"]
      receiver: db
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
receivers: [{name: default}, {name: db}]
"""


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.fixture
def am(tmp_path: Path) -> Iterator[tuple[str, Notifier]]:
    n = Notifier(load_dict(yaml.safe_load(CONFIG)), tmp_path / "notify")
    with serve_notifier(n, tmp_path / "data") as url:
        yield url, n


def post(url: str, alerts: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(f"{url}/api/v2/alerts", json=alerts)


def test_alert_shapes_states_and_filters(am: tuple[str, Notifier]) -> None:
    url, _ = am
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    r = post(url, [
        {"labels": {"alertname": "A", "severity": "critical"}, "annotations": {"s": "x"},
         "startsAt": iso(start), "generatorURL": "http://prom/graph"},
        {"labels": {"alertname": "A", "severity": "warning", "team": "db"}},
        {"labels": {"alertname": "Gone"}, "startsAt": iso(start), "endsAt": iso(start + timedelta(seconds=1))},
    ])
    assert r.status_code == 200
    alerts = httpx.get(f"{url}/api/v2/alerts").json()
    assert [a["fingerprint"] for a in alerts] == sorted(a["fingerprint"] for a in alerts)
    by = {a["labels"]["severity"]: a for a in alerts}
    assert set(by) == {"critical", "warning"}  # the resolved one is not listed
    crit, warn = by["critical"], by["warning"]
    assert set(crit) == {"annotations", "endsAt", "fingerprint", "receivers", "startsAt", "status",
                         "updatedAt", "generatorURL", "labels"}
    assert crit["startsAt"] == iso(start) and crit["generatorURL"] == "http://prom/graph"
    assert crit["receivers"] == [{"name": "default"}] and warn["receivers"] == [{"name": "db"}]
    assert crit["status"] == {"inhibitedBy": [], "silencedBy": [], "state": "active"}
    assert warn["status"]["state"] == "suppressed"
    assert warn["status"]["inhibitedBy"] == [crit["fingerprint"]]
    assert len(crit["fingerprint"]) == 16

    def q(**params: Any) -> list[str]:
        r = httpx.get(f"{url}/api/v2/alerts", params=params)
        assert r.status_code == 200, r.text
        return sorted(a["labels"]["severity"] for a in r.json())

    assert q(inhibited="false") == ["critical"]
    assert q(active="false") == ["warning"]
    assert q(receiver="d.") == ["warning"]
    assert q(filter=['severity=~"crit.*"']) == ["critical"]
    assert q(filter=["team!=db", "alertname=A"]) == ["critical"]

    groups = httpx.get(f"{url}/api/v2/alerts/groups").json()
    assert [(g["labels"], g["receiver"], len(g["alerts"])) for g in groups] == [
        ({"alertname": "A"}, {"name": "db"}, 1), ({"alertname": "A"}, {"name": "default"}, 1)]


def test_bad_requests_say_what(am: tuple[str, Notifier]) -> None:
    url, _ = am
    r = post(url, [{"labels": {}}])
    assert (r.status_code, r.json()) == (400, "at least one label pair required: {}")
    r = post(url, [{"labels": {"a": "b"}, "startsAt": "yesterday"}])
    assert r.status_code == 400 and "alerts[0].startsAt" in r.json()
    assert httpx.post(f"{url}/api/v2/alerts", content=b"{").status_code == 400
    r = httpx.get(f"{url}/api/v2/alerts", params={"filter": 'a="b'})
    assert r.status_code == 400 and "unescaped double quote" in r.json()
    assert httpx.get(f"{url}/api/v2/alerts", params={"active": "maybe"}).status_code == 400


def test_silence_lifecycle(am: tuple[str, Notifier]) -> None:
    url, n = am
    now = datetime.now(UTC)
    body = {"matchers": [{"name": "alertname", "value": "A", "isRegex": False, "isEqual": True}],
            "startsAt": iso(now), "endsAt": iso(now + timedelta(hours=1)),
            "createdBy": "me", "comment": "maintenance"}
    r = httpx.post(f"{url}/api/v2/silences", json=body)
    assert r.status_code == 200
    sid = r.json()["silenceID"]
    s = httpx.get(f"{url}/api/v2/silence/{sid}").json()
    assert set(s) == {"id", "status", "updatedAt", "comment", "createdBy", "endsAt", "matchers", "startsAt"}
    assert s["status"] == {"state": "active"} and s["matchers"] == body["matchers"]
    post(url, [{"labels": {"alertname": "A"}}])
    assert httpx.get(f"{url}/api/v2/alerts").json()[0]["status"]["silencedBy"] == [sid]
    # Updating only the end keeps the ID; changing matchers replaces the silence.
    r = httpx.post(f"{url}/api/v2/silences", json={**body, "id": sid, "startsAt": s["startsAt"],
                                                     "endsAt": iso(now + timedelta(hours=2))})
    assert r.json()["silenceID"] == sid
    r = httpx.post(f"{url}/api/v2/silences", json={**body, "id": sid, "matchers": [
        {"name": "alertname", "value": "B", "isRegex": False, "isEqual": True}]})
    new = r.json()["silenceID"]
    assert new != sid
    assert httpx.get(f"{url}/api/v2/silence/{sid}").json()["status"]["state"] == "expired"
    states = [(x["id"], x["status"]["state"]) for x in httpx.get(f"{url}/api/v2/silences").json()]
    assert states == [(new, "active"), (sid, "expired")]
    assert [x["id"] for x in httpx.get(f"{url}/api/v2/silences", params={"filter": "alertname=B"}).json()] == [new]
    assert httpx.delete(f"{url}/api/v2/silence/{new}").status_code == 200
    assert httpx.delete(f"{url}/api/v2/silence/{new}").status_code == 500  # already expired
    assert httpx.delete(f"{url}/api/v2/silence/nope").status_code == 404
    assert httpx.get(f"{url}/api/v2/silence/nope").status_code == 404
    bad = httpx.post(f"{url}/api/v2/silences", json={**body, "endsAt": iso(now - timedelta(hours=1)),
                                                        "startsAt": iso(now - timedelta(hours=2))})
    assert (bad.status_code, bad.json()) == (400, "Failed to create silence: end time can't be in the past")
    empty = httpx.post(f"{url}/api/v2/silences", json={**body, "matchers": [
        {"name": "a", "value": ".*", "isRegex": True, "isEqual": True}]})
    assert empty.status_code == 400 and "must not match the empty string" in empty.json()
    assert httpx.post(f"{url}/api/v2/silences", json={**body, "id": "nope"}).status_code == 404
    assert len(n.silences.all()) == 2


def test_counters_on_the_apps_metrics(tmp_path: Path) -> None:
    from kubesight.model.instrument import Registry

    reg = Registry()
    n = Notifier(load_dict(yaml.safe_load(CONFIG)), None, registry=reg)
    with serve_notifier(n, tmp_path / "data", reg) as url:
        post(url, [{"labels": {"alertname": "A"}}, {"labels": {"": "x"}}])
        text = httpx.get(f"{url}/metrics").text
    assert 'alertmanager_alerts_received_total{status="firing"} 1' in text
    assert "alertmanager_alerts_invalid_total 1" in text
    assert "# TYPE alertmanager_notifications_total counter" in text
    assert 'alertmanager_alerts{state="active"} 1' in text
    assert 'alertmanager_silences{state="active"} 0' in text


def test_status_and_receivers(am: tuple[str, Notifier]) -> None:
    url, _ = am
    st = httpx.get(f"{url}/api/v2/status").json()
    assert st["cluster"] == {"name": "", "peers": [], "status": "disabled"}
    assert yaml.safe_load(st["config"]["original"])["route"]["receiver"] == "default"
    assert set(st["versionInfo"]) == {"branch", "buildDate", "buildUser", "goVersion", "revision", "version"}
    assert httpx.get(f"{url}/api/v2/receivers").json() == [{"name": "default"}, {"name": "db"}]


@pytest.mark.parametrize(("text", "expected"), [
    ("2023-11-14T22:13:20Z", 1_700_000_000.0),
    ("2023-11-14T22:13:20.123456789Z", 1_700_000_000.123456),
    ("2023-11-15T00:13:20.5+02:00", 1_700_000_000.5),
    ("0001-01-01T00:00:00Z", 0.0),
    ("", 0.0),
])
def test_parse_time(text: str, expected: float) -> None:
    assert parse_time(text, "t") == pytest.approx(expected)


def test_parse_time_refuses_garbage() -> None:
    with pytest.raises(ValidationError, match="startsAt"):
        parse_time("2023-11-14 nope", "startsAt")
