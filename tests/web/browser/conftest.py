"""Browser tests: Debian's chromium driven by Playwright against a real kubesight server.

``ui_server`` is one real server per session on a free port, collecting this
machine every second, with an hour of backfilled demo series (``demo_*``) so
graphs have history. ``page`` is a fresh 1280x800 tab that fails the test on
any console error or uncaught exception; ``shot(page, name)`` saves a
screenshot under ``test-artifacts/``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cramjam
import httpx
import pytest

from kubesight.model import SampleBatch
from kubesight.wire.remote_write import encode_write_v1
from tests.conftest import Server, require_peer, start_server

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where chromium refuses its sandbox
    "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync", "--disable-component-update",
    # This machine's network is closed: background connections only fail, many at a time.
    "--disable-background-networking",
]
VIEWPORT = {"width": 1280, "height": 800}
DEMO_HOURS = 1
DEMO_STEP_MS = 15_000
# console messages that are not the page's fault
_BENIGN = ("favicon.ico", "DevTools")


def demo_batch(now_ms: int) -> SampleBatch:
    """An hour of demo series at 15 s: a counter, a gauge wave and a histogram, over a few labels."""
    series: list[tuple[tuple[tuple[str, str], ...], list[tuple[int, float]]]] = []
    ts = list(range(now_ms - DEMO_HOURS * 3_600_000, now_ms, DEMO_STEP_MS))
    for pod in range(4):
        for code in ("200", "500"):
            rate = (pod + 1) * (10.0 if code == "200" else 0.5)
            lbl = (("__name__", "demo_requests_total"), ("code", code), ("job", "demo"), ("pod", f"web-{pod}"))
            series.append((lbl, [(t, rate * i * 15) for i, t in enumerate(ts)]))
        wave = (("__name__", "demo_temperature_celsius"), ("job", "demo"), ("pod", f"web-{pod}"))
        series.append((wave, [(t, 40 + 10 * math.sin(i / 20 + pod)) for i, t in enumerate(ts)]))
        for le, frac in (("0.1", 0.5), ("0.5", 0.9), ("1", 0.97), ("+Inf", 1.0)):
            b = (("__name__", "demo_latency_seconds_bucket"), ("job", "demo"), ("le", le), ("pod", f"web-{pod}"))
            series.append((b, [(t, frac * 20 * i) for i, t in enumerate(ts)]))
    return SampleBatch.from_series(series)


def push(url: str, batch: SampleBatch) -> None:
    body = bytes(cramjam.snappy.compress_raw(encode_write_v1(batch)))
    r = httpx.post(f"{url}/api/v1/write", content=body, timeout=60, headers={
        "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
        "X-Prometheus-Remote-Write-Version": "0.1.0"})
    assert r.status_code == 204, r.text


def wait_for(url: str, expr: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10)
        if r.status_code == 200 and r.json()["data"]["result"]:
            return
        time.sleep(0.5)
    raise AssertionError(f"{expr} returned nothing within {timeout}s")


@pytest.fixture(scope="session")
def chromium() -> str:
    return require_peer("chromium", "chromium")


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("ui")
    cfg = root / "kubesight.yml"
    cfg.write_text("global: {scrape_interval: 1s, evaluation_interval: 1s}\ncollectors: {interval: 1s}\n")
    srv = start_server(root / "data", "--config", str(cfg))
    try:
        push(srv.url, demo_batch(int(time.time() * 1000)))
        # The host collector, the self-scrape and a recording rule: each page has its real data.
        wait_for(srv.url, 'count_over_time(node_cpu_seconds_total{mode="idle"}[1m]) > 3')
        wait_for(srv.url, 'up{job="kubesight"}')
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class ConsoleErrors(list[str]):
    def assert_none(self) -> None:
        assert not self, "the page logged errors:\n" + "\n".join(self)


@pytest.fixture
def console() -> ConsoleErrors:
    return ConsoleErrors()


@pytest.fixture
def page(browser: Any, console: ConsoleErrors, request: pytest.FixtureRequest) -> Iterator[Any]:
    ctx = browser.new_context(viewport=VIEWPORT, color_scheme="light")
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)

    def on_console(msg: Any) -> None:
        if msg.type == "error" and not any(b in msg.text for b in _BENIGN):
            console.append(f"console.error: {msg.text} ({msg.location.get('url', '')})")

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: console.append(f"uncaught: {exc}"))
    yield pg
    try:
        if not getattr(request.node, "allow_console_errors", False):
            console.assert_none()
    finally:
        ctx.close()


@pytest.fixture
def shot() -> Callable[[Any, str], Path]:
    def take(pg: Any, name: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=full_page)
        return path
    return take


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # One chromium and one server for all browser tests: keep them on one worker, in file order.
    for item in items:
        if "tests/web/browser" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.slow)
