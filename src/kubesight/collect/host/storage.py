"""Block devices and mounted filesystems: diskstats (+ udev properties) and filesystem."""

from __future__ import annotations

import contextlib
import os
import threading
from typing import NamedTuple

from kubesight.collect.family import Family
from kubesight.collect.host._context import Context
from kubesight.collect.host._files import HostReadError, join

N = "__name__"
_SECTOR = 512.0  # /proc/diskstats counts 512-byte sectors whatever the device's own sector size
_MS = 0.001  # its times are in milliseconds

# (name, type, help, scale) for the /proc/diskstats columns after the device name, in order.
DISK_COLUMNS = (
    ("node_disk_reads_completed_total", "counter", "The total number of reads completed successfully.", 1.0),
    ("node_disk_reads_merged_total", "counter", "The total number of reads merged.", 1.0),
    ("node_disk_read_bytes_total", "counter", "The total number of bytes read successfully.", _SECTOR),
    ("node_disk_read_time_seconds_total", "counter", "The total number of seconds spent by all reads.", _MS),
    ("node_disk_writes_completed_total", "counter", "The total number of writes completed successfully.", 1.0),
    ("node_disk_writes_merged_total", "counter", "The number of writes merged.", 1.0),
    ("node_disk_written_bytes_total", "counter", "The total number of bytes written successfully.", _SECTOR),
    ("node_disk_write_time_seconds_total", "counter",
     "This is the total number of seconds spent by all writes.", _MS),
    ("node_disk_io_now", "gauge", "The number of I/Os currently in progress.", 1.0),
    ("node_disk_io_time_seconds_total", "counter", "Total seconds spent doing I/Os.", _MS),
    ("node_disk_io_time_weighted_seconds_total", "counter", "The weighted # of seconds spent doing I/Os.", _MS),
    ("node_disk_discards_completed_total", "counter", "The total number of discards completed successfully.", 1.0),
    ("node_disk_discards_merged_total", "counter", "The total number of discards merged.", 1.0),
    # node_exporter reports discarded *sectors*, unscaled, under this name
    ("node_disk_discarded_sectors_total", "counter", "The total number of sectors discarded successfully.", 1.0),
    ("node_disk_discard_time_seconds_total", "counter",
     "This is the total number of seconds spent by all discards.", _MS),
    ("node_disk_flush_requests_total", "counter", "The total number of flush requests completed successfully", 1.0),
    ("node_disk_flush_requests_time_seconds_total", "counter",
     "This is the total number of seconds spent by all flush requests.", _MS),
)
_ATA = (
    ("ID_ATA_WRITE_CACHE", "node_disk_ata_write_cache", "ATA disk has a write cache."),
    ("ID_ATA_WRITE_CACHE_ENABLED", "node_disk_ata_write_cache_enabled", "ATA disk has its write cache enabled."),
    ("ID_ATA_ROTATION_RATE_RPM", "node_disk_ata_rotation_rate_rpm", "ATA disk rotation rate in RPMs (0 for SSDs)."),
)


def parse_diskstats(data: bytes, path: str) -> list[tuple[str, str, str, list[float]]]:
    """(device, major, minor, raw counters) per line of /proc/diskstats (14, 18 or 20 columns)."""
    disks = []
    for lineno, line in enumerate(data.split(b"\n"), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 14:
            raise HostReadError(f"{path}: line {lineno}: {len(parts)} columns, expected at least 14")
        try:
            values = [float(x) for x in parts[3:20]]
        except ValueError:
            raise HostReadError(f"{path}: line {lineno}: a counter is not a number: {line[:80]!r}") from None
        disks.append((parts[2].decode(errors="replace"), parts[0].decode(), parts[1].decode(), values))
    return disks


def udev_properties(ctx: Context, major: str, minor: str) -> dict[str, str]:
    """``E:KEY=VALUE`` lines of udev's database entry for a block device; empty when there is none."""
    try:
        data = ctx.read(join(ctx.options.udev_data, f"b{major}:{minor}"))
    except HostReadError:
        return {}  # no udev (containers, minimal hosts): node_exporter leaves the labels empty too
    props = {}
    for line in data.decode(errors="replace").split("\n"):
        if line.startswith("E:"):
            k, eq, v = line[2:].partition("=")
            if eq:
                props[k] = v
    return props


def collect_diskstats(ctx: Context, out: list[Family]) -> None:
    path = ctx.proc("diskstats")
    keep = ctx.disk_devices
    info = Family("node_disk_info", "gauge", "Info of /sys/block/<block_device>.")
    fams = [Family(name, typ, help_) for name, typ, help_, _ in DISK_COLUMNS]
    fs_info = Family("node_disk_filesystem_info", "gauge", "Info about disk filesystem.")
    dm_info = Family("node_disk_device_mapper_info", "gauge", "Info about disk device mapper.")
    ata = [Family(name, "gauge", help_) for _, name, help_ in _ATA]
    for dev, major, minor, values in parse_diskstats(ctx.read(path), path):
        if not keep(dev):
            continue
        u = udev_properties(ctx, major, minor)
        info.add(1, [("device", dev), ("major", major), ("minor", minor), ("path", u.get("ID_PATH", "")),
                     ("wwn", u.get("ID_WWN", "")), ("model", u.get("ID_MODEL", "")),
                     ("serial", u.get("ID_SERIAL_SHORT", "")), ("revision", u.get("ID_REVISION", ""))])
        for f, (_, _, _, scale), v in zip(fams, DISK_COLUMNS, values, strict=False):  # 14 to 20 columns
            f.samples.append((((N, f.name), ("device", dev)), v * scale))
        if u.get("ID_FS_TYPE"):
            fs_info.add(1, [("device", dev), ("type", u["ID_FS_TYPE"]), ("usage", u.get("ID_FS_USAGE", "")),
                            ("uuid", u.get("ID_FS_UUID", "")), ("version", u.get("ID_FS_VERSION", ""))])
        if u.get("DM_NAME"):
            dm_info.add(1, [("device", dev), ("name", u["DM_NAME"]), ("uuid", u.get("DM_UUID", "")),
                            ("vg_name", u.get("DM_VG_NAME", "")), ("lv_name", u.get("DM_LV_NAME", "")),
                            ("lv_layer", u.get("DM_LV_LAYER", ""))])
        if u.get("ID_ATA"):
            for f, (key, _, _) in zip(ata, _ATA, strict=True):
                with contextlib.suppress(KeyError, ValueError):  # absent or not a number: skipped
                    f.add(float(u[key]), [("device", dev)])
    out.append(info)
    out.extend(f for f in fams if f.samples)
    out.extend(f for f in (fs_info, dm_info, *ata) if f.samples)


class Mount(NamedTuple):
    device: str
    mountpoint: str
    fstype: str
    options: str


_UNESCAPE = (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\"))  # fstab(5) octal escapes


def parse_mounts(data: bytes, path: str, rootfs: str = "/") -> list[Mount]:
    """/proc/mounts lines; mount points unescaped and stripped of ``rootfs`` as node_exporter does."""
    mounts = []
    rootfs = rootfs.rstrip("/") or "/"  # "/host/" strips like "/host", leaving "/data" not "data"
    for lineno, line in enumerate(data.decode(errors="replace").split("\n"), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 4:
            raise HostReadError(f"{path}: line {lineno}: malformed mount point information: {line[:120]!r}")
        mp = parts[1]
        if "\\" in mp:
            for esc, ch in _UNESCAPE:
                mp = mp.replace(esc, ch)
        if rootfs != "/":
            mp = mp.removeprefix(rootfs) or "/"
        mounts.append(Mount(parts[0], mp, parts[2], parts[3]))
    return mounts


# statfs on these can block for minutes when the server is gone: it runs in a
# thread that the collection waits on for at most _STATFS_TIMEOUT_S.
_NETWORK_FS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "fuse.sshfs",
                         "fuse.glusterfs", "fuse.s3fs", "9p", "afs", "lustre"})
_STATFS_TIMEOUT_S = 5.0  # node_exporter's --collector.filesystem.mount-timeout default


class StuckMounts:
    """Mount points whose statfs did not answer in time; skipped until that call returns."""

    def __init__(self, timeout_s: float = _STATFS_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self.stuck: set[str] = set()

    def statvfs(self, path: str, fstype: str) -> os.statvfs_result:
        if fstype not in _NETWORK_FS:
            return os.statvfs(path)
        with self._lock:
            if path in self.stuck:
                raise TimeoutError(f"statfs {path} still hanging")
        box: list[os.statvfs_result | OSError] = []

        def run() -> None:
            try:
                box.append(os.statvfs(path))
            except OSError as exc:
                box.append(exc)
            with self._lock:
                self.stuck.discard(path)

        t = threading.Thread(target=run, name=f"statfs {path}", daemon=True)
        with self._lock:
            self.stuck.add(path)
        t.start()
        t.join(self.timeout_s)
        if not box:
            raise TimeoutError(f"statfs {path} did not answer in {self.timeout_s}s")
        r = box[0]
        if isinstance(r, OSError):
            raise r
        return r


_FS_METRICS = (
    ("node_filesystem_size_bytes", "Filesystem size in bytes."),
    ("node_filesystem_free_bytes", "Filesystem free space in bytes."),
    ("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes."),
    ("node_filesystem_files", "Filesystem total file nodes."),
    ("node_filesystem_files_free", "Filesystem total free file nodes."),
    ("node_filesystem_readonly", "Filesystem read-only status."),
)


def read_mounts(ctx: Context) -> tuple[bytes, str]:
    # /proc/1/mounts is the host's table when procfs is the host's; hidepid
    # (or no permission) hides it, and /proc/mounts is the next best.
    path = ctx.proc("1/mounts")
    try:
        return ctx.read(path), path
    except HostReadError:
        path = ctx.proc("mounts")
        return ctx.read(path), path


def collect_filesystem(ctx: Context, stuck: StuckMounts, out: list[Family]) -> None:
    data, path = read_mounts(ctx)
    err = Family("node_filesystem_device_error", "gauge",
                 "Whether an error occurred while getting statistics for the given device.")
    fams = [Family(name, "gauge", help_) for name, help_ in _FS_METRICS]
    seen: set[tuple[str, str, str]] = set()
    for m in parse_mounts(data, path, ctx.options.rootfs):
        key = (m.device, m.mountpoint, m.fstype)
        if key in seen or not ctx.mount_points(m.mountpoint) or not ctx.fs_types(m.fstype):
            continue
        seen.add(key)
        labels = (("device", m.device), ("fstype", m.fstype), ("mountpoint", m.mountpoint))
        try:
            st = stuck.statvfs(ctx.rootfs(m.mountpoint), m.fstype)
        except OSError:
            err.samples.append((((N, err.name), *labels), 1.0))
            continue
        err.samples.append((((N, err.name), *labels), 0.0))
        bs = float(st.f_bsize)
        ro = 1.0 if "ro" in m.options.split(",") else 0.0
        for f, v in zip(fams, (st.f_blocks * bs, st.f_bfree * bs, st.f_bavail * bs, float(st.f_files),
                               float(st.f_ffree), ro), strict=True):
            f.samples.append((((N, f.name), *labels), v))
    out.append(err)
    out.extend(fams)
