"""The status pages as a person sees them in chromium: targets, service discovery, rules, alerts,
silences, TSDB status, configuration and flags, checked against the APIs they read."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import peers
from tests.conftest import Server, free_port, start_server

RULES = """\
groups:
- name: demo-alerts
  interval: 1s
  rules:
  - alert: AlwaysFiring
    expr: vector(1)
    for: 0s
    labels: {severity: warning}
    annotations: {summary: "Always firing", description: "It fires forever, for the tests."}
  - alert: SlowPending
    expr: vector(2)
    for: 1h
    labels: {severity: critical}
    annotations: {summary: "Pending for an hour"}
  - alert: NeverFires
    expr: vector(1) == 0
- name: broken
  interval: 1s
  rules:
  - record: broken:many_to_one
    expr: (label_replace(vector(1), "a", "1", "", "") or label_replace(vector(1), "a", "2", "", "")) * on() vector(1)
"""
MANY = 130


def _wait(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen within {timeout}s")


@pytest.fixture(scope="module")
def status_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, int]]:
    """A server of our own: a target on a closed port, a pool whose targets are all dropped,
    one always-firing and one pending alert, and no default rules (so the counts are ours)."""
    root = tmp_path_factory.mktemp("status")
    closed = free_port()  # bound and released: nothing listens there
    port = free_port()
    # MANY targets in one pool (the server itself, told apart by a label): the page caps long tables
    many = "".join(f'  - {{targets: ["127.0.0.1:{port}"], labels: {{idx: "{i}"}}}}\n' for i in range(MANY))
    (root / "rules.yml").write_text(RULES)
    cfg = root / "kubesight.yml"
    cfg.write_text(f"""\
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [rules.yml]
scrape_configs:
- job_name: closed
  static_configs: [{{targets: ["127.0.0.1:{closed}"], labels: {{team: a}}}}]
- job_name: dropme
  static_configs: [{{targets: ["127.0.0.1:{closed}"], labels: {{team: drop}}}}]
  relabel_configs: [{{source_labels: [team], regex: drop, action: drop}}]
- job_name: many
  scrape_interval: 10m  # the page only counts them: keep the server quiet
  static_configs:
{many}""")
    srv = start_server(root / "data", "--config", str(cfg), "--no-rules.defaults", port=port)
    try:
        def ready() -> bool:
            t = httpx.get(f"{srv.url}/api/v1/targets").json()["data"]["activeTargets"]
            a = httpx.get(f"{srv.url}/api/v2/alerts").json()
            return any(x["health"] == "down" and x["lastError"] for x in t) and \
                any(x["labels"]["alertname"] == "AlwaysFiring" for x in a)
        _wait(ready, "the closed target going down and AlwaysFiring reaching the Alertmanager")
        yield srv, closed
    finally:
        srv.stop()


@pytest.fixture(autouse=True)
def _patient(page: Any) -> None:
    # These tests share 2 cores with the servers they start: waits are generous, never asserted on.
    page.set_default_timeout(30_000)


def _allow_failed_requests(request: pytest.FixtureRequest, console: list[str]) -> Callable[[], None]:
    """API errors the test provokes make chromium log "Failed to load resource"; nothing else may be logged."""
    request.node.allow_console_errors = True

    def check() -> None:
        others = [c for c in console if "Failed to load resource" not in c]
        assert not others, "the page logged errors:\n" + "\n".join(others)
    return check


# ---- targets ----------------------------------------------------------------

def test_targets_self_scrape(ui_server: Server, page: Any, shot: Callable[[Any, str], Path]) -> None:
    page.goto(f"{ui_server.url}/targets")
    pool = page.locator(".ks-pool[data-pool='kubesight']")
    pool.locator(".ks-target-row").first.wait_for()
    api = httpx.get(f"{ui_server.url}/api/v1/targets", params={"state": "active"}).json()["data"]["activeTargets"]
    assert page.locator(".ks-target-row").count() == len(api)
    row = pool.locator(".ks-target-row").first
    assert row.locator(".ks-badge").inner_text() == "UP"
    assert row.locator(".ks-label", has_text='job="kubesight"').count() == 1
    mine = next(t for t in api if t["scrapePool"] == "kubesight")
    assert row.locator("a").first.inner_text() == mine["scrapeUrl"]
    # the pool's count is up / total
    up = sum(1 for t in api if t["scrapePool"] == "kubesight" and t["health"] == "up")
    total = sum(1 for t in api if t["scrapePool"] == "kubesight")
    assert pool.locator(".ks-pool-count").inner_text() == f"{up} / {total} up"
    # discovered labels on demand
    detail = pool.locator(".ks-detail-row").first
    assert not detail.is_visible()
    row.locator("[data-action=discovered]").click()
    assert detail.is_visible() and "__address__=" in detail.inner_text()
    # the pool collapses
    pool.locator("summary").click()
    assert not row.is_visible()
    pool.locator("summary").click()
    assert row.is_visible()
    shot(page, "targets")


def test_targets_down_with_error_and_health_filter(status_server: tuple[Server, int], page: Any,
                                                   shot: Callable[[Any, str], Path]) -> None:
    srv, port = status_server
    page.goto(f"{srv.url}/targets")
    down = page.locator(".ks-pool[data-pool='closed'] .ks-target-row")
    down.first.wait_for()
    api = httpx.get(f"{srv.url}/api/v1/targets").json()["data"]["activeTargets"]
    t = next(x for x in api if x["scrapePool"] == "closed")
    assert t["health"] == "down"
    assert down.locator(".ks-badge").inner_text() == "DOWN"
    err = down.locator("td.ks-err").inner_text()
    assert f"127.0.0.1:{port}" in err and "refused" in err
    assert page.locator(".ks-seg[aria-label=health] [data-value=down] .ks-count").inner_text() == "1"
    shot(page, "targets-down")
    page.click(".ks-seg[aria-label=health] [data-value=up]")
    assert page.locator(".ks-pool[data-pool='closed']").count() == 0
    assert page.locator(".ks-target-row[data-health=down]").count() == 0
    assert "health=up" in page.url
    page.fill(".ks-search", f":{port}")
    page.locator(".ks-empty", has_text="No targets match").wait_for()
    page.fill(".ks-search", "")
    page.click(".ks-seg[aria-label=health] [data-value=down]")
    assert page.locator(".ks-target-row[data-health=down]").count() == 1
    page.click(".ks-seg[aria-label=health] [data-value=all]")
    page.fill(".ks-search", "team=\"b\"")
    page.locator(".ks-empty").wait_for()
    page.fill(".ks-search", f":{port}")
    page.wait_for_function("() => document.querySelectorAll('.ks-target-row').length === 1")
    page.fill(".ks-search", "")
    page.wait_for_function("() => !location.search.includes('search=')")
    page.select_option("select.ks-pool-pick", "many")
    assert page.locator(".ks-pool").count() == 1 and "pool=many" in page.url
    assert page.locator(".ks-pool").get_attribute("data-pool") == "many"


def test_targets_long_pool_shows_more_on_demand(status_server: tuple[Server, int], page: Any) -> None:
    srv, _ = status_server
    page.goto(f"{srv.url}/targets")
    pool = page.locator(".ks-pool[data-pool='many']")
    pool.locator(".ks-target-row").first.wait_for()
    api = httpx.get(f"{srv.url}/api/v1/targets", params={"scrapePool": "many"}).json()["data"]["activeTargets"]
    assert len(api) == MANY
    assert pool.locator(".ks-pool-count").inner_text().endswith(f"/ {MANY} up")
    assert pool.locator(".ks-target-row").count() == 100
    more = pool.locator(".ks-more button")
    assert more.inner_text() == f"Show {MANY - 100} more ({MANY - 100} not shown)"
    more.click()
    assert pool.locator(".ks-target-row").count() == MANY
    assert pool.locator(".ks-more").count() == 0
    # the text filter finds a target past the first hundred
    page.fill(".ks-search", f'idx="{MANY - 1}"')
    page.wait_for_function("() => document.querySelectorAll('.ks-target-row').length === 1")


def test_targets_narrow_screen(ui_server: Server, page: Any, shot: Callable[[Any, str], Path]) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{ui_server.url}/targets")
    page.locator(".ks-target-row").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # the wide table scrolls inside its wrapper, not the page
    assert page.evaluate("(() => { const w = document.querySelector('.ks-table-wrap'); return w.scrollWidth > w.clientWidth; })()")
    shot(page, "targets-narrow")


# ---- service discovery ----------------------------------------------------------

def test_service_discovery_discovered_vs_target_labels(status_server: tuple[Server, int], page: Any,
                                                        shot: Callable[[Any, str], Path]) -> None:
    srv, port = status_server
    page.goto(f"{srv.url}/service-discovery")
    closed = page.locator(".ks-pool[data-pool='closed']")
    closed.locator(".ks-sd-row").first.wait_for()
    row = closed.locator(".ks-sd-row").first
    cells = row.locator("td")
    assert cells.nth(0).locator(".ks-label", has_text=f'__address__="127.0.0.1:{port}"').count() == 1
    assert cells.nth(1).locator(".ks-label", has_text=f'instance="127.0.0.1:{port}"').count() == 1
    assert "__address__" not in cells.nth(1).inner_text()
    data = httpx.get(f"{srv.url}/api/v1/targets", params={"state": "any"}).json()["data"]
    dropped = page.locator(".ks-pool[data-pool='dropme']")
    assert dropped.locator(".ks-dropped-count").inner_text() == f"{data['droppedTargetCounts']['dropme']} dropped"
    assert dropped.locator(".ks-active-count").inner_text() == "0 active"
    assert dropped.locator(".ks-sd-row[data-kind=dropped]").count() == \
        sum(1 for d in data["droppedTargets"] if d["scrapePool"] == "dropme")
    assert "DROPPED" in dropped.locator(".ks-sd-row").first.inner_text()
    shot(page, "service-discovery")
    page.click(".ks-seg[aria-label=show] [data-value=dropped]")
    assert page.locator(".ks-sd-row[data-kind=active]").count() == 0
    assert page.locator(".ks-sd-row[data-kind=dropped]").count() >= 1


# ---- rules ------------------------------------------------------------------------

def test_rules_lists_default_groups_with_health(ui_server: Server, page: Any, shot: Callable[[Any, str], Path]) -> None:
    page.goto(f"{ui_server.url}/rules")
    page.locator(".ks-rule-row").first.wait_for()
    groups = httpx.get(f"{ui_server.url}/api/v1/rules").json()["data"]["groups"]
    assert page.locator(".ks-group").count() == len(groups)
    assert page.locator(".ks-rule-row").count() == sum(len(g["rules"]) for g in groups)
    files = {g["file"] for g in groups}
    assert any(f.startswith("defaults/") for f in files)
    first = groups[0]
    sec = page.locator(f".ks-group[data-group='{first['name']}']")
    assert first["file"] in sec.locator("summary").inner_text()
    assert f"interval {first['interval']:g}s" in sec.locator("summary").inner_text()
    ok = sum(1 for g in groups for r in g["rules"] if r["health"] == "ok")
    assert ok > 0
    assert page.locator(".ks-rule-row[data-health=ok] .ks-badge", has_text="OK").count() >= 1
    shot(page, "rules")
    page.click(".ks-seg[aria-label=health] [data-value=err]")
    errs = sum(1 for g in groups for r in g["rules"] if r["health"] == "err")
    assert page.locator(".ks-rule-row").count() == errs
    if not errs:
        assert "No rules match" in page.locator(".ks-empty").inner_text()
    page.click(".ks-seg[aria-label=health] [data-value=all]")
    name = groups[0]["rules"][0]["name"]
    page.fill(".ks-search", name)
    page.wait_for_function("n => [...document.querySelectorAll('.ks-rule-row')].length < n",
                           arg=sum(len(g["rules"]) for g in groups))
    want = sum(1 for g in groups for r in g["rules"]
               if name.lower() in " ".join([r["name"], r["query"], g["name"], g["file"],
                                           " ".join(f'{k}="{v}" {v}' for k, v in (r.get("labels") or {}).items())]).lower())
    assert page.locator(".ks-rule-row").count() == want


def test_rules_failing_rule_shows_its_error(status_server: tuple[Server, int], page: Any) -> None:
    srv, _ = status_server
    _wait(lambda: any(r["health"] == "err" for g in httpx.get(f"{srv.url}/api/v1/rules").json()["data"]["groups"]
                      for r in g["rules"]), "the broken rule failing")
    page.goto(f"{srv.url}/rules?health=err")
    row = page.locator(".ks-rule-row")
    row.first.wait_for()
    assert row.count() == 1
    rule = next(r for g in httpx.get(f"{srv.url}/api/v1/rules").json()["data"]["groups"] for r in g["rules"]
                if r["health"] == "err")
    assert row.get_attribute("data-health") == "err"
    assert row.locator(".ks-rule-error").inner_text() == rule["lastError"]
    assert "record: broken:many_to_one" in row.locator("pre.ks-def").inner_text()
    assert page.locator(".ks-group[data-group=broken] summary .ks-badge").inner_text() == "1 failing"
    seg = page.locator(".ks-seg[aria-label=health] [data-value=err] .ks-count")
    assert seg.inner_text() == "1"


# ---- alerts -----------------------------------------------------------------------

def test_alerts_firing_pending_with_labels_and_annotations(status_server: tuple[Server, int], page: Any,
                                                           shot: Callable[[Any, str], Path]) -> None:
    srv, _ = status_server
    page.goto(f"{srv.url}/alerts")
    page.locator(".ks-alert-rule").first.wait_for()
    seg = page.locator(".ks-seg[aria-label=state]")
    def button(v: str) -> tuple[str, str]:
        b = seg.locator(f"[data-value={v}]")
        count = b.locator(".ks-count").inner_text()
        return b.inner_text().removesuffix(count).strip(), count
    assert button("firing") == ("Firing", "1")
    assert button("pending") == ("Pending", "1")
    assert button("inactive") == ("Inactive", "1")
    firing = page.locator(".ks-alert-rule[data-rule=AlwaysFiring]")
    assert firing.get_attribute("data-state") == "firing"
    firing.locator("summary").click()
    row = firing.locator(".ks-alert-row")
    row.first.wait_for()  # <details> fires its toggle event, which draws the rows, in a later task
    assert row.count() == 1
    assert row.locator(".ks-label", has_text='alertname="AlwaysFiring"').count() == 1
    assert row.locator(".ks-label", has_text='severity="warning"').count() == 1
    assert row.locator("[data-annotation=summary]").inner_text() == "summary:Always firing"
    assert "It fires forever" in row.locator("[data-annotation=description]").inner_text()
    assert row.locator("td").nth(3).inner_text() == "1e+00"
    definition = firing.locator("pre.ks-def").inner_text()
    assert "alert: AlwaysFiring" in definition and "expr: vector(1)" in definition and "severity: warning" in definition
    pending = page.locator(".ks-alert-rule[data-rule=SlowPending]")
    pending.locator("summary").click()
    assert "for: 1h" in pending.locator("pre.ks-def").inner_text()
    assert pending.locator(".ks-alert-row .ks-badge").first.inner_text() == "PENDING"
    shot(page, "alerts")
    seg.locator("[data-value=firing]").click()
    assert page.locator(".ks-alert-rule").count() == 1
    # the Alertmanager's view holds the firing alert (not the pending one: pending alerts are not sent)
    page.click(".ks-tabs [data-view=alertmanager]")
    am = page.locator(".ks-am-group .ks-am-alert")
    am.first.wait_for()
    api = httpx.get(f"{srv.url}/api/v2/alerts").json()
    assert am.count() == len(api)
    assert page.locator(".ks-am-alert .ks-label", has_text='alertname="AlwaysFiring"').count() == 1
    assert page.locator(".ks-am-alert .ks-label", has_text='alertname="SlowPending"').count() == 0


# ---- silences ---------------------------------------------------------------------

def test_silence_create_from_alert_then_expire(status_server: tuple[Server, int], page: Any,
                                               shot: Callable[[Any, str], Path]) -> None:
    srv, _ = status_server
    page.goto(f"{srv.url}/alerts?view=alertmanager")
    alert = page.locator(".ks-am-alert", has=page.locator(".ks-label", has_text='alertname="AlwaysFiring"'))
    alert.locator("[data-action=silence]").click()
    page.wait_for_url(re.compile(r"/silences\?new=1&filter="))
    rows = page.locator(".ks-matcher-row")
    rows.first.wait_for()
    got = [(r.locator(".ks-m-name").input_value(), r.locator(".ks-m-op").input_value(), r.locator(".ks-m-value").input_value())
           for r in rows.all()]
    assert got == [("alertname", "=", "AlwaysFiring"), ("severity", "=", "warning")]
    page.locator(".ks-preview-count").wait_for()
    assert page.locator(".ks-preview-count").inner_text() == "1 alert match now."
    page.fill("input[name=createdBy]", "tester")
    page.fill("textarea[name=comment]", "maintenance window")
    shot(page, "silence-new")
    page.click("[data-action=save]")
    page.wait_for_url(re.compile(r"/silences\?id="))
    sid = page.url.split("id=")[1]
    card = page.locator(f".ks-silence[data-id='{sid}']")
    card.wait_for()
    assert card.get_attribute("data-state") == "active"
    assert card.locator(".ks-label", has_text='alertname="AlwaysFiring"').count() == 1
    assert "maintenance window" in card.inner_text() and "tester" in card.inner_text()
    api = httpx.get(f"{srv.url}/api/v2/silence/{sid}").json()
    assert api["status"]["state"] == "active" and api["createdBy"] == "tester"
    assert {(m["name"], m["value"], m["isRegex"]) for m in api["matchers"]} == \
        {("alertname", "AlwaysFiring", False), ("severity", "warning", False)}
    _wait(lambda: bool(httpx.get(f"{srv.url}/api/v2/alerts", params={"filter": 'alertname="AlwaysFiring"'}).json()[0]
                       ["status"]["silencedBy"]), "the alert being silenced")
    page.reload()
    page.locator(f".ks-silence[data-id='{sid}']").wait_for()
    assert "1 alert silenced" in page.locator(f".ks-silence[data-id='{sid}']").inner_text()
    shot(page, "silences")
    # the Alertmanager view marks the alert silenced, with a link to the silence
    page.goto(f"{srv.url}/alerts?view=alertmanager")
    alert = page.locator(".ks-am-alert", has=page.locator(".ks-label", has_text='alertname="AlwaysFiring"'))
    alert.wait_for()
    assert alert.locator(".ks-silenced").inner_text() == "SILENCED"
    assert alert.locator(f"a[href='/silences?id={sid}']").count() == 1
    # expire it: it moves to the expired tab
    page.goto(f"{srv.url}/silences")
    card = page.locator(f".ks-silence[data-id='{sid}']")
    card.locator("[data-action=expire]").click()
    card.locator("[data-action=expire]", has_text="Expire now?").click()
    page.locator(f".ks-silence[data-id='{sid}'][data-state=expired]").wait_for()
    assert page.locator(".ks-seg[aria-label=state] [data-value=expired]").get_attribute("aria-pressed") == "true"
    assert httpx.get(f"{srv.url}/api/v2/silence/{sid}").json()["status"]["state"] == "expired"
    page.click(".ks-seg[aria-label=state] [data-value=active]")
    assert page.locator(f".ks-silence[data-id='{sid}']").count() == 0


def test_silence_bad_regex_shows_the_api_error(status_server: tuple[Server, int], page: Any, console: list[str],
                                               request: pytest.FixtureRequest) -> None:
    check = _allow_failed_requests(request, console)
    srv, _ = status_server
    page.goto(f"{srv.url}/silences?new=1")
    row = page.locator(".ks-matcher-row").first
    row.locator(".ks-m-name").fill("alertname")
    row.locator(".ks-m-op").select_option("=~")
    row.locator(".ks-m-value").fill("(")
    page.fill("input[name=createdBy]", "tester")
    page.fill("textarea[name=comment]", "broken")
    page.click("[data-action=save]")
    err = page.locator(".ks-form-errors .ks-error")
    err.wait_for()
    # the same silence posted straight to the API: the page shows the server's own message
    r = httpx.post(f"{srv.url}/api/v2/silences", json={
        "matchers": [{"name": "alertname", "value": "(", "isRegex": True, "isEqual": True}],
        "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2999-01-01T00:00:00Z", "createdBy": "t", "comment": "c"})
    assert r.status_code == 400
    assert r.json() in err.inner_text()
    assert "/silences?new=1" in page.url  # the form stays, with what was typed
    assert row.locator(".ks-m-value").input_value() == "("
    # the preview beside the form says the same thing about the regex
    assert "invalid regex" in page.locator(".ks-preview .ks-error").inner_text()
    # nothing was created
    assert not [s for s in httpx.get(f"{srv.url}/api/v2/silences").json() if s["comment"] == "broken"]
    check()


def test_silence_form_checks_before_posting(status_server: tuple[Server, int], page: Any) -> None:
    srv, _ = status_server
    page.goto(f"{srv.url}/silences?new=1&filter=" + httpx.QueryParams({"f": '{alertname=~"Always.*"}'})["f"])
    row = page.locator(".ks-matcher-row").first
    row.wait_for()
    assert row.locator(".ks-m-op").input_value() == "=~" and row.locator(".ks-m-value").input_value() == "Always.*"
    page.fill("input[name=createdBy]", "")
    page.click("[data-action=save]")
    assert "Creator" in page.locator(".ks-form-errors .ks-error").inner_text()
    page.fill("input[name=duration]", "soon")
    assert "not a duration" in page.locator(".ks-field-error").inner_text()


def test_silence_unknown_id_shows_error_in_place(status_server: tuple[Server, int], page: Any, console: list[str],
                                                 request: pytest.FixtureRequest) -> None:
    check = _allow_failed_requests(request, console)
    srv, _ = status_server
    page.goto(f"{srv.url}/silences?edit=no-such-silence")
    box = page.locator("#ks-page .ks-error")
    box.wait_for()
    assert "Silences" in box.inner_text()
    assert page.locator("h1").inner_text() == "Silences"
    check()


# ---- TSDB status, config, flags --------------------------------------------------------

def test_tsdb_status_head_and_cardinality(ui_server: Server, page: Any, shot: Callable[[Any, str], Path]) -> None:
    before = httpx.get(f"{ui_server.url}/api/v1/status/tsdb").json()["data"]["headStats"]["numSeries"]
    page.goto(f"{ui_server.url}/tsdb-status?limit=100")
    page.locator(".ks-head-stats .ks-series .ks-num").wait_for()
    after = httpx.get(f"{ui_server.url}/api/v1/status/tsdb").json()["data"]["headStats"]["numSeries"]
    shown = int(page.locator(".ks-head-stats .ks-series .ks-num").inner_text().replace(",", ""))
    assert before <= shown <= after
    table = page.locator("[data-table=seriesCountByMetricName]")
    names = table.locator("tbody tr td:first-child").all_inner_texts()
    assert "demo_requests_total" in names
    row = table.locator("tbody tr", has=page.locator("td", has_text=re.compile(r"^demo_requests_total$")))
    assert row.locator("td").nth(1).inner_text() == "8"
    for key in ("labelValueCountByLabelName", "memoryInBytesByLabelName", "seriesCountByLabelValuePair"):
        assert page.locator(f"[data-table={key}] tbody tr").count() > 0, key
    assert "kubesight" in page.locator(".ks-build").inner_text()
    assert "Storage retention" in page.locator(".ks-runtime").inner_text()
    shot(page, "tsdb-status")


def test_config_shows_running_yaml(ui_server: Server, page: Any, shot: Callable[[Any, str], Path]) -> None:
    page.goto(f"{ui_server.url}/config")
    pre = page.locator(".ks-config pre.ks-yaml")
    pre.wait_for()
    yaml = httpx.get(f"{ui_server.url}/api/v1/status/config").json()["data"]["yaml"]
    assert "scrape_configs" in pre.inner_text()
    assert pre.text_content() == yaml
    assert "route:" in page.locator(".ks-am-config pre").inner_text()
    page.locator(".ks-config [data-action=copy]").click()
    page.locator(".ks-config [data-action=copy]", has_text=re.compile("Copied|Copy failed")).wait_for()
    shot(page, "config")


def test_flags_filter_narrows_rows(ui_server: Server, page: Any, shot: Callable[[Any, str], Path]) -> None:
    page.goto(f"{ui_server.url}/flags")
    page.locator(".ks-flag-row").first.wait_for()
    flags = httpx.get(f"{ui_server.url}/api/v1/status/flags").json()["data"]
    assert page.locator(".ks-flag-row").count() == len(flags)
    shot(page, "flags")
    page.fill(".ks-search", "listen")
    want = sum(1 for k, v in flags.items() if "listen" in k.lower() or "listen" in str(v).lower())
    page.wait_for_function("n => document.querySelectorAll('.ks-flag-row').length === n", arg=want)
    assert 0 < want < len(flags)
    assert "listen" in page.locator(".ks-flag-row").first.inner_text()
    assert "search=listen" in page.url


def test_silence_edit_keeps_its_id(status_server: tuple[Server, int], page: Any) -> None:
    srv, _ = status_server
    r = httpx.post(f"{srv.url}/api/v2/silences", json={
        "matchers": [{"name": "alertname", "value": "SlowPending", "isRegex": False, "isEqual": True}],
        "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2999-01-01T00:00:00Z", "createdBy": "api", "comment": "first"})
    sid = r.json()["silenceID"]
    started = httpx.get(f"{srv.url}/api/v2/silence/{sid}").json()["startsAt"]
    page.goto(f"{srv.url}/silences")
    page.locator(f".ks-silence[data-id='{sid}'] [data-action=edit]").click()
    page.wait_for_url(re.compile(r"/silences\?edit="))
    assert page.locator(".ks-m-value").first.input_value() == "SlowPending"
    assert page.locator("textarea[name=comment]").input_value() == "first"
    page.fill("textarea[name=comment]", "second")
    page.fill("input[name=duration]", "3h")
    page.click("[data-action=save]")
    page.wait_for_url(re.compile(r"/silences\?id="))
    # Alertmanager keeps the id of an active silence whose matchers and start did not change
    assert page.url.endswith(f"id={sid}")
    s = httpx.get(f"{srv.url}/api/v2/silence/{sid}").json()
    assert s["comment"] == "second" and s["status"]["state"] == "active"
    assert s["startsAt"] == started
    def t(x: str) -> datetime:
        return datetime.fromisoformat(x.replace("Z", "+00:00"))
    assert t(s["endsAt"]) - t(s["startsAt"]) == timedelta(hours=3)  # the duration typed, to the millisecond
    assert "second" in page.locator(f".ks-silence[data-id='{sid}']").inner_text()
    httpx.delete(f"{srv.url}/api/v2/silence/{sid}")


def test_auto_refresh_reloads_targets(status_server: tuple[Server, int], page: Any) -> None:
    srv, _ = status_server
    page.goto(f"{srv.url}/targets")
    page.locator(".ks-target-row").first.wait_for()
    with page.expect_request(re.compile(r"/api/v1/targets\?state=active"), timeout=20_000):
        page.select_option("select.ks-autorefresh", "5s")
    assert "refresh=5s" in page.url
    # the manual button too
    with page.expect_request(re.compile(r"/api/v1/targets")):
        page.click("[data-action=refresh]")
    page.locator(".ks-target-row").first.wait_for()


@pytest.mark.parametrize("path", ["/targets", "/service-discovery", "/alerts", "/alerts?view=alertmanager", "/rules",
                                  "/silences", "/silences?new=1", "/tsdb-status", "/config", "/flags"])
def test_pages_fit_a_narrow_screen_in_both_themes(status_server: tuple[Server, int], page: Any, path: str) -> None:
    srv, _ = status_server
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(srv.url + path)
    page.locator(".ks-status-body > *:not(.ks-loading)").first.wait_for()
    assert page.locator("#ks-page .ks-error").count() == 0, page.locator("#ks-page .ks-error").first.inner_text()
    for _ in range(2):
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        page.click("#ks-theme")


def _answer(page: Any, pattern: str, status: int, body: Any) -> None:
    page.route(re.compile(pattern), lambda route: route.fulfill(status=status, content_type="application/json",
                                                                  body=json.dumps(body)))


@pytest.mark.parametrize(("path", "api", "says"), [
    ("/targets", r"/api/v1/targets", "No scrape targets yet"),
    ("/service-discovery", r"/api/v1/targets", "No scrape pools"),
    ("/rules", r"/api/v1/rules", "No rules loaded"),
    ("/alerts", r"/api/v1/rules", "No alerting rules"),
])
def test_empty_pages_say_what_to_do(ui_server: Server, page: Any, path: str, api: str, says: str) -> None:
    # A server with nothing configured answers empty lists: the page says how to get something there.
    empty: dict[str, Any] = {"activeTargets": [], "droppedTargets": [], "droppedTargetCounts": {}} if "targets" in api else {"groups": []}
    _answer(page, api, 200, {"status": "success", "data": empty})
    page.goto(ui_server.url + path)
    box = page.locator(".ks-empty")
    box.wait_for()
    assert says in box.inner_text()
    assert "config" in box.inner_text()  # and where to change that


def test_api_errors_show_the_server_message_in_place(ui_server: Server, page: Any, console: list[str],
                                                     request: pytest.FixtureRequest) -> None:
    check = _allow_failed_requests(request, console)
    msg = "query processing would load too many samples into memory"
    _answer(page, r"/api/v1/targets", 503, {"status": "error", "errorType": "unavailable", "error": msg})
    page.goto(f"{ui_server.url}/targets")
    err = page.locator("#ks-page .ks-error")
    err.wait_for()
    assert msg in err.inner_text()
    assert page.locator("h1").inner_text() == "Targets" and page.locator("[data-action=refresh]").is_enabled()
    _answer(page, r"/api/v2/alerts/groups", 500, "alertmanager is on fire")
    page.goto(f"{ui_server.url}/alerts?view=alertmanager")
    err = page.locator("#ks-page .ks-error")
    err.wait_for()
    assert "alertmanager is on fire" in err.inner_text()
    assert page.locator(".ks-tabs [data-view=rules]").is_visible()  # the other tab stays one click away
    check()


# ---- the same pages on a real Alertmanager ----------------------------------------------

def test_alertmanager_pages_drive_a_real_alertmanager(ui_server: Server, page: Any, tmp_path: Path, console: list[str],
                                                      request: pytest.FixtureRequest) -> None:
    """The Alertmanager view and the silence form, with their /api/v2 calls sent to Debian's Alertmanager:
    the page reads its JSON and writes silences it accepts, as it does kubesight's."""
    check = _allow_failed_requests(request, console)
    am_cfg = "route: {receiver: default, group_by: [alertname]}\nreceivers: [{name: default}]\n"
    with peers.alertmanager(tmp_path / "am", am_cfg) as am:
        def proxy(route: Any) -> None:
            req = route.request
            path = req.url.split("/api/v2/", 1)[1]
            r = httpx.request(req.method, f"{am}/api/v2/{path}", content=req.post_data_buffer,
                              headers={"Content-Type": "application/json"}, timeout=10)
            route.fulfill(status=r.status_code, body=r.content, content_type=r.headers.get("content-type", "application/json"))
        page.route(re.compile(r"/api/v2/"), proxy)
        r = httpx.post(f"{am}/api/v2/alerts", json=[{"labels": {"alertname": "RealAM", "severity": "page"},
                                                     "annotations": {"summary": "from the real one"}}])
        assert r.status_code == 200, r.text
        _wait(lambda: bool(httpx.get(f"{am}/api/v2/alerts/groups").json()), "the real Alertmanager grouping the alert")
        page.goto(f"{ui_server.url}/alerts?view=alertmanager")
        alert = page.locator(".ks-am-alert", has=page.locator(".ks-label", has_text='alertname="RealAM"'))
        alert.wait_for()
        assert page.locator(".ks-am-alert").count() == 1
        assert alert.locator("[data-annotation=summary]").inner_text() == "summary:from the real one"
        assert "default" in page.locator(".ks-am-group summary").inner_text()
        alert.locator("[data-action=silence]").click()
        page.locator(".ks-preview-count", has_text="1 alert match now.").wait_for()  # the real one reads our filter
        # a regex the real Alertmanager refuses: its message beside the form
        page.locator(".ks-m-op").nth(1).select_option("=~")
        page.locator(".ks-m-value").nth(1).fill("pa(ge")
        page.fill("input[name=createdBy]", "tester")
        page.fill("textarea[name=comment]", "real")
        page.click("[data-action=save]")
        err = page.locator(".ks-form-errors .ks-error")
        err.wait_for()
        assert "pa(ge" in err.inner_text() or "missing closing" in err.inner_text(), err.inner_text()
        page.locator(".ks-m-value").nth(1).fill("pa.e")
        page.click("[data-action=save]")
        page.wait_for_url(re.compile(r"/silences\?id="))
        sid = page.url.split("id=")[1]
        page.locator(f".ks-silence[data-id='{sid}'][data-state=active]").wait_for()
        s = httpx.get(f"{am}/api/v2/silence/{sid}").json()
        assert s["createdBy"] == "tester" and s["comment"] == "real" and s["status"]["state"] == "active"
        assert sorted((m["name"], m["value"], m["isRegex"], m.get("isEqual", True)) for m in s["matchers"]) == \
            [("alertname", "RealAM", False, True), ("severity", "pa.e", True, True)]
        assert "1 alert silenced" in page.locator(f".ks-silence[data-id='{sid}']").inner_text()
        page.goto(f"{ui_server.url}/alerts?view=alertmanager")
        page.locator(".ks-am-alert .ks-silenced").wait_for()
        page.goto(f"{ui_server.url}/silences")
        card = page.locator(f".ks-silence[data-id='{sid}']")
        card.locator("[data-action=expire]").click()
        card.locator("[data-action=expire]", has_text="Expire now?").click()
        page.locator(f".ks-silence[data-id='{sid}'][data-state=expired]").wait_for()
        assert httpx.get(f"{am}/api/v2/silence/{sid}").json()["status"]["state"] == "expired"
    check()
