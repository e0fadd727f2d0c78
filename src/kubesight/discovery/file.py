"""file_sd_configs: target groups read from YAML/JSON files, watched for changes.

Prometheus watches with inotify and also re-reads everything every
``refresh_interval``. Here the files' modification times (and the set of paths
a glob matches) are polled every few seconds instead, which needs no platform
dependency and catches the same edits; the full refresh stays as the backstop.
"""

from __future__ import annotations

import asyncio
import glob
import json
import logging
import os
import time
from collections.abc import Callable

import yaml

from kubesight.discovery._groups import parse_groups
from kubesight.discovery.targetgroup import SendGroups, TargetGroup

log = logging.getLogger("kubesight.discovery.file")

FILEPATH_LABEL = "__meta_filepath"
# 5s: an edit shows up within a scrape interval or so, while a stat() per file
# every few seconds costs nothing measurable.
DEFAULT_POLL_SECONDS = 5.0


class FileDiscoverer:
    def __init__(
        self,
        patterns: list[str],
        refresh_interval: float,
        poll_interval: float = DEFAULT_POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.patterns = patterns
        self.refresh_interval = refresh_interval
        self.poll_interval = poll_interval
        self._clock = clock
        self._groups_per_file: dict[str, int] = {}
        self._mtimes: dict[str, tuple[int, int]] = {}

    def _list_files(self) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for pattern in self.patterns:
            for name in glob.glob(pattern):
                try:
                    st = os.stat(name)
                except OSError:
                    continue  # removed between glob and stat: seen as gone on the next poll
                found[name] = (st.st_mtime_ns, st.st_size)
        return found

    def refresh(self) -> list[TargetGroup]:
        """Read every matching file; return the groups to send (empty ones for removals)."""
        files = self._list_files()
        out: list[TargetGroup] = []
        counts: dict[str, int] = {}
        for name in sorted(files):
            try:
                groups = read_file(name)
            except (OSError, ValueError, yaml.YAMLError) as exc:
                # As Prometheus: keep what the file gave last time, and say why.
                log.error("file_sd: error reading file %s: %s", name, exc)
                counts[name] = self._groups_per_file.get(name, 0)
                continue
            out.extend(groups)
            counts[name] = len(groups)
            for i in range(len(groups), self._groups_per_file.get(name, 0)):
                out.append(TargetGroup(source=f"{name}:{i}"))
        for name, n in self._groups_per_file.items():
            if name not in files:
                out.extend(TargetGroup(source=f"{name}:{i}") for i in range(n))
        self._groups_per_file = counts
        self._mtimes = files
        return out

    async def run(self, send: SendGroups) -> None:
        send(self.refresh())
        last_full = self._clock()
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                due = self._clock() - last_full >= self.refresh_interval
                if due or self._list_files() != self._mtimes:
                    groups = self.refresh()
                    last_full = self._clock()
                    if groups:
                        send(groups)
            except Exception:
                log.exception("file_sd: refresh failed for %s", self.patterns)


def read_file(name: str) -> list[TargetGroup]:
    with open(name, "rb") as f:
        content = f.read()
    ext = os.path.splitext(name)[1].lower()
    if ext == ".json":
        try:
            data = json.loads(content)
        except json.JSONDecodeError as exc:
            raise ValueError(str(exc)) from exc
        return parse_groups(data, name, {FILEPATH_LABEL: name})
    # BaseLoader keeps every scalar's text, as Go's decoder does for string
    # fields: `on: true` is the label "on" with value "true", not {True: True}.
    data = yaml.load(content, Loader=yaml.BaseLoader)
    return parse_groups(data, name, {FILEPATH_LABEL: name}, yaml_scalars=True,
                        text_nulls=True)


