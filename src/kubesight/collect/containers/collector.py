"""The container collector: cAdvisor's ``container_*`` series from the cgroup tree.

One :meth:`ContainerCollector.collect` walks the hierarchy found at start
(v2, v1 or hybrid), reads every cgroup's files, labels each cgroup through a
:class:`~kubesight.collect.containers.resolve.Resolver` and returns the
families. The root ``/``, the QoS and pod cgroups and the containers are all
reported, as the kubelet's ``/metrics/cadvisor`` does. Network counters come
from ``/proc/<pid>/net/dev`` of a process in the cgroup, for the root (pid
1), each pod (on its sandbox, the ``pause`` container, or on the pod cgroup
when no sandbox is seen) and each container outside a pod.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import zlib
from collections.abc import Callable

from kubesight.collect.containers import _metrics
from kubesight.collect.containers._read import Errors, Reader, Spec, Stats, VanishedError
from kubesight.collect.containers.hierarchy import Hierarchy, NoCgroupsError, detect, walk
from kubesight.collect.containers.layout import CgroupRef, classify
from kubesight.collect.containers.options import ContainerOptions
from kubesight.collect.containers.resolve import Identity, Resolver, default_resolver
from kubesight.collect.family import Family
from kubesight.model.labels import Labels

log = logging.getLogger("kubesight.collect.containers")

# The sandbox process of containerd, CRI-O and dockershim pods is the pause binary.
SANDBOX_COMM = "pause"


def block_devices(sys_root: str = "/sys") -> dict[tuple[int, int], str]:
    """(major, minor) -> ``/dev/<name>`` for the disks in ``/sys/block``, as cAdvisor names them.

    Loop, ram and optical devices are left out as cAdvisor leaves them out.
    """
    out: dict[tuple[int, int], str] = {}
    base = os.path.join(sys_root, "block")
    try:
        names = os.listdir(base)
    except OSError:
        return out
    for name in names:
        if name.startswith(("loop", "ram", "sr")):
            continue
        try:
            with open(os.path.join(base, name, "dev"), "rb") as fh:
                maj, _, mnr = fh.read().strip().partition(b":")
            out[(int(maj), int(mnr))] = "/dev/" + name
        except (OSError, ValueError):
            continue
    return out


def _boot_time(proc: str, now: float) -> float:
    # cAdvisor floors creation times at boot, truncated to the minute.
    try:
        with open(os.path.join(proc, "uptime"), "rb") as fh:
            up = float(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return float(int((now - up) // 60 * 60))


def base_labels(path: str, ident: Identity) -> Labels:
    """The cgroup's label set (sorted by name, empty values left out)."""
    pairs = (("container", ident.container), ("id", path), ("image", ident.image),
             ("name", ident.name), ("namespace", ident.namespace), ("pod", ident.pod))
    return tuple(p for p in pairs if p[1])


class ContainerCollector:
    """cAdvisor-compatible container metrics; see docs/collect-containers.md."""

    name = "cadvisor"

    def __init__(
        self,
        resolver: Resolver | None = None,
        *,
        cgroup_root: str = "/sys/fs/cgroup",
        proc: str = "/proc",
        sys_root: str = "/sys",
        hierarchy: Hierarchy | None = None,
        prefixes: tuple[str, ...] = (),
        spec_ttl: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``prefixes`` limits the report to the root and cgroups under these paths
        (``("/kubepods",)`` for what a kubelet reports of pods); empty means all.
        ``spec_ttl``: seconds a cgroup's limits (``container_spec_*``, and whether
        it has a CFS quota) are kept before they are read again; 0 reads them
        on every collection."""
        self.resolver: Resolver = resolver if resolver is not None else default_resolver()
        self.cgroup_root = cgroup_root
        self.proc = proc
        self.sys_root = sys_root
        self.clock = clock
        self.prefixes = tuple(p.rstrip("/") for p in prefixes)
        self.errors = Errors()
        self.boot_time = _boot_time(proc, clock())
        self._refs: dict[str, CgroupRef] = {}
        self._starts: dict[str, float] = {}
        self.spec_ttl = spec_ttl
        self._specs: dict[str, tuple[float, Spec]] = {}
        self._sandbox: dict[str, bool] = {}
        self.reported = 0
        self._lock = threading.Lock()
        self._no_cgroups = ""
        self._setup(hierarchy if hierarchy is not None else self._detect())

    @classmethod
    def from_options(cls, options: ContainerOptions | None = None,
                     resolver: Resolver | None = None) -> ContainerCollector:
        """A collector from the config block (``resolver``: e.g. a :class:`PodIndex`)."""
        o = options or ContainerOptions()
        return cls(resolver if resolver is not None else default_resolver(o.docker_root),
                   cgroup_root=o.cgroupfs, proc=o.procfs, sys_root=o.sysfs,
                   prefixes=tuple(sorted(o.prefixes)), spec_ttl=float(o.spec_ttl))

    def _detect(self) -> Hierarchy:
        try:
            return detect(self.cgroup_root)
        except NoCgroupsError as exc:
            # Not fatal: the server runs on without container metrics, says so
            # in container_scrape_error, and looks again at each collection.
            self._no_cgroups = str(exc)
            return Hierarchy(0)

    def _setup(self, h: Hierarchy) -> None:
        self.hierarchy = h
        self.reader = Reader(h, self.errors, self.proc, lambda: block_devices(self.sys_root))
        if h.version == 0:
            log.warning("containers: %s", self._no_cgroups)
            return
        if h.version == 1 and "memory" in h.v1:
            try:
                with open(h.v1["memory"] + "/memory.use_hierarchy", "rb") as fh:
                    self.reader.v1_use_hierarchy = fh.read().strip() == b"1"
            except OSError:
                pass  # kernels without the knob are always hierarchical
        log.info("containers: %s", h.describe())

    # -- the walk --------------------------------------------------------
    def _paths(self) -> tuple[list[str], set[str]]:
        paths: set[str] = set()

        def unlistable(d: str, exc: OSError) -> None:
            self.errors.add("unreadable", "(directory)", d, exc)

        for tree in self.hierarchy.trees():
            walk(tree, paths, unlistable)
        unified: set[str] = set()
        if self.hierarchy.version == 1 and self.hierarchy.unified:
            walk(self.hierarchy.unified, unified, unlistable)
        if self.prefixes:
            paths = {p for p in paths if p == "/" or any(
                p == pre or p.startswith(pre + "/") for pre in self.prefixes)}
        return sorted(paths), unified

    def _ref(self, path: str) -> CgroupRef:
        ref = self._refs.get(path)
        if ref is None:
            ref = self._refs[path] = classify(path)
        return ref

    def _is_sandbox(self, ref: CgroupRef) -> bool:
        known = self._sandbox.get(ref.container_id)
        if known is None:
            pid = self.reader.first_pid(ref.path)
            if not pid:
                return False  # no process yet: ask again next time
            known = self._sandbox[ref.container_id] = self.reader.comm(pid) == SANDBOX_COMM
        return known

    def _network_owners(self, refs: list[CgroupRef]) -> dict[str, str]:
        """cgroup path -> the cgroup path whose processes' network it reports."""
        owners: dict[str, str] = {"/": "/"}
        pods: dict[str, list[CgroupRef]] = {}
        for ref in refs:
            if ref.kind == "container":
                if ref.pod_uid:
                    pods.setdefault(ref.path.rpartition("/")[0], []).append(ref)
                else:
                    owners[ref.path] = ref.path
        for pod_path, conts in pods.items():
            sandbox = next((c for c in conts if self._is_sandbox(c)), None)
            if sandbox is not None:
                owners[sandbox.path] = sandbox.path
            else:
                # No pause process seen: the pod cgroup carries the pod's
                # network, read through any of its containers' processes.
                owners[pod_path] = next((c.path for c in conts
                                         if self.reader.first_pid(c.path)), "")
        return owners

    # -- one collection --------------------------------------------------
    def collect(self) -> list[Family]:
        """All cgroups' families; calls from several threads run one at a time (shared caches)."""
        with self._lock:
            return self._collect()

    def _collect(self) -> list[Family]:
        self.errors.failed = False
        if self.hierarchy.version == 0:
            h = self._detect()
            if h.version == 0:
                self.errors.add("unreadable", "(hierarchy)", self.cgroup_root, self._no_cgroups)
                self.reported = 0
                return self._self_families(0)
            self._setup(h)
        now = self.clock()
        fams = _metrics.Families()
        paths, unified = self._paths()
        refs = [self._ref(p) for p in paths]
        owners = self._network_owners(refs)
        v2 = self.hierarchy.version == 2
        if v2:
            self.reader.no_swap = not self.reader.host_has_swap()
        reported = 0
        for ref in refs:
            path = ref.path
            try:
                cached = self._specs.get(path)
                spec = cached[1] if cached is not None and cached[0] > now else None
                st = (self.reader.read_v2(path, spec is None) if v2
                      else self.reader.read_v1(path, path in unified, spec is None))
                if spec is not None:
                    st.set_spec(spec)
                else:
                    self._specs[path] = (now + self._spec_ttl(path), st.spec())
                st.start = self._start(path)
                owner = owners.get(path)
                if owner:
                    self._network(owner, st)
                labels = base_labels(path, self.resolver.resolve(ref))
            except VanishedError:
                self.errors.add("vanished", "(cgroup)", path)
                continue
            except Exception as exc:  # a bug must cost one cgroup, not the scrape
                log.exception("containers: reading %s", path)
                self.errors.add("error", type(exc).__name__, path, exc)
                continue
            fams.add(labels, st, float(int(now)))
            reported += 1
        self._forget(paths)
        self.reported = reported
        out = fams.families()
        out.extend(self._self_families(reported))
        return out

    def _start(self, path: str) -> float:
        # Computed once per cgroup, as cAdvisor fixes it when it first sees the
        # container (the directory's mtime moves when children are created).
        s = self._starts.get(path)
        if s is None:
            s = self._starts[path] = self.reader.start_time(path, self.boot_time)
        return s

    def _spec_ttl(self, path: str) -> float:
        # Spread over [3/4, 1] of the TTL by path, so that the cgroups seen in
        # one collection do not all read their limits again in the same later one.
        return self.spec_ttl * (0.75 + (zlib.crc32(path.encode()) % 1024) / 4096)

    def _network(self, owner: str, st: Stats) -> None:
        pid = 1 if owner == "/" else self.reader.first_pid(owner)
        if pid:
            st.net = self.reader.net(pid, owner)

    def _forget(self, paths: list[str]) -> None:
        live = set(paths)
        for cache in (self._refs, self._starts, self._specs):
            for p in [p for p in cache if p not in live]:
                del cache[p]
        ids = {self._refs[p].container_id for p in live if p in self._refs}
        for cid in [c for c in self._sandbox if c not in ids]:
            del self._sandbox[cid]

    def _self_families(self, reported: int) -> list[Family]:
        err = Family(*_metrics.SCRAPE_ERROR)
        err.add(1.0 if self.errors.failed else 0.0)
        total = Family(*_metrics.ERRORS_TOTAL)
        for (reason, file), n in sorted(self.errors.total.items()):
            total.add(n, (("reason", reason), ("file", file)))
        cg = Family(*_metrics.CGROUPS)
        cg.add(reported)
        return [err, total, cg]
