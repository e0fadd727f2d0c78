"""Network counters: netdev (/proc/net/dev or rtnetlink), netstat (SNMP MIBs) and conntrack."""

from __future__ import annotations

import socket
import struct

from kubesight.collect.family import Family
from kubesight.collect.host._context import Context
from kubesight.collect.host._files import HostReadError

N = "__name__"

# /proc/net/dev columns, in order (node_exporter's names for them).
PROC_NET_DEV_KEYS = (
    "receive_bytes", "receive_packets", "receive_errs", "receive_drop", "receive_fifo", "receive_frame",
    "receive_compressed", "receive_multicast", "transmit_bytes", "transmit_packets", "transmit_errs",
    "transmit_drop", "transmit_fifo", "transmit_colls", "transmit_carrier", "transmit_compressed",
)
NETLINK_KEYS = (*PROC_NET_DEV_KEYS, "receive_nohandler")


def parse_proc_net_dev(data: bytes, path: str) -> dict[str, list[float]]:
    """Device name -> the 16 counters of :data:`PROC_NET_DEV_KEYS`."""
    devices: dict[str, list[float]] = {}
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if lineno <= 2 or not line.strip():
            continue  # two header lines
        name, colon, rest = line.partition(b":")
        values = rest.split()
        if not colon or len(values) != 16:
            raise HostReadError(f"{path}: line {lineno}: expected 'device: 16 counters': {line[:80]!r}")
        try:
            devices[name.strip().decode(errors="replace")] = [float(v) for v in values]
        except ValueError:
            raise HostReadError(f"{path}: line {lineno}: a counter is not a number: {line[:80]!r}") from None
    return devices


_RTM_GETLINK = 18
_RTM_NEWLINK = 16
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_NLM_F_REQUEST_DUMP = 0x301  # NLM_F_REQUEST | NLM_F_DUMP
_IFLA_IFNAME = 3
_IFLA_STATS64 = 23
_NLMSG = struct.Struct("=IHHII")
_RECV_BUF = 1 << 17  # 128 KiB: more than the kernel puts in one dump message batch (32 KiB)
_RTATTR = struct.Struct("=HH")


def _legacy(s: tuple[int, ...]) -> list[float]:
    """rtnl_link_stats64 folded into /proc/net/dev's columns, as the kernel (and node_exporter) fold them."""
    s = s + (0,) * (24 - len(s))
    (rx_p, tx_p, rx_b, tx_b, rx_err, tx_err, rx_drop, tx_drop, mcast, colls, rx_len, rx_over, rx_crc,
     rx_frame, rx_fifo, rx_missed, tx_abort, tx_carrier, tx_fifo, tx_hb, tx_window, rx_comp, tx_comp,
     rx_nohandler) = s[:24]
    return [float(x) for x in (
        rx_b, rx_p, rx_err, rx_drop + rx_missed, rx_fifo, rx_frame + rx_len + rx_over + rx_crc, rx_comp, mcast,
        tx_b, tx_p, tx_err, tx_drop, tx_fifo, colls, tx_carrier + tx_abort + tx_hb + tx_window, tx_comp,
        rx_nohandler)]


def parse_netlink_links(messages: bytes) -> tuple[dict[str, list[float]], bool]:
    """Devices from RTM_NEWLINK messages (-> :data:`NETLINK_KEYS` values) and whether NLMSG_DONE came."""
    devices: dict[str, list[float]] = {}
    off = 0
    while off + _NLMSG.size <= len(messages):
        length, mtype, _, _, _ = _NLMSG.unpack_from(messages, off)
        if length < _NLMSG.size or off + length > len(messages):
            raise HostReadError(f"rtnetlink: truncated message at byte {off}")
        if mtype == _NLMSG_DONE:
            return devices, True
        if mtype == _NLMSG_ERROR:
            (err,) = struct.unpack_from("=i", messages, off + 16)
            raise HostReadError(f"rtnetlink: RTM_GETLINK failed: errno {-err}")
        if mtype == _RTM_NEWLINK:
            name = None
            stats: tuple[int, ...] | None = None
            a = off + 32  # nlmsghdr (16) + ifinfomsg (16)
            end = off + length
            while a + 4 <= end:
                alen, atype = _RTATTR.unpack_from(messages, a)
                if alen < 4:
                    break
                if atype == _IFLA_IFNAME:
                    name = messages[a + 4:a + alen].rstrip(b"\0").decode(errors="replace")
                elif atype == _IFLA_STATS64:
                    n = min((alen - 4) // 8, 24)
                    stats = struct.unpack_from(f"={n}Q", messages, a + 4)
                a += (alen + 3) & ~3
            if name is not None and stats is not None:
                devices[name] = _legacy(stats)
        off += (length + 3) & ~3
    return devices, False


def netlink_links() -> dict[str, list[float]]:
    """Every link of this network namespace with its counters, through one RTM_GETLINK dump."""
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE) as s:
            s.settimeout(5)  # a dump answers at once; never hang a collection on it
            s.send(_NLMSG.pack(32, _RTM_GETLINK, _NLM_F_REQUEST_DUMP, 1, 0) + bytes(16))
            devices: dict[str, list[float]] = {}
            buf = bytearray(_RECV_BUF)
            view = memoryview(buf)
            while True:
                n = s.recv_into(buf)
                part, done = parse_netlink_links(bytes(view[:n]))
                devices.update(part)
                if done:
                    return devices
    except OSError as exc:
        raise HostReadError(f"rtnetlink: {exc}") from exc


def collect_netdev(ctx: Context, out: list[Family]) -> None:
    keys: tuple[str, ...] = NETLINK_KEYS
    if ctx.options.netdev_netlink:
        devices = netlink_links()
    else:
        path = ctx.proc("net/dev")
        devices, keys = parse_proc_net_dev(ctx.read(path), path), PROC_NET_DEV_KEYS
    keep = ctx.netdev_devices
    fams = [Family(f"node_network_{k}_total", "counter", f"Network device statistic {k}.") for k in keys]
    for dev, values in devices.items():
        if not keep(dev):
            continue
        for f, v in zip(fams, values, strict=True):
            f.samples.append((((N, f.name), ("device", dev)), v))
    out.extend(fams)


def _mib(ctx: Context, path: str, out: list[Family]) -> None:
    """/proc/net/netstat and /proc/net/snmp: a names line, then a values line, per protocol."""
    lines = [ln for ln in ctx.read(path).split(b"\n") if ln]
    if len(lines) % 2:
        raise HostReadError(f"{path}: line {len(lines)}: a names line without its values line")
    for i in range(0, len(lines), 2):
        names, values = lines[i].split(), lines[i + 1].split()
        if not names or not names[0].endswith(b":") or len(names) != len(values) or names[0] != values[0]:
            raise HostReadError(f"{path}: line {i + 1}: names and values lines do not pair up")
        proto = names[0][:-1].decode(errors="replace")

        def pick(ctx: Context, raw: bytes, proto: str = proto) -> tuple[str, str] | None:
            field = raw.decode(errors="replace")
            if not ctx.netstat_fields(f"{proto}_{field}"):
                return None
            return f"node_netstat_{proto}_{field}", f"Statistic {proto}{field}."

        _emit(ctx.layout(lines[i], names, pick, first=1), values, path, out)


def _snmp6_field(ctx: Context, raw: bytes) -> tuple[str, str] | None:
    name = raw.decode(errors="replace")
    six = name.find("6")
    if six < 0:
        return None
    key = f"{name[:six + 1]}_{name[six + 1:]}"
    return (f"node_netstat_{key}", f"Statistic {name}.") if ctx.netstat_fields(key) else None


def _emit(picked: list[tuple[int, str, str]], values: list[bytes], path: str, out: list[Family]) -> None:
    for i, name, help_ in picked:
        try:
            v = float(values[i])
        except ValueError:
            raise HostReadError(f"{path}: {name[13:]}: not a number: {values[i][:40]!r}") from None
        f = Family(name, "unknown", help_)
        f.samples.append((((N, name),), v))
        out.append(f)


def collect_netstat(ctx: Context, out: list[Family]) -> None:
    _mib(ctx, ctx.proc("net/netstat"), out)
    _mib(ctx, ctx.proc("net/snmp"), out)
    path = ctx.proc("net/snmp6")
    try:
        data = ctx.read(path)
    except HostReadError:
        return  # no IPv6 in this kernel: node_exporter carries on without it
    picked, values = ctx.pairs_layout(path, data, _snmp6_field)
    _emit(picked, values, path, out)


_CONNTRACK_STATS = (
    ("found", "Number of searched entries which were successful."),
    ("invalid", "Number of packets seen which can not be tracked."),
    ("ignore", "Number of packets seen which are already connected to a conntrack entry."),
    ("insert", "Number of entries inserted into the list."),
    ("insert_failed", "Number of entries for which list insertion was attempted but failed."),
    ("drop", "Number of packets dropped due to conntrack failure."),
    ("early_drop", "Number of dropped conntrack entries to make room for new ones, "
                   "if maximum table size was reached."),
    ("search_restart", "Number of conntrack table lookups which had to be restarted due to hashtable resizes."),
)


def parse_conntrack_stat(data: bytes, path: str) -> dict[str, float]:
    """/proc/net/stat/nf_conntrack: a header of names, then one row of hex counters per CPU; summed."""
    lines = data.decode(errors="replace").split("\n")
    header = lines[0].split()
    sums = dict.fromkeys(header, 0.0)
    for lineno, line in enumerate(lines[1:], 2):
        values = line.split()
        if not values:
            continue
        if len(values) != len(header):
            raise HostReadError(f"{path}: line {lineno}: {len(values)} values for {len(header)} names")
        try:
            for k, v in zip(header, values, strict=True):
                sums[k] += int(v, 16)
        except ValueError:
            raise HostReadError(f"{path}: line {lineno}: not hex counters: {line[:80]!r}") from None
    return sums


def collect_conntrack(ctx: Context, out: list[Family]) -> None:
    for file, name, help_ in (
        ("nf_conntrack_count", "node_nf_conntrack_entries",
         "Number of currently allocated flow entries for connection tracking."),
        ("nf_conntrack_max", "node_nf_conntrack_entries_limit", "Maximum size of connection tracking table."),
    ):
        f = Family(name, "gauge", help_)
        f.samples.append((((N, name),), ctx.number(ctx.proc("sys/net/netfilter", file))))
        out.append(f)
    path = ctx.proc("net/stat/nf_conntrack")
    sums = parse_conntrack_stat(ctx.read(path), path)
    for key, help_ in _CONNTRACK_STATS:
        if key not in sums:
            raise HostReadError(f"{path}: no {key} column")
        name = "node_nf_conntrack_stat_" + key
        f = Family(name, "gauge", help_)
        f.samples.append((((N, name),), sums[key]))
        out.append(f)
