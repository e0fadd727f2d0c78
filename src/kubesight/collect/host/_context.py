"""What every host collector function receives: options, paths, filters and state."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kubesight.collect.host._files import HostReadError, NameFilter, join, read_bytes, read_number
from kubesight.collect.host.options import HostOptions

if TYPE_CHECKING:
    from kubesight.collect.host.system import CpuState, MemLayout


Picked = tuple[int, str, str]  # (index of the value, metric name, HELP)
_LAYOUTS_MAX = 256  # distinct headers remembered; a kernel has a few dozen


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
        self._paths: dict[tuple[str, ...], str] = {}
        self.meminfo: MemLayout | None = None
        self._layouts: dict[bytes | str, tuple[list[bytes], list[Picked]]] = {}

    def proc(self, *parts: str) -> str:
        path = self._paths.get(parts)
        if path is None:  # the same few dozen paths every collection: joined once
            path = self._paths[parts] = join(self.options.procfs, *parts)
        return path

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

    def pairs_layout(self, path: str, data: bytes, pick: Callable[[Context, bytes], tuple[str, str] | None],
                     ) -> tuple[list[Picked], list[bytes]]:
        """A "name value" per line file (/proc/vmstat, /proc/net/snmp6): the fields kept, and the values.

        Which fields are kept is worked out once per distinct list of names
        (the kernel's list does not change while it runs), so a collection
        does one ``split`` and a list comparison instead of a filter per line.
        """
        tokens = data.split()
        names, values = tokens[0::2], tokens[1::2]
        if len(names) != len(values):
            raise HostReadError(f"{path}: {len(tokens)} words, not 'name value' pairs")
        return self.layout(path, names, pick), values

    def layout(self, key: bytes | str, names: list[bytes],
               pick: Callable[[Context, bytes], tuple[str, str] | None], first: int = 0) -> list[Picked]:
        """The (index, metric name, HELP) of the ``names`` that ``pick`` keeps, cached under ``key``."""
        have = self._layouts.get(key)
        if have is not None and have[0] == names:
            return have[1]
        picked = []
        for i, raw in enumerate(names[first:], first):
            got = pick(self, raw)
            if got is not None:
                picked.append((i, *got))
        if len(self._layouts) >= _LAYOUTS_MAX:
            self._layouts.clear()
        self._layouts[key] = (names, picked)
        return picked

    def new_collection(self) -> None:
        self._cache.clear()
