"""The ``collectors.containers`` config block: where the host's files are, what to report."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kubesight.errors import ConfigError


@dataclass(frozen=True)
class ContainerOptions:
    """Options of :class:`~kubesight.collect.containers.ContainerCollector` (all optional).

    In a DaemonSet the host's trees are mounted under ``/host``:
    ``cgroupfs: /host/sys/fs/cgroup``, ``procfs: /host/proc`` (with
    ``hostPID`` for ``/proc/1`` to be the host's init), ``sysfs: /host/sys``,
    ``docker_root: /host/var/lib/docker``.
    """

    cgroupfs: str = "/sys/fs/cgroup"
    procfs: str = "/proc"
    sysfs: str = "/sys"
    docker_root: str = "/var/lib/docker"
    prefixes: frozenset[str] = frozenset()
    """Report only the root and the cgroups under these paths (empty: all)."""
    spec_ttl: float = 60.0
    """Seconds a cgroup's limits are kept before they are read again (0: every collection)."""

    def __post_init__(self) -> None:
        for name in ("cgroupfs", "procfs", "sysfs", "docker_root"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigError(f"containers collector: {name} must be a non-empty path")
        bad = sorted(p for p in self.prefixes if not p.startswith("/"))
        if bad:
            raise ConfigError(f"containers collector: prefixes must be cgroup paths starting "
                              f"with '/': {', '.join(bad)}")
        ttl = self.spec_ttl
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl) \
                or ttl < 0:
            raise ConfigError(f"containers collector: spec_ttl must be a number of seconds >= 0, "
                              f"not {ttl!r}")
