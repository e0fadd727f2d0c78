"""Reading one cgroup's files into a :class:`Stats`, as cAdvisor (through runc's cgroups) reads them.

Each file is one ``openat`` on the cgroup's directory descriptor, one
``read`` and one ``close``. What cannot be read is counted in
:class:`Errors` and left out (None); a cgroup removed while it is read is
dropped whole (:class:`VanishedError`), never reported half.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

from kubesight.collect.containers import _parse
from kubesight.collect.containers.hierarchy import Hierarchy

log = logging.getLogger("kubesight.collect.containers")

# USER_HZ: the unit of cpuacct.stat (100 on every Linux ABI; runc assumes it too).
CLOCK_TICKS = 100
_NS = 1_000_000_000
_T = TypeVar("_T")


class VanishedError(Exception):
    """The cgroup was removed while it was being read."""


class Errors:
    """What could not be read, by (reason, file), cumulative; ``failed`` is this collection's."""

    def __init__(self) -> None:
        self.total: Counter[tuple[str, str]] = Counter()
        self.failed = False
        self._logged: set[tuple[str, str]] = set()

    def add(self, reason: str, file: str, where: str, detail: object = "") -> None:
        self.total[(reason, file)] += 1
        if reason == "vanished":
            return  # cgroups come and go: not a failure
        self.failed = True
        if (reason, file) not in self._logged:  # once per kind, not once per scrape
            self._logged.add((reason, file))
            log.warning("containers: %s %s/%s: %s (skipped; counted in "
                        "kubesight_container_collector_errors_total)", reason, where, file, detail)


Spec = tuple[bool, int, int, int, bool, int, int, int]
"""has_cpu, cpu period, quota, shares, has_memory, limit, swap limit, reservation."""


class Stats:
    """One cgroup's values, in cAdvisor's units (seconds, bytes, counts); None = not read."""

    __slots__ = (
        "cfs_periods", "cfs_throttled", "cfs_throttled_s", "cpu_period", "cpu_quota",
        "cpu_shares", "cpu_system", "cpu_total", "cpu_user", "has_cpu", "has_memory", "io",
        "mem_cache", "mem_failcnt", "mem_inactive_file", "mem_limit", "mem_mapped",
        "mem_reservation", "mem_rss", "mem_swap", "mem_swap_limit", "mem_usage", "net", "oom",
        "psi", "start",
    )

    def __init__(self) -> None:
        self.cpu_total: float | None = None
        self.cpu_user: float | None = None
        self.cpu_system: float | None = None
        self.cfs_periods: int | None = None
        self.cfs_throttled: int | None = None
        self.cfs_throttled_s: float | None = None
        self.mem_usage: int | None = None
        self.mem_swap: int | None = None
        self.mem_cache: int | None = None
        self.mem_rss: int | None = None
        self.mem_mapped: int | None = None
        self.mem_inactive_file: int | None = None
        self.mem_failcnt: int | None = None
        self.oom: int | None = None
        self.io: list[tuple[str, int, int, int, int]] | None = None  # device, rB, wB, r, w
        self.psi: dict[str, tuple[float, float]] = {}  # resource -> (some s, full s)
        self.has_cpu = False
        self.cpu_period = 0
        self.cpu_quota = 0
        self.cpu_shares = 0
        self.has_memory = False
        self.mem_limit = 0
        self.mem_swap_limit = 0
        self.mem_reservation = 0
        self.start: float | None = None
        self.net: list[_parse.NetEntry] | None = None

    def spec(self) -> Spec:
        return (self.has_cpu, self.cpu_period, self.cpu_quota, self.cpu_shares,
                self.has_memory, self.mem_limit, self.mem_swap_limit, self.mem_reservation)

    def set_spec(self, spec: Spec) -> None:
        (self.has_cpu, self.cpu_period, self.cpu_quota, self.cpu_shares,
         self.has_memory, self.mem_limit, self.mem_swap_limit, self.mem_reservation) = spec


class _Cg:
    """Reading the files of one cgroup directory."""

    __slots__ = ("errors", "fd", "missing", "where")

    def __init__(self, path: str, errors: Errors) -> None:
        self.where = path
        self.errors = errors
        self.missing = False
        try:
            self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            raise VanishedError() from None

    def close(self) -> None:
        os.close(self.fd)

    def raw(self, name: str) -> bytes | None:
        try:
            fd = os.open(name, os.O_RDONLY, dir_fd=self.fd)
        except FileNotFoundError:
            self.missing = True
            return None
        except OSError as exc:
            if exc.errno == errno.ENODEV:
                raise VanishedError() from None
            self.errors.add("unreadable", name, self.where, exc)
            return None
        try:
            data = os.read(fd, 65536)
            if len(data) >= 4096:  # seq files may hand out a page at a time
                chunks = [data]
                while chunk := os.read(fd, 65536):
                    chunks.append(chunk)
                data = b"".join(chunks)
            return data
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.ENOENT):
                raise VanishedError() from None
            self.errors.add("unreadable", name, self.where, exc)
            return None
        finally:
            os.close(fd)

    def kv(self, name: str) -> dict[bytes, bytes] | None:
        data = self.raw(name)
        if data is None:
            return None
        try:
            return _parse.flat_keyed(data)
        except ValueError as exc:
            self.errors.add("malformed", name, self.where, exc)
            return None

    def pick(self, name: str, keys: tuple[bytes, ...], optional: tuple[bytes, ...] = ()
             ) -> tuple[list[int], list[int | None]] | None:
        """The values of ``keys`` (all required: one missing makes the file malformed)
        and of ``optional`` (None when absent); None when the file is absent or bad."""
        data = self.raw(name)
        if data is None:
            return None
        try:
            v = _parse.pick(data, keys + optional)
        except ValueError as exc:
            self.errors.add("malformed", name, self.where, exc)
            return None
        required: list[int] = []
        for k, x in zip(keys, v, strict=False):
            if x is None:
                self.errors.add("malformed", name, self.where, f"no {k.decode()}")
                return None
            required.append(x)
        return required, v[len(keys):]

    def num(self, name: str, default: int = 0) -> int:
        """A single number; ``max``/unlimited as 2**64-1 (cAdvisor's MaxUint64); ``default`` if absent."""
        data = self.raw(name)
        if data is None:
            return default
        try:
            v = _parse.number(data)
        except ValueError as exc:
            self.errors.add("malformed", name, self.where, exc)
            return default
        return (1 << 64) - 1 if v is None else v

    def opt_num(self, name: str, absent: int | None = None) -> int | None:
        """A single number; ``absent`` when there is no such file, None (counted) when garbled."""
        data = self.raw(name)
        if data is None:
            return absent
        try:
            v = _parse.number(data)
        except ValueError as exc:
            self.errors.add("malformed", name, self.where, exc)
            return None
        return (1 << 64) - 1 if v is None else v

    def parsed(self, name: str, parse: Callable[[bytes], _T]) -> _T | None:
        data = self.raw(name)
        if data is None:
            return None
        try:
            return parse(data)
        except ValueError as exc:
            self.errors.add("malformed", name, self.where, exc)
            return None


def _int(d: dict[bytes, bytes], key: bytes, cg: _Cg, file: str,
         absent: int | None = None) -> int | None:
    """``d[key]`` as an int; ``absent`` when the key is not there, None (counted) when garbled."""
    v = d.get(key)
    if v is None:
        return absent
    try:
        return int(v)
    except ValueError:
        cg.errors.add("malformed", file, cg.where, f"{key.decode()} {v!r}")
        return None


def _psi(cg: _Cg, st: Stats) -> None:
    for res in ("cpu", "memory", "io"):
        name = res + ".pressure"
        v = cg.parsed(name, _parse.psi_totals)
        if v is not None:
            some, full = v
            st.psi[res] = (some / 1e6, full / 1e6)


class Reader:
    """Reads cgroups of one :class:`Hierarchy` (v1, hybrid or v2)."""

    def __init__(self, hierarchy: Hierarchy, errors: Errors, proc: str = "/proc",
                 load_devices: Callable[[], dict[tuple[int, int], str]] | None = None) -> None:
        """``load_devices``: (major, minor) -> device name, called now and when an
        unknown device shows up (at most once a minute)."""
        self.h = hierarchy
        self.errors = errors
        self.proc = proc
        self.load_devices = load_devices
        self.devices = load_devices() if load_devices is not None else {}
        self._devices_at = time.monotonic()
        self.v1_use_hierarchy = True
        self._spec = True  # read the limits (cpu.max, memory.max...) in this read
        self._at_root = False
        self._blkio_start = 0  # v1: the first blkio source with data at the root
        self.no_swap = False  # the host has no swap space (set per collection)
        # v1: each directory opened once, with what to read there (cpu and
        # cpuacct are usually one co-mounted "cpu,cpuacct" tree).
        groups: dict[str, list[Callable[[_Cg, Stats], None]]] = {}
        for ctrl, fn in (("cpuacct", self._cpuacct_v1), ("cpu", self._cpu_v1),
                         ("memory", self._memory_v1), ("blkio", self._blkio_v1)):
            tree = hierarchy.v1.get(ctrl)
            if tree is not None:
                groups.setdefault(tree, []).append(fn)
        self._v1_groups = list(groups.items())

    def _named(self, entries: list[_parse.IoEntry]) -> list[tuple[str, int, int, int, int]]:
        """Entries by device name; devices without one (loop, ram: cAdvisor names only
        disks) are summed into one entry without a name, so that no two series
        of a cgroup share their labels."""
        out: list[tuple[str, int, int, int, int]] = []
        rest = [0, 0, 0, 0]
        unnamed = False
        for maj, mnr, rb, wb, r, w in entries:
            name = self.devices.get((maj, mnr), "")
            if not name and self.load_devices is not None:
                # A disk attached since the names were read? Read them again,
                # at most once a minute (loop devices are never named).
                now = time.monotonic()
                if now - self._devices_at >= 60:
                    self._devices_at = now
                    self.devices = self.load_devices()
                    name = self.devices.get((maj, mnr), "")
            if name:
                out.append((name, rb, wb, r, w))
            else:
                unnamed = True
                rest[0] += rb
                rest[1] += wb
                rest[2] += r
                rest[3] += w
        if unnamed:
            out.append(("", rest[0], rest[1], rest[2], rest[3]))
        return out

    # -- v2 --------------------------------------------------------------
    def read_v2(self, path: str, spec: bool = True) -> Stats:
        """The cgroup's counters, and its limits when ``spec``."""
        st = Stats()
        cg = _Cg(self.h.unified + path if path != "/" else self.h.unified, self.errors)
        try:
            self._cpu_v2(cg, st)
            self._memory_v2(cg, st, path == "/")
            self._io_v2(cg, st)
            _psi(cg, st)
            if spec:
                self._spec_v2(cg, st)
            if cg.missing and not os.path.isdir(cg.where):
                raise VanishedError()
        finally:
            cg.close()
        return st

    def _cpu_v2(self, cg: _Cg, st: Stats) -> None:
        # nr_periods and the rest are there only where the cpu controller is enabled.
        v = cg.pick("cpu.stat", (b"usage_usec", b"user_usec", b"system_usec"),
                    optional=(b"nr_periods", b"nr_throttled", b"throttled_usec"))
        if v is None:
            return
        (total, user, system), (st.cfs_periods, st.cfs_throttled, throttled) = v
        st.cpu_total = (total * 1000) / _NS
        st.cpu_user = (user * 1000) / _NS
        st.cpu_system = (system * 1000) / _NS
        st.cfs_throttled_s = None if throttled is None else (throttled * 1000) / _NS

    def _memory_v2(self, cg: _Cg, st: Stats, root: bool) -> None:
        v = cg.pick("memory.stat", (b"file", b"anon", b"file_mapped", b"inactive_file"))
        if v is not None:
            st.mem_cache, st.mem_rss, st.mem_mapped, st.mem_inactive_file = v[0]
        usage = cg.opt_num("memory.current")
        if usage is None and root:
            # The root has no memory.current: runc emulates it as anon + file,
            # the sum v1's root usage_in_bytes reports, and swap from meminfo.
            if st.mem_rss is not None and st.mem_cache is not None:
                usage = st.mem_rss + st.mem_cache
            try:
                with open(os.path.join(self.proc, "meminfo"), "rb") as fh:
                    st.mem_swap = _parse.meminfo_swap_used(fh.read())
            except (OSError, ValueError) as exc:
                self.errors.add("unreadable", "meminfo", self.proc, exc)
        else:
            # No memory.swap.current without swap accounting: 0, as runc reads it.
            # Without swap space at all, nothing can be swapped: not read.
            swap = 0 if self.no_swap else cg.opt_num("memory.swap.current", 0)
            if usage is not None:
                st.mem_swap = swap
        st.mem_usage = usage
        if usage is not None:
            st.mem_failcnt = 0  # v2 has no failcnt; cAdvisor reports 0
        ev = cg.kv("memory.events")
        if ev is not None:
            st.oom = _int(ev, b"oom_kill", cg, "memory.events", 0)

    def _io_v2(self, cg: _Cg, st: Stats) -> None:
        v = cg.parsed("io.stat", _parse.io_stat_v2)
        if v is not None:
            st.io = self._named([(maj, mnr, rb, wb, r, w) for maj, mnr, rb, wb, r, w in v])

    def _spec_v2(self, cg: _Cg, st: Stats) -> None:
        st.has_cpu = True  # cAdvisor: the cpu directory exists
        w = cg.opt_num("cpu.weight")
        if w:
            try:
                st.cpu_shares = _parse.weight_to_shares(w)
            except ValueError as exc:
                self.errors.add("malformed", "cpu.weight", cg.where, exc)
        m = cg.parsed("cpu.max", _parse.cpu_max)
        if m is not None:
            st.cpu_quota, st.cpu_period = m
        limit = cg.opt_num("memory.max")
        if limit is not None:
            st.has_memory = True
            st.mem_limit = limit
            st.mem_reservation = cg.num("memory.min")
            st.mem_swap_limit = cg.num("memory.swap.max")

    # -- v1 --------------------------------------------------------------
    def read_v1(self, path: str, unified_has: bool, spec: bool = True) -> Stats:
        """The cgroup's counters from every controller tree it is in, and its limits when ``spec``."""
        self._spec = spec
        self._at_root = path == "/"
        st = Stats()
        present = 0
        for tree, fns in self._v1_groups:
            try:
                cg = _Cg(tree + path if path != "/" else tree, self.errors)
            except VanishedError:
                continue  # not in this controller's tree (or gone: see below)
            present += 1
            try:
                for fn in fns:
                    fn(cg, st)
                if cg.missing and not os.path.isdir(cg.where):
                    raise VanishedError()  # removed while read: being torn down everywhere
            finally:
                cg.close()
        if present == 0:
            raise VanishedError()
        if unified_has:
            try:
                cg = _Cg(self.h.unified + path if path != "/" else self.h.unified, self.errors)
            except VanishedError:
                return st
            try:
                _psi(cg, st)
            finally:
                cg.close()
        return st

    def _cpuacct_v1(self, cg: _Cg, st: Stats) -> None:
        total = cg.opt_num("cpuacct.usage")
        if total is not None:
            st.cpu_total = total / _NS
        d = cg.kv("cpuacct.stat")
        if d is not None:
            u = _int(d, b"user", cg, "cpuacct.stat")
            s = _int(d, b"system", cg, "cpuacct.stat")
            if u is not None:
                st.cpu_user = (u * _NS // CLOCK_TICKS) / _NS
            if s is not None:
                st.cpu_system = (s * _NS // CLOCK_TICKS) / _NS

    def _cpu_v1(self, cg: _Cg, st: Stats) -> None:
        d = cg.kv("cpu.stat")
        if d is not None:
            st.cfs_periods = _int(d, b"nr_periods", cg, "cpu.stat")
            st.cfs_throttled = _int(d, b"nr_throttled", cg, "cpu.stat")
            t = _int(d, b"throttled_time", cg, "cpu.stat")
            st.cfs_throttled_s = None if t is None else t / _NS
        if self._spec:
            st.has_cpu = True
            st.cpu_shares = cg.num("cpu.shares")
            st.cpu_period = cg.num("cpu.cfs_period_us")
            st.cpu_quota = cg.parsed("cpu.cfs_quota_us", _parse.cfs_quota_v1) or 0

    def _memory_v1(self, cg: _Cg, st: Stats) -> None:
        pre = b"total_" if self.v1_use_hierarchy else b""
        v = cg.pick("memory.stat", (pre + b"cache", pre + b"rss", pre + b"mapped_file",
                                    b"total_inactive_file"), optional=(pre + b"swap",))
        if v is not None:
            # The working set always subtracts the hierarchical inactive file
            # (as cAdvisor); swap is absent without swap accounting: 0.
            st.mem_cache, st.mem_rss, st.mem_mapped, st.mem_inactive_file = v[0]
            st.mem_swap = v[1][0] or 0
        st.mem_usage = cg.opt_num("memory.usage_in_bytes")
        st.mem_failcnt = cg.opt_num("memory.failcnt")
        oc = cg.kv("memory.oom_control")
        if oc is not None:
            st.oom = _int(oc, b"oom_kill", cg, "memory.oom_control", 0)
        if self._spec:
            st.has_memory = True
            st.mem_limit = cg.num("memory.limit_in_bytes")
            st.mem_swap_limit = cg.num("memory.memsw.limit_in_bytes")
            st.mem_reservation = cg.num("memory.soft_limit_in_bytes")

    # runc's order: BFQ, CFQ, then the throttle files (counted whatever the scheduler).
    _BLKIO = (("blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive"),
              ("blkio.io_service_bytes_recursive", "blkio.io_serviced_recursive"),
              ("blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive"),
              ("blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced"))

    def _blkio_v1(self, cg: _Cg, st: Stats) -> None:
        # The root's recursive files hold every cgroup's I/O: a source empty
        # there is empty everywhere, so the others start where the root found
        # data (the root is read first in a collection).
        start = 0 if self._at_root else self._blkio_start
        for i, (bytes_file, ops_file) in enumerate(self._BLKIO[start:], start):
            b = cg.parsed(bytes_file, _parse.blkio_v1)
            if not b:
                continue  # absent or only "Total 0": the next source
            if self._at_root:
                self._blkio_start = i
            o = cg.parsed(ops_file, _parse.blkio_v1)
            if o is None:
                st.io = None  # bytes without operations: leave the cgroup's I/O out
                return
            st.io = self._named([(*dev, rb, wb, *o.get(dev, (0, 0))) for dev, (rb, wb) in b.items()])
            return
        if self._at_root:
            self._blkio_start = 0  # no I/O anywhere yet: every source, next time
        st.io = []

    # -- processes -------------------------------------------------------
    def host_has_swap(self) -> bool:
        """SwapTotal > 0 in /proc/meminfo (True when it cannot be told)."""
        try:
            with open(os.path.join(self.proc, "meminfo"), "rb") as fh:
                data = fh.read()
            i = data.find(b"SwapTotal:")
            return i < 0 or int(data[i + 10:data.find(b"kB", i)]) > 0
        except (OSError, ValueError):
            return True

    def first_pid(self, path: str) -> int:
        """A process of the cgroup (0 if none): its network namespace is the pod's."""
        tree = self.h.unified if self.h.version == 2 else (
            self.h.v1.get("memory") or self.h.v1.get("pids") or self.h.v1.get("cpu") or "")
        try:
            with open(tree + (path if path != "/" else "") + "/cgroup.procs", "rb") as fh:
                first = fh.readline()
            return int(first) if first.strip() else 0
        except (OSError, ValueError):
            return 0

    def comm(self, pid: int) -> str:
        try:
            with open(f"{self.proc}/{pid}/comm", "rb") as fh:
                return fh.read().strip().decode(errors="replace")
        except OSError:
            return ""

    def net(self, pid: int, where: str) -> list[_parse.NetEntry] | None:
        name = f"{self.proc}/{pid}/net/dev"
        try:
            with open(name, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return None  # the process ended
        except OSError as exc:
            self.errors.add("unreadable", "net/dev", where, exc)
            return None
        try:
            return _parse.net_dev(data)
        except ValueError as exc:
            self.errors.add("malformed", "net/dev", where, exc)
            return None

    def start_time(self, path: str, floor: float) -> float:
        """cAdvisor's creation time: the oldest mtime of the cgroup's directories and
        their ``cgroup.events`` (v2) / ``cgroup.clone_children`` (v1), not before boot."""
        best = float("inf")
        trees = [self.h.unified] if self.h.version == 2 else self.h.trees()
        probe = "cgroup.events" if self.h.version == 2 else "cgroup.clone_children"
        for tree in trees:
            d = tree + path if path != "/" else tree
            for p in (d, d + "/" + probe):
                with contextlib.suppress(OSError):
                    best = min(best, os.stat(p).st_mtime)
        return float(int(max(best, floor))) if best != float("inf") else float(int(floor))
