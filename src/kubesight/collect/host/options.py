"""The host collector's settings: node_exporter's flags as one frozen dataclass.

Every default is the one Debian's ``prometheus-node-exporter`` 1.5.0 ships
with (``prometheus-node-exporter --help``), so a host scraped by both gives the
same series. Config and CLI flags are mapped onto :class:`HostOptions` by the
layers above; the field names follow node_exporter's flags
(``--collector.netstat.fields`` is ``netstat_fields``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubesight.errors import ConfigError

# The collectors this package has, in the order they are collected. All are on
# by default in node_exporter 1.5.0.
COLLECTORS: tuple[str, ...] = (
    "conntrack", "cpu", "diskstats", "entropy", "filefd", "filesystem", "loadavg",
    "meminfo", "netdev", "netstat", "pressure", "stat", "textfile", "time", "timex",
    "uname", "vmstat",
)

# Debian's defaults (its package patches the upstream mount point list to add
# /run, /mnt and /media; the netdev exclude "^lo$" is Debian's too).
MOUNT_POINTS_EXCLUDE = "^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
FS_TYPES_EXCLUDE = (
    "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|"
    "mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$"
)
DISKSTATS_DEVICE_EXCLUDE = r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$"
NETDEV_DEVICE_EXCLUDE = "^lo$"
NETSTAT_FIELDS = (
    "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|"
    "TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|"
    "Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|"
    "Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
)
VMSTAT_FIELDS = "^(oom_kill|pgpg|pswp|pg.*fault).*"
TEXTFILE_DIRECTORY = "/var/lib/prometheus/node-exporter"

_REGEX_FIELDS = (
    "filesystem_mount_points_exclude", "filesystem_fs_types_exclude",
    "diskstats_device_exclude", "diskstats_device_include",
    "netdev_device_exclude", "netdev_device_include", "netstat_fields", "vmstat_fields",
)


@dataclass(frozen=True)
class HostOptions:
    """What to read, from where, and what to leave out.

    ``enable``/``disable`` name collectors to switch on/off (node_exporter's
    ``--collector.X``/``--no-collector.X``); with ``disable_defaults`` only the
    ones in ``enable`` run (``--collector.disable-defaults``). An empty
    include/exclude regex means "not set", as in node_exporter.
    """

    rootfs: str = "/"
    procfs: str = "/proc"
    sysfs: str = "/sys"
    udev_data: str = "/run/udev/data"
    enable: frozenset[str] = frozenset()
    disable: frozenset[str] = frozenset()
    disable_defaults: bool = False
    cpu_guest: bool = True
    filesystem_mount_points_exclude: str = MOUNT_POINTS_EXCLUDE
    filesystem_fs_types_exclude: str = FS_TYPES_EXCLUDE
    diskstats_device_exclude: str = DISKSTATS_DEVICE_EXCLUDE
    diskstats_device_include: str = ""
    netdev_device_exclude: str = NETDEV_DEVICE_EXCLUDE
    netdev_device_include: str = ""
    netdev_netlink: bool = True
    netstat_fields: str = NETSTAT_FIELDS
    vmstat_fields: str = VMSTAT_FIELDS
    textfile_directory: str = TEXTFILE_DIRECTORY
    _compiled: dict[str, re.Pattern[str] | None] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = sorted((self.enable | self.disable) - set(COLLECTORS))
        if unknown:
            raise ConfigError(f"host collector: unknown collector(s) {', '.join(unknown)}; "
                              f"known: {', '.join(COLLECTORS)}")
        both = sorted(self.enable & self.disable)
        if both:
            raise ConfigError(f"host collector: {', '.join(both)} both enabled and disabled")
        for name in _REGEX_FIELDS:
            text = getattr(self, name)
            try:
                self._compiled[name] = re.compile(text) if text else None
            except re.error as exc:
                raise ConfigError(f"host collector: {name}: invalid regex {text!r}: {exc}") from exc
        for a, b in (("diskstats_device_exclude", "diskstats_device_include"),
                     ("netdev_device_exclude", "netdev_device_include")):
            # node_exporter refuses both; an include given alone replaces the
            # default exclude, which the caller cannot clear through a flag here.
            if getattr(self, b) and getattr(self, a) and getattr(self, a) != getattr(HostOptions, a):
                raise ConfigError(f"host collector: {a} and {b} are mutually exclusive")

    def regex(self, name: str) -> re.Pattern[str] | None:
        """The compiled regex of option ``name`` (None when empty)."""
        return self._compiled[name]

    def device_filter(self, exclude: str, include: str) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        """(exclude, include) patterns; an include given replaces the default exclude."""
        inc = self._compiled[include]
        return (None if inc is not None else self._compiled[exclude]), inc

    def enabled(self) -> list[str]:
        """The collectors that run, in :data:`COLLECTORS` order."""
        return [c for c in COLLECTORS
                if c in self.enable or (not self.disable_defaults and c not in self.disable)]
