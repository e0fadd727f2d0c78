"""Atomic JSON snapshots on disk: the silences and the notification log survive restarts.

A snapshot is written to a temporary file in the same directory, flushed to
disk, then renamed over the old one, so a crash leaves either the old or the
new state and never half of one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("kubesight.notify")


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)  # the rename itself must reach the disk
    finally:
        os.close(fd)


def read_json(path: Path) -> Any:
    """The snapshot, or None when there is none; a damaged one is set aside, not fatal."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        bad = path.with_name(path.name + ".corrupt")
        log.error("cannot read %s (%s); moved aside to %s and starting empty", path, exc, bad)
        with contextlib.suppress(OSError):
            os.replace(path, bad)
        return None
