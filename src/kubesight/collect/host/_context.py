"""What every host collector function receives: options, paths, filters and state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubesight.collect.host._files import NameFilter, join, read_bytes, read_number
from kubesight.collect.host.options import HostOptions

if TYPE_CHECKING:
    from kubesight.collect.host.system import CpuState


class Context:
    """One per :class:`HostCollector`; ``read`` caches a file for one collection.

    /proc/stat feeds both the cpu and the stat collectors: it is read once.
    """

    def __init__(self, options: HostOptions, cpu_state: CpuState) -> None:
        o = options
        self.options = o
        self.cpu_state = cpu_state
        self.vmstat_fields = NameFilter(include=o.regex("vmstat_fields"))
        self.netstat_fields = NameFilter(include=o.regex("netstat_fields"))
        self.netdev_devices = NameFilter(*o.device_filter("netdev_device_exclude", "netdev_device_include"))
        self.disk_devices = NameFilter(*o.device_filter("diskstats_device_exclude", "diskstats_device_include"))
        self.mount_points = NameFilter(o.regex("filesystem_mount_points_exclude"))
        self.fs_types = NameFilter(o.regex("filesystem_fs_types_exclude"))
        self._cache: dict[str, bytes] = {}

    def proc(self, *parts: str) -> str:
        return join(self.options.procfs, *parts)

    def sys(self, *parts: str) -> str:
        return join(self.options.sysfs, *parts)

    def rootfs(self, path: str) -> str:
        return join(self.options.rootfs, path)

    def read(self, path: str) -> bytes:
        data = self._cache.get(path)
        if data is None:
            data = self._cache[path] = read_bytes(path)
        return data

    def number(self, path: str) -> float:
        return read_number(path)

    def new_collection(self) -> None:
        self._cache.clear()
