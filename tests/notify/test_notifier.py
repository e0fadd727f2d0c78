"""The Notifier's public surface: config selection, thread-safe intake, damaged state files."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from kubesight.errors import ConfigError
from kubesight.model.alerts import Alert
from kubesight.notify import Notifier, default_config, load_config


def test_load_config_sources(tmp_path: Path) -> None:
    p = tmp_path / "am.yml"
    p.write_text("route: {receiver: f}\nreceivers: [{name: f}]\n")
    assert load_config(file=str(p)).route.receiver == "f"
    assert load_config(inline={"route": {"receiver": "i"}, "receivers": [{"name": "i"}]}).route.receiver == "i"
    assert load_config() == default_config()
    with pytest.raises(ConfigError, match="both set"):
        load_config(inline={}, file=str(p))
    with pytest.raises(ConfigError, match=r"^alertmanager: route: no routes provided"):
        load_config(inline={"receivers": []})


def test_send_from_another_thread_reaches_the_loop() -> None:
    async def go() -> None:
        n = Notifier(default_config())
        await n.start()
        t = threading.Thread(target=n.send, args=([Alert((("alertname", "FromThread"),))],))
        t.start()
        t.join()
        for _ in range(1000):  # up to 10s on a loaded machine
            if n.alerts():
                break
            await asyncio.sleep(0.01)
        assert [a.labels for a in n.alerts()] == [{"alertname": "FromThread"}]
        await n.stop()

    asyncio.run(go())


def test_damaged_state_files_are_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "silences.json").write_text("{not json")
    (tmp_path / "nflog.json").write_text('[{"groupKey": 1}]')  # a bad record is skipped
    n = Notifier(default_config(), tmp_path)
    assert n.silences.all() == [] and n.nflog.entries() == []
    assert (tmp_path / "silences.json.corrupt").exists()
    assert "moved aside" in caplog.text
    asyncio.run(n.stop())
