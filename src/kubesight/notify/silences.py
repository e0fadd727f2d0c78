"""Silences: matchers and a time span that mute matching alerts, kept on disk.

Create, update and expire follow Alertmanager: an update that changes the
matchers, moves the start of an active silence or ends it in the past
expires the old silence and creates a new one with a new ID; expiring ends an
active silence now and turns a pending one into an expired one. Expired
silences are kept for the retention period, then forgotten.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kubesight.errors import KubesightError, ValidationError
from kubesight.model.matchers import Matcher, MatchOp
from kubesight.notify.labels import new_matcher
from kubesight.notify.persist import read_json, write_json

RETENTION = 120 * 3600.0  # 120h: Alertmanager's --data.retention default


class SilenceNotFoundError(KubesightError):
    pass


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: float
    ends_at: float
    updated_at: float = 0.0
    created_by: str = ""
    comment: str = ""

    def state(self, now: float) -> str:
        if self.ends_at <= now:
            return "expired"
        if self.starts_at > now:
            return "pending"
        return "active"

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels.get(m.name, "")) for m in self.matchers)


def matcher_to_json(m: Matcher) -> dict[str, Any]:
    return {"isEqual": m.op in (MatchOp.EQ, MatchOp.RE), "isRegex": m.op in (MatchOp.RE, MatchOp.NRE),
            "name": m.name, "value": m.value}


def matcher_from_json(d: Any, where: str = "matcher") -> Matcher:
    if not isinstance(d, dict) or not isinstance(d.get("name"), str) or not isinstance(d.get("value"), str):
        raise ValidationError(f"{where}: needs a name and a value")
    regex = bool(d.get("isRegex", False))
    equal = bool(d.get("isEqual", True))
    op = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[(regex, equal)]
    return new_matcher(d["name"], op, d["value"])


def validate(s: Silence) -> None:
    if not s.matchers:
        raise ValidationError("at least one matcher required")
    for m in s.matchers:
        if not m.name:
            raise ValidationError("invalid label matcher: invalid label name \"\"")
    if all(m.matches("") for m in s.matchers):
        raise ValidationError("at least one matcher must not match the empty string")
    if s.starts_at == 0.0:
        raise ValidationError("invalid zero start timestamp")
    if s.ends_at == 0.0:
        raise ValidationError("invalid zero end timestamp")
    if s.ends_at < s.starts_at:
        raise ValidationError("end time must not be before start time")


class Silences:
    def __init__(self, path: Path | None, clock: Callable[[], float]) -> None:
        self._path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._by_id: dict[str, Silence] = {}
        self.version = 0
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        data = read_json(path)
        for d in data or []:
            try:
                s = Silence(
                    id=str(d["id"]), matchers=tuple(matcher_from_json(m) for m in d["matchers"]),
                    starts_at=float(d["startsAt"]), ends_at=float(d["endsAt"]),
                    updated_at=float(d.get("updatedAt", 0.0)), created_by=str(d.get("createdBy", "")),
                    comment=str(d.get("comment", "")))
            except (KeyError, TypeError, ValueError, KubesightError):
                continue  # one bad record must not lose the others
            self._by_id[s.id] = s

    def _save(self) -> None:
        self.version += 1
        if self._path is None:
            return
        write_json(self._path, [
            {"id": s.id, "matchers": [matcher_to_json(m) for m in s.matchers], "startsAt": s.starts_at,
             "endsAt": s.ends_at, "updatedAt": s.updated_at, "createdBy": s.created_by,
             "comment": s.comment}
            for s in self._by_id.values()])

    def get(self, sid: str) -> Silence:
        s = self._by_id.get(sid)
        if s is None:
            raise SilenceNotFoundError(f"silence {sid} not found")
        return s

    def all(self) -> list[Silence]:
        return list(self._by_id.values())

    def set(self, s: Silence) -> str:
        """Create ``s`` (empty id) or update the silence with its id; returns the id in force."""
        validate(s)
        now = self._clock()
        with self._lock:
            prev = self._by_id.get(s.id) if s.id else None
            if s.id and prev is None:
                raise SilenceNotFoundError(f"silence {s.id} not found")
            if prev is not None:
                if _can_update(prev, s, now):
                    self._by_id[s.id] = replace(s, updated_at=now)
                    self._save()
                    return s.id
                if prev.state(now) != "expired":
                    self._by_id[prev.id] = _expired(prev, now)
            new = replace(s, id=str(uuid.uuid4()), starts_at=max(s.starts_at, now), updated_at=now)
            self._by_id[new.id] = new
            self._save()
            return new.id

    def expire(self, sid: str) -> None:
        now = self._clock()
        with self._lock:
            s = self.get(sid)
            if s.state(now) == "expired":
                raise ValidationError(f"silence {sid} already expired")
            self._by_id[sid] = _expired(s, now)
            self._save()

    def mutes(self, labels: Mapping[str, str], now: float) -> list[str]:
        """IDs of the active silences matching ``labels``, sorted."""
        return sorted(s.id for s in self._by_id.values() if s.state(now) == "active" and s.matches(labels))

    def gc(self, now: float, retention: float = RETENTION) -> int:
        with self._lock:
            old = [sid for sid, s in self._by_id.items() if s.ends_at + retention <= now]
            for sid in old:
                del self._by_id[sid]
            if old:
                self._save()
            return len(old)


def _expired(s: Silence, now: float) -> Silence:
    if s.state(now) == "pending":
        return replace(s, starts_at=now, ends_at=now, updated_at=now)
    return replace(s, ends_at=now, updated_at=now)


def _can_update(a: Silence, b: Silence, now: float) -> bool:
    if a.matchers != b.matchers:
        return False
    st = a.state(now)
    if st == "active":
        # The API shows times to the millisecond: a start sent back as shown is the same start.
        return abs(b.starts_at - a.starts_at) < 0.001 and b.ends_at >= now
    if st == "pending":
        return b.starts_at >= now
    return False
