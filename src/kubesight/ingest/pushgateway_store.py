"""The Pushgateway's groups: what was pushed, checked, kept on disk.

A *group* is everything pushed under one grouping key (``job`` plus the other
labels of the URL path). Its metric families are stored with the grouping
labels already applied to every sample, as the Pushgateway's
``sanitizeLabels`` does, so the exporter only has to stamp a timestamp on them.

The rules are the Pushgateway's (``storage/diskmetricstore.go``):

- ``PUT`` replaces all families of the group, ``POST`` only those named in
  the body; an empty ``PUT`` empties the group, an empty ``POST`` only moves
  ``push_time_seconds``. ``DELETE`` drops the group.
- A pushed label named like a grouping label takes the grouping label's value.
- A push is refused when a sample has a timestamp, when a label name is
  reserved (``__`` prefix), or when the state after the push would not be a
  valid exposition: the same family name with two types across groups, the
  same series twice, or a family colliding with a summary's or histogram's
  ``_sum``/``_count``/``_bucket``. A refused push sets the group's
  ``push_failure_time_seconds`` (creating the group if needed) and changes
  nothing else. Inconsistent help strings are tolerated.
- ``push_time_seconds``/``push_failure_time_seconds`` in a body are replaced
  by the group's own.

Persistence is one JSON file per group under the registry's directory,
written to a temporary file, fsynced and renamed on every change, so a crash
leaves either the old or the new group, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubesight.errors import ValidationError
from kubesight.model.labels import METRIC_NAME, Labels, format_labels
from kubesight.model.samples import MetricMetadata

__all__ = [
    "PUSH_FAILURE_HELP",
    "PUSH_FAILURE_METRIC",
    "PUSH_TIME_HELP",
    "PUSH_TIME_METRIC",
    "Group",
    "GroupingKey",
    "PushRegistry",
    "PushedFamily",
    "family_of",
    "group_families",
]

log = logging.getLogger("kubesight.ingest.pushgateway")

PUSH_TIME_METRIC = "push_time_seconds"
PUSH_TIME_HELP = "Last Unix time when changing this group in the Pushgateway succeeded."
PUSH_FAILURE_METRIC = "push_failure_time_seconds"
PUSH_FAILURE_HELP = "Last Unix time when changing this group in the Pushgateway failed."
_OWN = frozenset({PUSH_TIME_METRIC, PUSH_FAILURE_METRIC})
_FILE_VERSION = 1

GroupingKey = tuple[tuple[str, str], ...]
"""Sorted ``(name, value)`` pairs of the URL path; values may be empty."""


@dataclass(frozen=True)
class PushedFamily:
    """One metric family of a group.

    ``samples`` hold full label sets (``__name__`` included, grouping labels
    applied, empty values dropped) and values; ``pushed_at`` is the Unix time
    of the push that last wrote this family (the API's ``time_stamp``).
    """

    name: str
    type: str  # counter gauge histogram summary unknown
    help: str
    samples: tuple[tuple[Labels, float], ...]
    pushed_at: float


@dataclass
class Group:
    key: GroupingKey
    families: dict[str, PushedFamily] = field(default_factory=dict)
    push_time: float = 0.0
    """Last successful push (Unix seconds), 0 if none."""
    failure_time: float = 0.0
    """Last refused push (Unix seconds), 0 if none."""

    @property
    def series_labels(self) -> Labels:
        """The grouping labels as they appear on series (empty values mean absent)."""
        return tuple((k, v) for k, v in self.key if v != "")

    @property
    def last_push_successful(self) -> bool:
        return self.failure_time <= self.push_time

    def own_families(self) -> list[PushedFamily]:
        """``push_time_seconds`` and ``push_failure_time_seconds`` of this group."""
        base = self.series_labels
        # The API's time_stamp of each is when it was last written: a group
        # made by a refused push has a push time of 0 written at that moment.
        return [
            PushedFamily(
                PUSH_TIME_METRIC, "gauge", PUSH_TIME_HELP,
                (((*_with_name(base, PUSH_TIME_METRIC),), self.push_time),),
                self.push_time or self.failure_time,
            ),
            PushedFamily(
                PUSH_FAILURE_METRIC, "gauge", PUSH_FAILURE_HELP,
                (((*_with_name(base, PUSH_FAILURE_METRIC),), self.failure_time),),
                self.failure_time or self.push_time,
            ),
        ]

    def all_families(self) -> list[PushedFamily]:
        return [*self.families.values(), *self.own_families()]


def _with_name(labels: Labels, name: str) -> Labels:
    return tuple(sorted(((METRIC_NAME, name), *labels)))


def family_of(sample_name: str, types: Mapping[str, str]) -> str:
    """The family a sample belongs to, as the text format's parser decides.

    An exact family name wins; otherwise ``x_sum``/``x_count`` belong to a
    summary or histogram ``x`` and ``x_bucket`` to a histogram ``x``; any other
    sample is its own (untyped) family.
    """
    if sample_name in types:
        return sample_name
    base, _, suffix = sample_name.rpartition("_")
    if base and suffix in ("sum", "count", "bucket"):
        t = types.get(base)
        if t == "histogram" or (t == "summary" and suffix != "bucket"):
            return base
    return sample_name


def group_families(
    samples: list[tuple[Labels, float]],
    metadata: list[MetricMetadata],
    key: GroupingKey,
    now: float,
    *,
    keep_empty: bool = False,
) -> dict[str, PushedFamily]:
    """Sort parsed samples into families and apply the grouping labels.

    Raises :class:`ValidationError` for a reserved label name. Families named
    like the group's own timestamps are dropped: the group's own replace them.
    """
    types = {md.metric_family: md.type for md in metadata}
    helps = {md.metric_family: md.help for md in metadata}
    names = {k for k, _ in key}
    grouping = tuple((k, v) for k, v in key if v != "")
    by_family: dict[str, list[tuple[Labels, float]]] = {}
    for labels, value in samples:
        for k, _ in labels:
            if k.startswith("__") and k != METRIC_NAME:
                raise ValidationError(
                    f"sample {format_labels(labels)}: label name {k!r} is reserved "
                    "(names starting with '__' are for internal use)"
                )
        kept = tuple(p for p in labels if p[0] not in names)
        full = tuple(sorted((*kept, *grouping))) if grouping else kept
        fam = family_of(dict(labels)[METRIC_NAME], types)
        by_family.setdefault(fam, []).append((full, value))
    if keep_empty:
        # A protobuf family without metrics still replaces its namesake on
        # POST; the text parser of the Pushgateway drops such families.
        for md in metadata:
            by_family.setdefault(md.metric_family, [])
    return {
        name: PushedFamily(name, types.get(name, "unknown"), helps.get(name, ""), tuple(s), now)
        for name, s in by_family.items()
        if name not in _OWN
    }


def _check_consistency(groups: Mapping[GroupingKey, Group]) -> None:
    """Refuse a state that could not be exposed as one valid scrape.

    Mirrors what client_golang's ``Gather`` refuses on the Pushgateway's
    ``/metrics``, which the Pushgateway runs on every push.
    """
    types: dict[str, str] = {}
    seen: set[Labels] = set()
    for group in groups.values():
        for fam in group.all_families():
            prev = types.setdefault(fam.name, fam.type)
            if prev != fam.type:
                raise ValidationError(
                    f"metric family {fam.name!r} is pushed as {fam.type} but is {prev} "
                    "in another group; the type of a name must be the same in every group"
                )
            for labels, _ in fam.samples:
                if labels in seen:
                    raise ValidationError(
                        f"series {format_labels(labels)} is pushed twice (in this body or in another "
                        "group with the same labels); every series must be unique"
                    )
                seen.add(labels)
    for name, t in types.items():
        suffixes = ("_bucket", "_sum", "_count") if t == "histogram" else ("_sum", "_count") if t == "summary" else ()
        for s in suffixes:
            if name + s in types:
                raise ValidationError(
                    f"metric family {name + s!r} collides with the {t} {name!r}, "
                    f"which exposes series of that name"
                )


Listener = Callable[[GroupingKey], object]


class PushRegistry:
    """All pushed groups, kept on disk under ``directory`` (None: memory only).

    Every method is synchronous and meant to be called from the event loop's
    thread, which serialises pushes as the Pushgateway's single write queue
    does. ``clock`` gives push times in Unix seconds.
    """

    def __init__(self, directory: Path | None, clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.clock = clock
        self.started = clock()
        self._groups: dict[GroupingKey, Group] = {}
        self._listeners: list[Listener] = []
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self._load()

    # -- reading -----------------------------------------------------------

    def groups(self) -> list[Group]:
        """All groups, ordered by grouping key so listings are stable."""
        return [self._groups[k] for k in sorted(self._groups)]

    def get(self, key: GroupingKey) -> Group | None:
        return self._groups.get(key)

    def __len__(self) -> int:
        return len(self._groups)

    def __iter__(self) -> Iterator[Group]:
        return iter(self.groups())

    # -- listening (the exporter) -----------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(key)`` after every change of a group, before the push is answered."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _changed(self, key: GroupingKey) -> None:
        if self.directory is not None:
            self._persist(key)
        for listener in list(self._listeners):
            try:
                listener(key)
            except Exception:  # a failing exporter must not fail the push that already happened
                log.exception("pushgateway: listener failed for group %s", _key_str(key))

    # -- writing -----------------------------------------------------------

    def push(
        self,
        key: GroupingKey,
        families: dict[str, PushedFamily],
        *,
        replace: bool,
        now: float | None = None,
    ) -> None:
        """Apply a push; raises :class:`ValidationError` (after recording the failure) if refused."""
        now = self.clock() if now is None else now
        old = self._groups.get(key)
        new = Group(key, {} if replace or old is None else dict(old.families),
                    old.push_time if old else 0.0, old.failure_time if old else 0.0)
        new.families.update(families)
        new.push_time = now
        trial = dict(self._groups)
        trial[key] = new
        try:
            _check_consistency(trial)
        except ValidationError:
            self.fail(key, now)
            raise
        self._groups[key] = new
        self._changed(key)

    def fail(self, key: GroupingKey, now: float | None = None) -> None:
        """Record a refused push: the group's ``push_failure_time_seconds`` moves, nothing else."""
        now = self.clock() if now is None else now
        group = self._groups.get(key)
        if group is None:
            group = Group(key)
            try:
                _check_consistency({**self._groups, key: group})
            except ValidationError:
                # Its timestamps would be stored as another group's series
                # (the keys differ only by empty labels): record nothing.
                return
            self._groups[key] = group
        group.failure_time = now
        self._changed(key)

    def delete(self, key: GroupingKey) -> bool:
        """Drop a group; deleting one that does not exist is not an error."""
        if self._groups.pop(key, None) is None:
            return False
        self._changed(key)
        return True

    # -- persistence -------------------------------------------------------

    def _path(self, key: GroupingKey) -> Path:
        assert self.directory is not None
        # A hash, not the labels: label values may hold any character, and a
        # file name must not.
        digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:40]
        return self.directory / f"group-{digest}.json"

    def _persist(self, key: GroupingKey) -> None:
        path = self._path(key)
        group = self._groups.get(key)
        try:
            if group is None:
                path.unlink(missing_ok=True)
            else:
                _write_atomic(path, json.dumps(_to_json(group), separators=(",", ":")).encode())
            _fsync_dir(path.parent)
        except OSError as exc:
            # The push is already applied in memory and exported; losing it on
            # a restart is the Pushgateway's own guarantee, so log and go on.
            log.error("pushgateway: cannot persist group %s to %s: %s", _key_str(key), path, exc)

    def _load(self) -> None:
        assert self.directory is not None
        for tmp in self.directory.glob("*.tmp"):
            tmp.unlink(missing_ok=True)  # a write a crash cut short; the old file is intact
        for path in sorted(self.directory.glob("group-*.json")):
            try:
                group = _from_json(json.loads(path.read_bytes()))
            except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
                aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
                log.error(
                    "pushgateway: cannot read pushed group %s (%s); moved it to %s and went on without it",
                    path, exc, aside,
                )
                with contextlib.suppress(OSError):
                    path.rename(aside)
                continue
            self._groups[group.key] = group
        if self._groups:
            log.info("pushgateway: loaded %d pushed group(s) from %s", len(self._groups), self.directory)


def _key_str(key: GroupingKey) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in key) + "}"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(directory: Path) -> None:
    # The rename or unlink is only durable once the directory entry is.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _to_json(group: Group) -> dict[str, Any]:
    return {
        "version": _FILE_VERSION,
        "key": [list(p) for p in group.key],
        "push_time": group.push_time,
        "failure_time": group.failure_time,
        "families": [
            {
                "name": f.name,
                "type": f.type,
                "help": f.help,
                "pushed_at": f.pushed_at,
                # repr: JSON has no NaN or Inf, and float(repr(x)) == x exactly.
                "samples": [[[list(p) for p in lbls], repr(v)] for lbls, v in f.samples],
            }
            for f in group.families.values()
        ],
    }


def _from_json(doc: Any) -> Group:
    if not isinstance(doc, dict) or doc.get("version") != _FILE_VERSION:
        raise ValueError(f"not a pushed-group file of version {_FILE_VERSION}")
    key: GroupingKey = tuple((str(k), str(v)) for k, v in doc["key"])
    if not key or key != tuple(sorted(key)):
        raise ValueError("grouping key missing or not sorted")
    families: dict[str, PushedFamily] = {}
    for f in doc["families"]:
        samples = tuple(
            (tuple((str(k), str(v)) for k, v in lbls), float(v)) for lbls, v in f["samples"]
        )
        families[str(f["name"])] = PushedFamily(
            str(f["name"]), str(f["type"]), str(f["help"]), samples, float(f["pushed_at"])
        )
    return Group(key, families, float(doc["push_time"]), float(doc["failure_time"]))
