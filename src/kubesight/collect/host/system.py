"""CPU, memory and kernel counters: cpu, stat, meminfo, loadavg, vmstat, filefd, entropy, pressure.

Each ``collect_*`` appends finished families to ``out`` as it goes, so what
was read before a failure is kept (as node_exporter sends what it had) while
the failure itself makes the collector report ``success 0``.
"""

from __future__ import annotations

from typing import NamedTuple

from kubesight.collect.family import Family
from kubesight.collect.host._context import Context
from kubesight.collect.host._files import HostReadError

N = "__name__"
USER_HZ = 100.0  # /proc/stat counts in USER_HZ ticks, 100 on every Linux ABI node_exporter supports
_CPU_MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
_JUMP_BACK_S = 3.0  # node_exporter: idle going back more than this is a CPU hotplug, not jitter


def _bad(path: str, lineno: int, what: str) -> HostReadError:
    return HostReadError(f"{path}: line {lineno}: {what}")


class CpuState:
    """Last values per CPU, so counters never go backwards (node_exporter's jump-back rule)."""

    def __init__(self) -> None:
        self.cpus: dict[str, list[float]] = {}

    def update(self, cpu: str, new: list[float]) -> list[float]:
        old = self.cpus.get(cpu)
        if old is None or old[3] - new[3] >= _JUMP_BACK_S:
            self.cpus[cpu] = new
            return new
        for i, v in enumerate(new):
            if v >= old[i]:
                old[i] = v
        return old


def collect_cpu(ctx: Context, out: list[Family]) -> None:
    path = ctx.proc("stat")
    data = ctx.read(path)
    cpu = Family("node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.")
    guest = Family("node_cpu_guest_seconds_total", "counter",
                   "Seconds the CPUs spent in guests (VMs) for each mode.")
    seen: set[str] = set()
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if not line.startswith(b"cpu") or line[3:4] == b" ":
            if seen and not line.startswith(b"cpu"):
                break  # the cpuN lines come first and together
            continue
        parts = line.split()
        cid = parts[0][3:].decode()
        try:
            ticks = [float(x) / USER_HZ for x in parts[1:11]]
        except ValueError:
            raise _bad(path, lineno, f"a CPU time is not a number: {line[:80]!r}") from None
        if len(ticks) < 4 or not cid.isdigit():
            raise _bad(path, lineno, f"too few fields for a CPU: {line[:80]!r}")
        ticks += [0.0] * (10 - len(ticks))
        seen.add(cid)
        vals = ctx.cpu_state.update(cid, ticks)
        for mode, v in zip(_CPU_MODES, vals, strict=False):  # vals also has guest, guest_nice
            cpu.samples.append(((("__name__", cpu.name), ("cpu", cid), ("mode", mode)), v))
        if ctx.options.cpu_guest:
            guest.samples.append(((("__name__", guest.name), ("cpu", cid), ("mode", "user")), vals[8]))
            guest.samples.append(((("__name__", guest.name), ("cpu", cid), ("mode", "nice")), vals[9]))
    if not seen:
        raise HostReadError(f"{path}: no cpuN lines")
    for gone in ctx.cpu_state.cpus.keys() - seen:
        del ctx.cpu_state.cpus[gone]
    out.append(cpu)
    if ctx.options.cpu_guest:
        out.append(guest)


_STAT = {
    b"intr": ("node_intr_total", "counter", "Total number of interrupts serviced."),
    b"ctxt": ("node_context_switches_total", "counter", "Total number of context switches."),
    b"processes": ("node_forks_total", "counter", "Total number of forks."),
    b"btime": ("node_boot_time_seconds", "gauge", "Node boot time, in unixtime."),
    b"procs_running": ("node_procs_running", "gauge", "Number of processes in runnable state."),
    b"procs_blocked": ("node_procs_blocked", "gauge",
                       "Number of processes blocked waiting for I/O to complete."),
}


def collect_stat(ctx: Context, out: list[Family]) -> None:
    path = ctx.proc("stat")
    found: dict[bytes, float] = {}
    for lineno, line in enumerate(ctx.read(path).split(b"\n"), 1):
        key, _, rest = line.partition(b" ")
        if key in _STAT:
            first = rest.split(None, 1)[:1]
            try:
                found[key] = float(first[0])
            except (ValueError, IndexError):
                raise _bad(path, lineno, f"{key.decode()}: not a number: {line[:80]!r}") from None
    # Emitted in node_exporter's order; a missing line is an error as in procfs.
    for key in (b"intr", b"ctxt", b"processes", b"btime", b"procs_running", b"procs_blocked"):
        if key not in found:
            raise HostReadError(f"{path}: no {key.decode()} line")
        name, typ, help_ = _STAT[key]
        f = Family(name, typ, help_)
        f.samples.append((((N, name),), found[key]))
        out.append(f)


MemPick = tuple[int, str, float, str]  # (token index of the value, metric name, scale, HELP)


class MemLayout(NamedTuple):
    """Where each field of /proc/meminfo sits among its whitespace-separated words."""

    n_words: int
    key_at: list[int]
    keys: list[bytes]
    picks: list[MemPick]


def _mem_name(raw: bytes, has_unit: bool) -> tuple[str, float, str]:
    key = raw.decode(errors="replace").replace("(", "_").replace(")", "")  # Active(anon) -> Active_anon
    if has_unit:
        key += "_bytes"
    # the kernel writes "kB", meaning KiB
    return "node_memory_" + key, (1024.0 if has_unit else 1.0), f"Memory information field {key}."


def meminfo_layout(data: bytes, path: str) -> MemLayout:
    """Parse /proc/meminfo line by line, checking every line, into a reusable layout."""
    word = 0
    key_at: list[int] = []
    keys: list[bytes] = []
    picks: list[MemPick] = []
    seen: set[str] = set()
    for lineno, line in enumerate(data.split(b"\n"), 1):
        parts = line.split()
        if not parts:
            continue  # some kernels write blank lines
        if len(parts) not in (2, 3) or not parts[0].endswith(b":"):
            raise _bad(path, lineno, f"not 'Key: value [kB]': {line[:80]!r}")
        try:
            float(parts[1])
        except ValueError:
            raise _bad(path, lineno, f"value is not a number: {line[:80]!r}") from None
        name, scale, help_ = _mem_name(parts[0][:-1], len(parts) == 3)
        if name not in seen:
            seen.add(name)
            picks.append((word + 1, name, scale, help_))
        key_at.append(word)
        keys.append(parts[0])
        word += len(parts)
    return MemLayout(word, key_at, keys, picks)


def collect_meminfo(ctx: Context, out: list[Family]) -> None:
    path = ctx.proc("meminfo")
    data = ctx.read(path)
    words = data.split()
    lay = ctx.meminfo
    # The same keys at the same places as last time: only the values changed.
    if lay is None or lay.n_words != len(words) or [words[i] for i in lay.key_at] != lay.keys:
        lay = ctx.meminfo = meminfo_layout(data, path)
    for i, name, scale, help_ in lay.picks:
        try:
            v = float(words[i]) * scale
        except ValueError:
            raise HostReadError(f"{path}: {name[12:]}: not a number: {words[i][:40]!r}") from None
        f = Family(name, "gauge", help_)
        f.samples.append((((N, name),), v))
        out.append(f)


def collect_loadavg(ctx: Context, out: list[Family]) -> None:
    path = ctx.proc("loadavg")
    parts = ctx.read(path).split()
    try:
        loads = [float(x) for x in parts[:3]]
    except ValueError:
        raise HostReadError(f"{path}: load averages are not numbers: {parts[:3]!r}") from None
    if len(loads) != 3:
        raise HostReadError(f"{path}: expected 3 load averages, got {len(loads)}")
    for name, minutes, v in zip(("node_load1", "node_load5", "node_load15"), (1, 5, 15), loads, strict=True):
        f = Family(name, "gauge", f"{minutes}m load average.")
        f.samples.append((((N, name),), v))
        out.append(f)


def collect_vmstat(ctx: Context, out: list[Family]) -> None:
    path = ctx.proc("vmstat")
    picked, values = ctx.pairs_layout(path, ctx.read(path), _vmstat_field)
    for i, name, help_ in picked:
        try:
            v = float(values[i])
        except ValueError:
            raise HostReadError(f"{path}: {name[12:]}: not a number: {values[i][:40]!r}") from None
        f = Family(name, "unknown", help_)
        f.samples.append((((N, name),), v))
        out.append(f)


def _vmstat_field(ctx: Context, raw: bytes) -> tuple[str, str] | None:
    k = raw.decode(errors="replace")
    if not ctx.vmstat_fields(k):
        return None
    return "node_vmstat_" + k, f"/proc/vmstat information field {k}."


def collect_filefd(ctx: Context, out: list[Family]) -> None:
    path = ctx.proc("sys/fs/file-nr")
    parts = ctx.read(path).split()
    if len(parts) != 3:
        raise HostReadError(f"{path}: expected 3 numbers, got {len(parts)}")
    try:
        allocated, maximum = float(parts[0]), float(parts[2])
    except ValueError:
        raise HostReadError(f"{path}: not numbers: {parts!r}") from None
    for key, v in (("allocated", allocated), ("maximum", maximum)):
        name = "node_filefd_" + key
        f = Family(name, "gauge", f"File descriptor statistics: {key}.")
        f.samples.append((((N, name),), v))
        out.append(f)


def collect_entropy(ctx: Context, out: list[Family]) -> None:
    for file, name, help_ in (("entropy_avail", "node_entropy_available_bits", "Bits of available entropy."),
                              ("poolsize", "node_entropy_pool_size_bits", "Bits of entropy pool.")):
        v = ctx.number(ctx.proc("sys/kernel/random", file))
        f = Family(name, "gauge", help_)
        f.samples.append((((N, name),), v))
        out.append(f)


_PSI = (
    ("cpu", b"some", "node_pressure_cpu_waiting_seconds_total",
     "Total time in seconds that processes have waited for CPU time"),
    ("io", b"some", "node_pressure_io_waiting_seconds_total",
     "Total time in seconds that processes have waited due to IO congestion"),
    ("io", b"full", "node_pressure_io_stalled_seconds_total",
     "Total time in seconds no process could make progress due to IO congestion"),
    ("memory", b"some", "node_pressure_memory_waiting_seconds_total",
     "Total time in seconds that processes have waited for memory"),
    ("memory", b"full", "node_pressure_memory_stalled_seconds_total",
     "Total time in seconds no process could make progress due to memory congestion"),
)


def parse_psi(data: bytes, path: str) -> dict[bytes, float]:
    """``{b"some": seconds, b"full": seconds}`` from a /proc/pressure file (totals are in µs)."""
    totals: dict[bytes, float] = {}
    for lineno, line in enumerate(data.split(b"\n"), 1):
        kind, _, rest = line.partition(b" ")
        if not kind:
            continue
        _, found, total = rest.rpartition(b"total=")
        try:
            if not found:
                raise ValueError
            totals[kind] = int(total) / 1e6
        except ValueError:
            raise _bad(path, lineno, f"no total=<µs>: {line[:80]!r}") from None
    return totals


def collect_pressure(ctx: Context, out: list[Family]) -> None:
    files: dict[str, dict[bytes, float]] = {}
    for res, kind, name, help_ in _PSI:
        if res not in files:
            path = ctx.proc("pressure", res)
            files[res] = parse_psi(ctx.read(path), path)
        if kind not in files[res]:
            raise HostReadError(f"{ctx.proc('pressure', res)}: no '{kind.decode()}' line")
        f = Family(name, "counter", help_)
        f.samples.append((((N, name),), files[res][kind]))
        out.append(f)
