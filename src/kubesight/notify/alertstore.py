"""The alerts the notifier knows, keyed by fingerprint, merged as Alertmanager merges them.

An alert posted again (Prometheus resends firing alerts every minute or so)
updates the stored one: the earliest start wins, and the end time of the
newer report wins unless an older, explicit end is later. An alert sent
without an end time gets ``now + resolve_timeout`` and is marked as timing
out, so it resolves by itself when its sender goes quiet.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace

from kubesight.model.alerts import Alert
from kubesight.notify.labels import fingerprint


@dataclass(frozen=True)
class StoredAlert:
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    ends_at: float
    generator_url: str
    updated_at: float
    timeout: bool
    fp: int

    def resolved(self, now: float) -> bool:
        return self.ends_at != 0.0 and self.ends_at <= now

    @property
    def fp_hex(self) -> str:
        return f"{self.fp:016x}"

    def merge(self, older: StoredAlert, now: float) -> StoredAlert:
        """This (newer) report combined with ``older``, as ``types.Alert.Merge`` does."""
        if self.updated_at < older.updated_at:
            return older.merge(self, now)
        starts = min(self.starts_at, older.starts_at)
        ends = self.ends_at
        if self.resolved(now):
            if older.resolved(now) and older.ends_at > self.ends_at:
                ends = older.ends_at
        elif older.ends_at > self.ends_at and not older.timeout:
            ends = older.ends_at
        return replace(self, starts_at=starts, ends_at=ends)


def from_alert(a: Alert, now: float, resolve_timeout: float) -> StoredAlert:
    """Fill in the times Alertmanager's API fills in for a posted alert."""
    starts, ends, timeout = a.starts_at, a.ends_at, False
    if starts == 0.0:
        starts = ends if ends != 0.0 else now
    if ends == 0.0:
        timeout = True
        ends = now + resolve_timeout
    labels = dict(a.labels)
    return StoredAlert(labels, dict(a.annotations), starts, ends, a.generator_url, now, timeout,
                       fingerprint(labels))


class AlertStore:
    def __init__(self) -> None:
        self._alerts: dict[int, StoredAlert] = {}
        self._lock = threading.Lock()
        self.version = 0  # bumped on every change, so caches know when to rebuild

    def put(self, alert: StoredAlert, now: float) -> StoredAlert:
        with self._lock:
            old = self._alerts.get(alert.fp)
            # Merge only reports whose time spans overlap; a later, separate
            # occurrence of the same alert replaces the finished one.
            if old is not None and (
                (old.starts_at < alert.ends_at < old.ends_at)
                or (old.starts_at < alert.starts_at < old.ends_at)
            ):
                alert = alert.merge(old, now)
            self._alerts[alert.fp] = alert
            self.version += 1
            return alert

    def get(self, fp: int) -> StoredAlert | None:
        return self._alerts.get(fp)

    def __iter__(self) -> Iterator[StoredAlert]:
        with self._lock:
            return iter(list(self._alerts.values()))

    def __len__(self) -> int:
        return len(self._alerts)

    def gc(self, now: float) -> list[int]:
        """Drop resolved alerts; returns their fingerprints."""
        with self._lock:
            gone = [fp for fp, a in self._alerts.items() if a.resolved(now)]
            for fp in gone:
                del self._alerts[fp]
            if gone:
                self.version += 1
            return gone
