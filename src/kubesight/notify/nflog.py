"""The notification log: what was last sent for each group to each receiver.

Deduplication reads it (nothing new and repeat_interval not passed: stay
quiet), so it is written to disk after each successful notification and read
back at start; a restart neither repeats a notification nor forgets one.
Entries expire after the retention period, as in Alertmanager.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from kubesight.notify.persist import read_json, write_json
from kubesight.notify.silences import RETENTION


@dataclass(frozen=True)
class Entry:
    group_key: str
    receiver: str  # "name/integration/index", as Alertmanager's nflog receiver
    timestamp: float
    firing: frozenset[int]
    resolved: frozenset[int]
    expires_at: float


class NotificationLog:
    def __init__(self, path: Path | None, retention: float = RETENTION) -> None:
        self._path = path
        self._retention = retention
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], Entry] = {}
        if path is not None:
            for d in read_json(path) or []:
                try:
                    e = Entry(str(d["groupKey"]), str(d["receiver"]), float(d["timestamp"]),
                              frozenset(int(x, 16) for x in d["firing"]),
                              frozenset(int(x, 16) for x in d["resolved"]), float(d["expiresAt"]))
                except (KeyError, TypeError, ValueError):
                    continue
                self._entries[(e.group_key, e.receiver)] = e

    def query(self, group_key: str, receiver: str) -> Entry | None:
        return self._entries.get((group_key, receiver))

    def log(self, group_key: str, receiver: str, firing: frozenset[int], resolved: frozenset[int],
            now: float) -> None:
        with self._lock:
            self._entries[(group_key, receiver)] = Entry(group_key, receiver, now, firing, resolved,
                                                         now + self._retention)
            self._save()

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def gc(self, now: float) -> int:
        with self._lock:
            old = [k for k, e in self._entries.items() if e.expires_at <= now]
            for k in old:
                del self._entries[k]
            if old:
                self._save()
            return len(old)

    def _save(self) -> None:
        if self._path is None:
            return
        write_json(self._path, [
            {"groupKey": e.group_key, "receiver": e.receiver, "timestamp": e.timestamp,
             "firing": sorted(f"{x:016x}" for x in e.firing),
             "resolved": sorted(f"{x:016x}" for x in e.resolved), "expiresAt": e.expires_at}
            for e in self._entries.values()])


def needs_update(entry: Entry | None, firing: frozenset[int], resolved: frozenset[int],
                 send_resolved: bool, repeat_interval: float, now: float) -> bool:
    """Alertmanager's dedup decision for one group and one receiver integration."""
    if entry is None:
        return bool(firing)  # never notified: only firing alerts are news
    if not firing <= entry.firing:
        return True
    if not firing:
        # Everything resolved. Tell the receiver only if it was told something
        # fired; this clears the log even when resolved notices are off.
        return bool(entry.firing)
    if send_resolved and not resolved <= entry.resolved:
        return True
    return entry.timestamp <= now - repeat_interval
