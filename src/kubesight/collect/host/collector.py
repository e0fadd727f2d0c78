"""HostCollector: every enabled host collector, timed, with node_exporter's success series."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kubesight.collect.family import Family
from kubesight.collect.host import clock, net, storage, system
from kubesight.collect.host._context import Context
from kubesight.collect.host.options import HostOptions
from kubesight.collect.host.textfile import collect_textfile
from kubesight.errors import KubesightError

log = logging.getLogger("kubesight.collect.host")

_Collect = Callable[[Context, list[Family]], None]


class HostCollector:
    """node_exporter's host metrics, read from /proc and /sys under ``options``' paths.

    ``collect()`` never raises for what it cannot read: the collector concerned
    keeps what it had read, reports ``node_scrape_collector_success{collector}``
    0, and its error is logged once per change and kept in :attr:`errors`.
    """

    name = "node"

    def __init__(self, options: HostOptions | None = None, *, clock_fn: Callable[[], float] = time.perf_counter) -> None:
        self.options = options or HostOptions()
        self._ctx = Context(self.options, system.CpuState())
        self._stuck = storage.StuckMounts()
        self._clock = clock_fn
        self.errors: dict[str, str] = {}
        self._lock = threading.Lock()  # the store's appender and a /metrics request may collect at once
        table: dict[str, _Collect] = {
            "conntrack": net.collect_conntrack,
            "cpu": system.collect_cpu,
            "diskstats": storage.collect_diskstats,
            "entropy": system.collect_entropy,
            "filefd": system.collect_filefd,
            "filesystem": lambda ctx, out: storage.collect_filesystem(ctx, self._stuck, out),
            "loadavg": system.collect_loadavg,
            "meminfo": system.collect_meminfo,
            "netdev": net.collect_netdev,
            "netstat": net.collect_netstat,
            "pressure": system.collect_pressure,
            "stat": system.collect_stat,
            "textfile": self._textfile,
            "time": clock.collect_time,
            "timex": clock.collect_timex,
            "uname": clock.collect_uname,
            "vmstat": system.collect_vmstat,
        }
        self._collectors = [(n, table[n]) for n in self.options.enabled()]

    def _textfile(self, ctx: Context, out: list[Family]) -> None:
        problems = collect_textfile(ctx.options.textfile_directory, out)
        # Like node_exporter, bad files are logged and flagged by
        # node_textfile_scrape_error, not by the collector's success.
        key = "textfile files"
        text = "; ".join(problems)
        if text != self.errors.get(key, ""):
            if text:
                log.warning("host collector textfile: %s", text)
            self.errors.pop(key, None)
            if text:
                self.errors[key] = text

    @property
    def collectors(self) -> list[str]:
        """The names of the enabled collectors, in collection order."""
        return [n for n, _ in self._collectors]

    def collect(self) -> list[Family]:
        with self._lock:
            return self._collect()

    def _collect(self) -> list[Family]:
        self._ctx.new_collection()
        out: list[Family] = []
        duration = Family("node_scrape_collector_duration_seconds", "gauge",
                          "node_exporter: Duration of a collector scrape.")
        success = Family("node_scrape_collector_success", "gauge", "node_exporter: Whether a collector succeeded.")
        for name, fn in self._collectors:
            t0 = self._clock()
            ok = 1.0
            try:
                fn(self._ctx, out)
            except (KubesightError, OSError, ValueError) as exc:
                ok = 0.0
                self._failed(name, str(exc))
            except Exception as exc:  # a bug must not take the other collectors down
                ok = 0.0
                self._failed(name, f"unexpected {type(exc).__name__}: {exc}")
                log.exception("host collector %s", name)
            else:
                if self.errors.pop(name, None) is not None:
                    log.info("host collector %s: recovered", name)
            labels = (("collector", name),)
            duration.samples.append(((("__name__", duration.name), *labels), self._clock() - t0))
            success.samples.append(((("__name__", success.name), *labels), ok))
        self._ctx.new_collection()  # drop the file cache between collections
        out.append(duration)
        out.append(success)
        return out

    def _failed(self, name: str, message: str) -> None:
        if self.errors.get(name) != message:
            log.warning("host collector %s: %s", name, message)
        self.errors[name] = message
