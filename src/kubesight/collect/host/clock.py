"""The kernel's identity and clocks: uname, time (with clocksources) and timex (adjtimex(2))."""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Callable

from kubesight.collect.family import Family
from kubesight.collect.host._context import Context
from kubesight.collect.host._files import HostReadError

N = "__name__"


def collect_uname(ctx: Context, out: list[Family]) -> None:
    u = os.uname()
    try:
        # uname(2)'s domainname, which os.uname() leaves out; it is the
        # caller's UTS namespace either way, as for node_exporter's syscall.
        domain = ctx.read(ctx.proc("sys/kernel/domainname")).strip().decode(errors="replace")
    except HostReadError:
        domain = "(none)"  # what the kernel reports when none is set
    f = Family("node_uname_info", "gauge", "Labeled system information as provided by the uname system call.")
    f.add(1, [("sysname", u.sysname), ("release", u.release), ("version", u.version),
              ("machine", u.machine), ("nodename", u.nodename), ("domainname", domain)])
    out.append(f)


def collect_time(ctx: Context, out: list[Family], now: Callable[[], float] = time.time) -> None:
    t = now()
    f = Family("node_time_seconds", "gauge", "System time in seconds since epoch (1970).")
    f.samples.append((((N, f.name),), t))
    out.append(f)
    lt = time.localtime(t)
    z = Family("node_time_zone_offset_seconds", "gauge", "System time zone offset in seconds.")
    z.add(lt.tm_gmtoff, [("time_zone", lt.tm_zone)])
    out.append(z)
    avail = Family("node_time_clocksource_available_info", "gauge",
                   "Available clocksources read from '/sys/devices/system/clocksource'.")
    current = Family("node_time_clocksource_current_info", "gauge",
                     "Current clocksource read from '/sys/devices/system/clocksource'.")
    # node_exporter numbers the clocksource devices by their place in the sorted listing
    base = ctx.sys("devices/system/clocksource")
    dirs = sorted(n for n in os.listdir(base) if n.startswith("clocksource") and n[11:12].isdigit())
    for i, name in enumerate(dirs):
        d = os.path.join(base, name)
        dev = str(i)
        for cs in ctx.read(os.path.join(d, "available_clocksource")).decode(errors="replace").split():
            avail.samples.append((((N, avail.name), ("clocksource", cs), ("device", dev)), 1.0))
        cur = ctx.read(os.path.join(d, "current_clocksource")).strip().decode(errors="replace")
        current.add(1, [("clocksource", cur), ("device", dev)])
    out.append(avail)
    out.append(current)


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class Timex(ctypes.Structure):
    """struct timex of adjtimex(2); ctypes lays out the C padding between int and long fields."""

    _fields_ = [
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
        ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
        ("time", _Timeval), ("tick", ctypes.c_long), ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int), ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long), ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int), ("_reserved", ctypes.c_int * 11),
    ]


_TIME_ERROR = 5  # adjtimex's return value when the clock is not synchronized
_STA_NANO = 0x2000  # status bit: offset and jitter are in ns, not µs
_PPM16 = 1_000_000.0 * 65536.0  # freq, ppsfreq and stabil are ppm with a 16-bit fraction
_libc: ctypes.CDLL | None = None


def adjtimex() -> tuple[int, Timex]:
    """The kernel clock state, read-only (modes=0 needs no privilege)."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    tx = Timex()
    state = _libc.adjtimex(ctypes.byref(tx))
    if state < 0:
        errno = ctypes.get_errno()
        raise HostReadError(f"adjtimex: {os.strerror(errno)}")
    return int(state), tx


_TIMEX = (
    # (name, type, help, value from (state, timex, divisor))
    ("node_timex_sync_status", "gauge", "Is clock synchronized to a reliable server (1 = yes, 0 = no)."),
    ("node_timex_offset_seconds", "gauge", "Time offset in between local system and reference clock."),
    ("node_timex_frequency_adjustment_ratio", "gauge", "Local clock frequency adjustment."),
    ("node_timex_maxerror_seconds", "gauge", "Maximum error in seconds."),
    ("node_timex_estimated_error_seconds", "gauge", "Estimated error in seconds."),
    ("node_timex_status", "gauge", "Value of the status array bits."),
    ("node_timex_loop_time_constant", "gauge", "Phase-locked loop time constant."),
    ("node_timex_tick_seconds", "gauge", "Seconds between clock ticks."),
    ("node_timex_pps_frequency_hertz", "gauge", "Pulse per second frequency."),
    ("node_timex_pps_jitter_seconds", "gauge", "Pulse per second jitter."),
    ("node_timex_pps_shift_seconds", "gauge", "Pulse per second interval duration."),
    ("node_timex_pps_stability_hertz", "gauge", "Pulse per second stability, average of recent frequency changes."),
    ("node_timex_pps_jitter_total", "counter", "Pulse per second count of jitter limit exceeded events."),
    ("node_timex_pps_calibration_total", "counter", "Pulse per second count of calibration intervals."),
    ("node_timex_pps_error_total", "counter", "Pulse per second count of calibration errors."),
    ("node_timex_pps_stability_exceeded_total", "counter",
     "Pulse per second count of stability limit exceeded events."),
    ("node_timex_tai_offset_seconds", "gauge", "International Atomic Time (TAI) offset."),
)


def timex_values(state: int, tx: Timex) -> list[float]:
    """The values of :data:`_TIMEX`, in order, scaled as node_exporter scales them."""
    div = 1e9 if tx.status & _STA_NANO else 1e6
    return [
        0.0 if state == _TIME_ERROR else 1.0, tx.offset / div, 1 + tx.freq / _PPM16, tx.maxerror / 1e6,
        tx.esterror / 1e6, float(tx.status), float(tx.constant), tx.tick / 1e6, tx.ppsfreq / _PPM16,
        tx.jitter / div, float(tx.shift), tx.stabil / _PPM16, float(tx.jitcnt), float(tx.calcnt),
        float(tx.errcnt), float(tx.stbcnt), float(tx.tai),
    ]


def collect_timex(ctx: Context, out: list[Family]) -> None:
    for (name, typ, help_), v in zip(_TIMEX, timex_values(*adjtimex()), strict=True):
        f = Family(name, typ, help_)
        f.samples.append((((N, name),), v))
        out.append(f)
