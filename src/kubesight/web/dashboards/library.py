"""Where dashboards come from and where imported ones are kept.

Three sources, in this order of precedence when two share a uid:

- ``builtin``: ``*.json`` shipped inside the package (``web/dashboards/builtin``), read-only;
- ``file``: ``*.json`` in the directories of config ``dashboards.dirs``, read-only, re-read
  whenever they change (edits show without a restart); a file that is not a dashboard is
  listed with its error, not hidden;
- ``imported``: dashboards pushed through the API, kept as the Grafana JSON given (with
  ``uid``, ``id`` and ``version`` written in, as Grafana does) under
  ``<data_dir>/dashboards/<uid>.json``, each written to a temporary file, fsynced and
  renamed into place so a crash leaves the old or the new file, never half of one.

Saving follows Grafana's rules (``POST /api/dashboards/db``): a missing uid is generated;
replacing an existing dashboard needs ``overwrite`` or the version it was read at; a title
already used by another imported dashboard needs ``overwrite`` (which then replaces that
one); built-in and file dashboards cannot be saved over or deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import string
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import orjson

from kubesight.errors import KubesightError
from kubesight.web.dashboards.model import (
    MAX_DASHBOARD_BYTES,
    DashboardError,
    is_dashboard,
    load_json,
    normalize,
    unwrap,
)

log = logging.getLogger("kubesight.web.dashboards")

# Grafana's rule for uids: letters, digits, "-" and "_", at most 40 characters.
_UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_UID_ALPHABET = string.ascii_lowercase + string.digits
SOURCES = ("builtin", "file", "imported")


class LibraryError(KubesightError):
    """The library refused a save or a delete; ``status`` is Grafana's answer for it."""

    status = "bad-request"


class DashboardNotFoundError(LibraryError):
    status = "not-found"


class DashboardConflictError(LibraryError):
    """A uid, title or version conflict; ``status`` is Grafana's (``version-mismatch``, ``name-exists``)."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


class DashboardReadOnlyError(LibraryError):
    """Built-in and config-directory dashboards are provisioned: read-only, as in Grafana."""


@dataclass(frozen=True)
class Entry:
    """One dashboard of the library; ``error`` says why a listed file cannot be shown."""

    uid: str
    title: str
    source: str
    path: str
    tags: tuple[str, ...] = ()
    raw: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    error: str = ""
    version: int = 0
    id: int | None = None
    updated: float = 0.0

    @property
    def read_only(self) -> bool:
        return self.source != "imported"


def slugify(title: str) -> str:
    """A URL slug as Grafana makes one: lower case, runs of other characters as one "-"."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")


def new_uid() -> str:
    """A short random uid in the style of Grafana's (14 characters, starting with a letter)."""
    return secrets.choice(string.ascii_lowercase) + "".join(secrets.choice(_UID_ALPHABET) for _ in range(13))


def _uid_from_name(stem: str) -> str:
    """A stable uid for a file dashboard that has none: its file name, cleaned to uid characters."""
    uid = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:40]
    return uid or "dashboard"


def check_uid(uid: str) -> None:
    if len(uid) > 40:
        raise LibraryError("uid too long, max 40 characters")
    if not _UID.match(uid):
        raise LibraryError("uid contains illegal characters")


def _entry_from(raw: dict[str, Any] | None, text_error: str, *, source: str, path: str, stem: str,
                updated: float) -> Entry:
    if raw is None:
        return Entry(uid=_uid_from_name(stem), title=stem, source=source, path=path, error=text_error,
                     updated=updated)
    dash = unwrap(raw)
    uid = dash.get("uid")
    title = dash.get("title")
    tags = dash.get("tags")
    version = dash.get("version")
    did = dash.get("id")
    error = ""
    try:
        normalize(dash, source)
    except DashboardError as exc:
        error = f"{path}: {exc}"
    if isinstance(uid, str) and uid and not _UID.match(uid):
        error = error or f"{path}: uid {uid!r} is not a valid uid (letters, digits, - and _, at most 40)"
    return Entry(
        uid=uid if isinstance(uid, str) and _UID.match(uid) else _uid_from_name(stem),
        title=title if isinstance(title, str) and title else stem,
        source=source,
        path=path,
        tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        raw=None if error else dash,
        error=error,
        version=version if isinstance(version, int) and not isinstance(version, bool) else 0,
        id=did if source == "imported" and isinstance(did, int) and not isinstance(did, bool) else None,
        updated=updated,
    )


class DashboardLibrary:
    """Built-in, file and imported dashboards, listed together (see the module docstring)."""

    def __init__(
        self,
        builtin: bool = True,
        dirs: Sequence[str | Path] = (),
        data_dir: str | Path | None = None,
        builtin_dir: Traversable | Path | None = None,
        max_bytes: int = MAX_DASHBOARD_BYTES,
    ) -> None:
        self.dirs = [Path(d) for d in dirs]
        self.store = Path(data_dir) / "dashboards" if data_dir is not None else None
        self.max_bytes = max_bytes
        self._builtin_on = builtin
        self._builtin_dir = builtin_dir
        self._builtin: list[Entry] | None = None
        self._cache: dict[str, tuple[tuple[int, int, int], Entry]] = {}
        self._lock = threading.RLock()

    def configure(self, builtin: bool, dirs: Sequence[str | Path]) -> None:
        """Take a reloaded config's ``dashboards`` section (imported dashboards are untouched)."""
        with self._lock:
            self.dirs = [Path(d) for d in dirs]
            if builtin != self._builtin_on:
                self._builtin_on, self._builtin = builtin, None

    # --- reading --------------------------------------------------------------

    def _builtins(self) -> list[Entry]:
        if self._builtin is None:
            out: list[Entry] = []
            if self._builtin_on:
                root = self._builtin_dir or resources.files("kubesight.web.dashboards").joinpath("builtin")
                if root.is_dir():
                    for item in sorted(root.iterdir(), key=lambda t: t.name):
                        if item.name.endswith(".json") and item.is_file():
                            stem = item.name[:-5]
                            try:
                                raw: dict[str, Any] | None = load_json(item.read_bytes(), f"builtin/{item.name}",
                                                                       self.max_bytes)
                                err = ""
                            except DashboardError as exc:
                                raw, err = None, str(exc)
                            except OSError as exc:
                                raw, err = None, f"builtin/{item.name}: cannot read: {exc.strerror}"
                            out.append(_entry_from(raw, err, source="builtin", path=f"builtin/{item.name}",
                                                   stem=stem, updated=0.0))
            for e in out:
                if e.error:
                    log.error("built-in dashboard %s", e.error)
            self._builtin = out
        return self._builtin

    def _read_file(self, path: Path, source: str) -> Entry:
        try:
            st = path.stat()
        except OSError as exc:
            return Entry(uid=_uid_from_name(path.stem), title=path.stem, source=source, path=str(path),
                         error=f"{path}: cannot read: {exc.strerror}")
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._cache.get(str(path))
        if cached is not None and cached[0] == key:
            return cached[1]
        raw: dict[str, Any] | None = None
        err = ""
        if st.st_size > self.max_bytes:
            err = f"{path}: {st.st_size} bytes is over the {self.max_bytes >> 20} MiB limit for a dashboard"
        else:
            try:
                raw = load_json(path.read_bytes(), str(path), self.max_bytes)
                if not is_dashboard(unwrap(raw)):
                    raw, err = None, f"{path}: not a Grafana dashboard: it has neither 'panels' nor 'rows'"
            except OSError as exc:
                err = f"{path}: cannot read: {exc.strerror}"
            except DashboardError as exc:
                err = str(exc)
        entry = _entry_from(raw, err, source=source, path=str(path), stem=path.stem, updated=st.st_mtime)
        self._cache[str(path)] = (key, entry)
        return entry

    def _dir_entries(self, d: Path, source: str) -> Iterable[Entry]:
        try:
            files = sorted(p for p in d.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
        except OSError as exc:
            if source == "file":
                yield Entry(uid=_uid_from_name(d.name), title=d.name, source=source, path=str(d),
                            error=f"{d}: cannot list the dashboards directory: {exc.strerror}")
            return
        for p in files:
            if p.is_file():
                yield self._read_file(p, source)

    def list(self) -> list[Entry]:
        """Every dashboard; of two with one uid the first source wins and the other carries an error."""
        with self._lock:
            found: list[Entry] = list(self._builtins())
            for d in self.dirs:
                found.extend(self._dir_entries(d, "file"))
            if self.store is not None:
                found.extend(self._dir_entries(self.store, "imported"))
            listed = {e.path for e in found}
            self._cache = {k: v for k, v in self._cache.items() if k in listed}  # forget deleted files
            seen: dict[str, Entry] = {}
            out: list[Entry] = []
            for e in found:
                first = seen.get(e.uid)
                if first is not None:
                    e = Entry(uid=e.uid, title=e.title, source=e.source, path=e.path, tags=e.tags,
                              error=e.error or f"{e.path}: uid {e.uid!r} is already used by "
                                               f"{first.source} dashboard {first.path}", updated=e.updated)
                    out.append(e)
                    continue
                seen[e.uid] = e
                out.append(e)
            return out

    def get(self, uid: str) -> Entry:
        """The dashboard with this uid (it may carry an ``error`` instead of ``raw``)."""
        for e in self.list():
            if e.uid == uid:
                return e
        raise DashboardNotFoundError("Dashboard not found")

    # --- writing --------------------------------------------------------------

    def save(self, dashboard: Any, overwrite: bool = False) -> Entry:
        """Import (create or replace) one dashboard, by Grafana's rules; returns the stored entry."""
        if self.store is None:
            raise LibraryError("kubesight has no data directory to keep imported dashboards in")
        if not isinstance(dashboard, dict):
            raise DashboardError("dashboard: expected a JSON object")
        if not is_dashboard(dashboard):
            raise DashboardError("dashboard: not a Grafana dashboard: it has neither 'panels' nor 'rows'")
        normalize(dashboard)  # dashboard-level errors refuse the import; panel-level ones only mark panels
        title = dashboard.get("title")
        if not isinstance(title, str) or not title.strip():
            raise LibraryError("Dashboard title cannot be empty")
        uid = dashboard.get("uid")
        if uid is not None and not isinstance(uid, str):
            raise LibraryError("uid contains illegal characters")
        uid = uid or ""
        if uid:
            check_uid(uid)
        with self._lock:
            entries = [e for e in self.list() if not e.error or e.source == "imported"]
            by_uid = {e.uid: e for e in entries}
            existing = by_uid.get(uid) if uid else None
            if existing is not None and existing.read_only:
                raise DashboardReadOnlyError("Cannot save provisioned dashboard")
            same_title = next((e for e in entries if e.source == "imported" and e.title == title
                               and e.uid != uid), None)
            if same_title is not None:
                if not overwrite:
                    raise DashboardConflictError("A dashboard with the same name in the folder already exists",
                                                 "name-exists")
                if existing is None:
                    existing, uid = same_title, same_title.uid  # Grafana: overwrite takes the other's place
            if existing is not None and not overwrite:
                given = dashboard.get("version")
                if not isinstance(given, int) or isinstance(given, bool) or given != existing.version:
                    raise DashboardConflictError("The dashboard has been changed by someone else",
                                                 "version-mismatch")
            if not uid:
                uid = new_uid()
                while uid in by_uid:
                    uid = new_uid()
            ids = [e.id for e in entries if e.id is not None]
            stored = dict(dashboard)
            stored["uid"] = uid
            stored["id"] = existing.id if existing is not None and existing.id is not None else max(ids, default=0) + 1
            stored["version"] = (existing.version if existing is not None else 0) + 1
            path = self.store / f"{uid}.json"
            _write_atomic(path, orjson.dumps(stored, option=orjson.OPT_INDENT_2))
            if existing is not None and existing.path != str(path):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(existing.path)
            self._cache.pop(str(path), None)
            return self._read_file(path, "imported")

    def delete(self, uid: str) -> Entry:
        """Remove an imported dashboard; built-in and file ones are refused as Grafana refuses provisioned ones."""
        with self._lock:
            e = self.get(uid)
            if e.read_only:
                raise DashboardReadOnlyError("Dashboard cannot be deleted because it was provisioned")
            try:
                os.unlink(e.path)
            except FileNotFoundError as exc:
                raise DashboardNotFoundError("Dashboard not found") from exc
            _fsync_dir(Path(e.path).parent)
            self._cache.pop(e.path, None)
            return e


def _fsync_dir(d: Path) -> None:
    # The rename or unlink is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
