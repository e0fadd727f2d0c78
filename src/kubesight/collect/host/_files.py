"""Reading /proc and /sys: whole files in one go, and name filters that remember.

Everything a collector cannot read or understand raises :class:`HostReadError`
naming the file (and line), which the collector turns into
``node_scrape_collector_success 0`` and a log line.
"""

from __future__ import annotations

import os
import re

from kubesight.errors import DecodeError

_CHUNK = 1 << 16  # 64 KiB: /proc/self/mountinfo and /proc/net/dev fit in one read on most hosts


class HostReadError(DecodeError):
    """A /proc or /sys file could not be read or parsed (the message names it)."""


def read_bytes(path: str) -> bytes:
    """The whole file at ``path``; /proc files are generated, so read until EOF."""
    try:
        # O_NONBLOCK: a FIFO dropped where a file should be (a textfile
        # directory is writable by other programs) reads empty instead of hanging.
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        raise HostReadError(f"{path}: cannot open: {exc.strerror or exc}") from exc
    try:
        chunks = []
        while True:
            b = os.read(fd, _CHUNK)
            if not b:
                break
            chunks.append(b)
    except OSError as exc:
        raise HostReadError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_text(path: str) -> str:
    return read_bytes(path).decode("utf-8", "replace")


def read_number(path: str) -> float:
    """A file holding one number (``/proc/sys/fs/...``)."""
    text = read_bytes(path).strip()
    try:
        return float(int(text))
    except ValueError:
        raise HostReadError(f"{path}: expected a number, got {text[:40]!r}") from None


def join(base: str, *parts: str) -> str:
    """``base/parts`` as node_exporter's ``filepath.Join``: no double slashes."""
    return os.path.join(base, *(p.lstrip("/") for p in parts))


class NameFilter:
    """``exclude``/``include`` regexes searched once per name, then remembered.

    Device and field names repeat every collection, so the regex runs once per
    new name instead of once per line (node_exporter's semantics: a name is
    kept when it matches ``include``, or when no include is set and it does
    not match ``exclude``).
    """

    _LIMIT = 4096  # names seen; cleared past it so churn (veth pairs) cannot grow it forever

    def __init__(self, exclude: re.Pattern[str] | None = None, include: re.Pattern[str] | None = None) -> None:
        self._exclude = exclude
        self._include = include
        self._seen: dict[str, bool] = {}

    def __call__(self, name: str) -> bool:
        keep = self._seen.get(name)
        if keep is None:
            if self._include is not None:
                keep = self._include.search(name) is not None
            else:
                keep = self._exclude is None or self._exclude.search(name) is None
            if len(self._seen) >= self._LIMIT:
                self._seen.clear()
            self._seen[name] = keep
        return keep
