"""Which cgroup hierarchy the host has, found once at start, and walking it.

- **v2 (unified)**: one tree, ``<root>/cgroup.controllers`` exists.
- **v1**: one tree per controller (``<root>/cpu``, ``cpuacct``, ``memory``,
  ``blkio``, ``pids``; ``cpu`` and ``cpuacct`` are often the same directory
  ``cpu,cpuacct``). **Hybrid** is v1 plus an empty v2 tree at
  ``<root>/unified``: the counters come from v1 (as cAdvisor and runc read
  them), the pressure files from the unified tree where a cgroup exists there.

The set of cgroups is the union of the directories of the trees read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

V1_CONTROLLERS = ("cpu", "cpuacct", "memory", "blkio", "pids")


@dataclass(frozen=True)
class Hierarchy:
    version: int  # 1 or 2; 0: none found
    unified: str = ""  # v2: the tree; v1: the hybrid unified tree, "" if none
    v1: dict[str, str] = field(default_factory=dict)  # controller -> tree (v1)

    def trees(self) -> list[str]:
        """The distinct directories to walk for the set of cgroups."""
        if self.version == 2:
            return [self.unified]
        if self.version == 0:
            return []
        seen: list[str] = []
        for c in ("memory", "cpuacct", "cpu", "blkio", "pids"):
            p = self.v1.get(c)
            if p and p not in seen:
                seen.append(p)
        return seen

    def describe(self) -> str:
        if self.version == 2:
            return f"cgroup v2 at {self.unified}"
        ctrls = ", ".join(f"{c}={p}" for c, p in sorted(self.v1.items()))
        hybrid = f"; unified (pressure only) at {self.unified}" if self.unified else ""
        return f"cgroup v1 ({ctrls}){hybrid}"


class NoCgroupsError(Exception):
    """No cgroup hierarchy under the given root."""


def detect(root: str = "/sys/fs/cgroup") -> Hierarchy:
    """The hierarchy mounted at ``root`` (``/host/sys/fs/cgroup`` in a DaemonSet)."""
    if os.path.exists(os.path.join(root, "cgroup.controllers")):
        return Hierarchy(2, unified=root)
    v1: dict[str, str] = {}
    for c in V1_CONTROLLERS:
        p = os.path.join(root, c)
        if os.path.isdir(p):
            v1[c] = os.path.realpath(p)
    if not v1:
        raise NoCgroupsError(f"no cgroup hierarchy at {root}: neither {root}/cgroup.controllers "
                             f"(v2) nor any of {root}/{{{','.join(V1_CONTROLLERS)}}} (v1); "
                             "give the host's cgroup mount (for example /host/sys/fs/cgroup)")
    unified = os.path.join(root, "unified")
    hybrid = unified if os.path.exists(os.path.join(unified, "cgroup.controllers")) else ""
    return Hierarchy(1, unified=hybrid, v1=v1)


def walk(tree: str, out: set[str], on_error: Callable[[str, OSError], None] | None = None) -> None:
    """Add the path of every cgroup under ``tree`` (``/`` for the tree itself) to ``out``.

    A directory that vanishes while it is listed is skipped: it was a cgroup
    being removed. One that cannot be listed goes to ``on_error`` and its
    subtree is skipped.
    """
    out.add("/")
    stack = [("", tree)]
    while stack:
        rel, d = stack.pop()
        try:
            with os.scandir(d) as it:
                for e in it:
                    # d_type comes from getdents: no stat per file entry.
                    if e.is_dir(follow_symlinks=False):
                        r = rel + "/" + e.name
                        out.add(r)
                        try:
                            # A directory's link count is 2 + its subdirectories
                            # (cgroupfs keeps it so): listing a leaf's files,
                            # most cgroups, is skipped for one lstat.
                            if e.stat(follow_symlinks=False).st_nlink == 2:
                                continue
                        except FileNotFoundError:
                            continue
                        stack.append((r, e.path))
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            if on_error is not None:
                on_error(d, exc)
