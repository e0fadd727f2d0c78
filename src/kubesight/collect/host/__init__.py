"""node_exporter-compatible host metrics read straight from /proc and /sys.

::

    collector = HostCollector(HostOptions(rootfs="/host", procfs="/host/proc", sysfs="/host/sys"))
    families = collector.collect()   # list[Family]: to_batch() for the store, encode() for /metrics

See docs/collect-host.md for the collectors, the options and the differences
from node_exporter.
"""

from kubesight.collect.host.collector import HostCollector
from kubesight.collect.host.options import COLLECTORS, HostOptions

__all__ = ["COLLECTORS", "HostCollector", "HostOptions"]
