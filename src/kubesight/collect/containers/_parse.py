"""Pure parsers of cgroup and /proc file contents: bytes in, numbers out.

Every parser raises :class:`ValueError` on content it does not understand;
the reader turns that into a counted ``malformed`` error for that file and
goes on with the rest of the cgroup. Formats are the kernel's
(Documentation/admin-guide/cgroup-v2.rst, cgroup-v1/*.rst, filesystems/proc.rst).
"""

from __future__ import annotations

# cAdvisor skips loopback, the host ends of veth pairs and bridges so that a
# pod's traffic is not counted twice (its own eth0 and the host's vethXXX).
IGNORED_INTERFACE_PREFIXES = ("lo", "veth", "docker", "nerdctl")


def flat_keyed(data: bytes) -> dict[bytes, bytes]:
    """``key value`` lines (cpu.stat, memory.stat, memory.events, cpuacct.stat)."""
    toks = data.split()
    if len(toks) % 2:
        raise ValueError("odd number of fields in a 'key value' file")
    return dict(zip(toks[::2], toks[1::2], strict=True))


def pick(data: bytes, keys: tuple[bytes, ...]) -> list[int | None]:
    """The values of ``keys`` in a ``key value`` file, None for a key not there.

    For memory.stat (50-70 lines, of which 4-5 are wanted): looking the keys
    up costs a third of splitting the whole file.
    """
    text = b"\n" + data
    out: list[int | None] = []
    for key in keys:
        i = text.find(b"\n" + key + b" ")
        if i < 0:
            out.append(None)
            continue
        start = i + len(key) + 2
        end = text.find(b"\n", start)
        out.append(int(text[start:end if end >= 0 else len(text)]))
    return out


def number(data: bytes) -> int | None:
    """A single unsigned number; ``max`` (cgroup v2's unlimited) is None."""
    s = data.strip()
    if s == b"max":
        return None
    v = int(s)
    if v < 0:
        raise ValueError(f"negative value {v}")
    return v


def cpu_max(data: bytes) -> tuple[int, int]:
    """cgroup v2 ``cpu.max`` (``$MAX $PERIOD``): (quota in µs, 0 when ``max``; period in µs)."""
    parts = data.split()
    if len(parts) != 2:
        raise ValueError("cpu.max is not '$MAX $PERIOD'")
    quota = 0 if parts[0] == b"max" else int(parts[0])
    period = int(parts[1])
    if quota < 0 or period < 0:
        raise ValueError("negative cpu.max")
    return quota, period


def cfs_quota_v1(data: bytes) -> int:
    """cgroup v1 ``cpu.cfs_quota_us``: -1 (no quota) becomes 0, as cAdvisor reports it."""
    v = int(data)
    if v < -1:
        raise ValueError(f"cfs_quota_us {v}")
    return max(v, 0)


def weight_to_shares(weight: int) -> int:
    """cgroup v2 ``cpu.weight`` [1, 10000] to v1 shares [2, 262144] (cAdvisor's mapping)."""
    if not 1 <= weight <= 10000:
        raise ValueError(f"cpu.weight {weight} outside [1, 10000]")
    return 2 + ((weight - 1) * 262142) // 9999


def psi_totals(data: bytes) -> tuple[int, int]:
    """``*.pressure``: the ``total=`` (µs) of the ``some`` and ``full`` lines (full is 0 if absent)."""
    # The kernel writes "some ..." then, since 5.13 for cpu, "full ...".
    if not data.startswith(b"some "):
        raise ValueError("pressure file does not start with a 'some' line")
    some = _total(data, 0)
    nl = data.find(b"\n")
    if nl < 0 or nl + 1 >= len(data):
        return some, 0
    if not data.startswith(b"full ", nl + 1):
        raise ValueError("pressure file's second line is not 'full'")
    return some, _total(data, nl + 1)


def _total(data: bytes, start: int) -> int:
    end = data.find(b"\n", start)
    if end < 0:
        end = len(data)
    i = data.find(b" total=", start, end)
    if i < 0:
        raise ValueError("pressure line without total=")
    sp = data.find(b" ", i + 7, end)  # a field a later kernel might add after total
    return int(data[i + 7:end if sp < 0 else sp])


IoEntry = tuple[int, int, int, int, int, int]
"""(major, minor, read bytes, written bytes, reads, writes)."""


def io_stat_v2(data: bytes) -> list[IoEntry]:
    """cgroup v2 ``io.stat``: ``MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=..``."""
    out: list[IoEntry] = []
    for line in data.splitlines():
        dev, _, rest = line.strip().partition(b" ")
        if not dev:
            continue
        maj, sep, mnr = dev.partition(b":")
        if not sep:
            raise ValueError(f"io.stat device {dev!r} is not MAJ:MIN")
        v = dict.fromkeys(_IO_KEYS, 0)
        for item in rest.split():
            k, eq, n = item.partition(b"=")
            if eq and k in v:
                v[k] = int(n)
        out.append((int(maj), int(mnr), v[b"rbytes"], v[b"wbytes"], v[b"rios"], v[b"wios"]))
    return out


_IO_KEYS = (b"rbytes", b"wbytes", b"rios", b"wios")


def blkio_v1(data: bytes) -> dict[tuple[int, int], tuple[int, int]]:
    """cgroup v1 ``blkio.*io_service{d,_bytes}*``: (major, minor) -> (Read, Write).

    Lines are ``MAJ:MIN Op value``; the closing ``Total N`` line is skipped.
    """
    out: dict[tuple[int, int], tuple[int, int]] = {}
    for line in data.splitlines():
        parts = line.split()
        if not parts or (len(parts) == 2 and parts[0] == b"Total"):
            continue
        if len(parts) != 3:
            raise ValueError(f"blkio line {line!r} is not 'MAJ:MIN Op value'")
        maj, sep, mnr = parts[0].partition(b":")
        if not sep:
            raise ValueError(f"blkio device {parts[0]!r} is not MAJ:MIN")
        key = (int(maj), int(mnr))
        value = int(parts[2])
        r, w = out.get(key, (0, 0))
        if parts[1] == b"Read":
            r = value
        elif parts[1] == b"Write":
            w = value
        out[key] = (r, w)
    return out


NetEntry = tuple[str, int, int, int, int, int, int, int, int]
"""(interface, rx bytes, rx packets, rx errors, rx dropped, tx bytes, tx packets, tx errors, tx dropped)."""


def net_dev(data: bytes) -> list[NetEntry]:
    """``/proc/<pid>/net/dev`` without cAdvisor's ignored interfaces (lo, veth*, docker*, nerdctl*)."""
    out: list[NetEntry] = []
    for line in data.splitlines()[2:]:
        name, sep, rest = line.partition(b":")
        if not sep:
            raise ValueError(f"net/dev line {line!r} has no 'iface:'")
        f = rest.split()
        if len(f) != 16:
            raise ValueError(f"net/dev line {line!r} has {len(f)} counters, not 16")
        iface = name.strip().decode()
        if iface.lower().startswith(IGNORED_INTERFACE_PREFIXES):
            continue
        out.append((iface, int(f[0]), int(f[1]), int(f[2]), int(f[3]),
                    int(f[8]), int(f[9]), int(f[10]), int(f[11])))
    return out


def meminfo_swap_used(data: bytes) -> int:
    """SwapTotal - SwapFree from /proc/meminfo, in bytes."""
    vals: dict[bytes, int] = {}
    for line in data.splitlines():
        key, _, rest = line.partition(b":")
        if key in (b"SwapTotal", b"SwapFree"):
            vals[key] = int(rest.split()[0]) * 1024
    if len(vals) != 2:
        raise ValueError("meminfo without SwapTotal/SwapFree")
    return max(vals[b"SwapTotal"] - vals[b"SwapFree"], 0)
