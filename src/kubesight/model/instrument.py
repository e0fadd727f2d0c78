"""kubesight's own metrics: counters, gauges and histograms, rendered as text.

Kept tiny and dependency-free: every subsystem gets a :class:`Registry` passed in
(no global registry, so tests stay isolated) and the HTTP layer renders it at
``/metrics`` in the Prometheus text format 0.0.4.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Iterable, Sequence

LabelValues = tuple[str, ...]

# Prometheus client libraries' default request-latency buckets.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _fmt(v: float) -> str:
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if math.isnan(v):
        return "NaN"
    return repr(float(v)) if v != int(v) or abs(v) >= 1e15 else str(int(v))


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labelstr(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_esc(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        yield from self._samples()

    def _samples(self) -> Iterable[str]:
        return ()


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help, labelnames)
        self._values: dict[LabelValues, float] = {} if labelnames else {(): 0.0}

    def inc(self, amount: float = 1.0, *labels: str) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def get(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def _samples(self) -> Iterable[str]:
        for lv, v in sorted(self._values.items()):
            yield f"{self.name}{_labelstr(self.labelnames, lv)} {_fmt(v)}"


class Gauge(_Metric):
    """A value read from a callback at render time (a gauge, or a counter kept elsewhere)."""

    kind = "gauge"

    def __init__(self, name: str, help: str, fn: Callable[[], float], kind: str = "gauge") -> None:
        super().__init__(name, help)
        self.fn = fn
        self.kind = kind

    def _samples(self) -> Iterable[str]:
        yield f"{self.name} {_fmt(float(self.fn()))}"


class Histogram(_Metric):
    kind = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        super().__init__(name, help, labelnames)
        self.buckets = tuple(buckets)
        self._data: dict[LabelValues, list[float]] = {}

    def observe(self, value: float, *labels: str) -> None:
        with self._lock:
            d = self._data.get(labels)
            if d is None:
                d = self._data[labels] = [0.0] * (len(self.buckets) + 2)
            d[bisect.bisect_left(self.buckets, value)] += 1
            d[-1] += value

    def _samples(self) -> Iterable[str]:
        for lv, d in sorted(self._data.items()):
            cum = 0.0
            for b, c in zip((*self.buckets, math.inf), d[:-1], strict=True):
                cum += c
                le = f'le="{_fmt(b)}"'
                yield f"{self.name}_bucket{_labelstr(self.labelnames, lv, le)} {_fmt(cum)}"
            yield f"{self.name}_sum{_labelstr(self.labelnames, lv)} {_fmt(d[-1])}"
            yield f"{self.name}_count{_labelstr(self.labelnames, lv)} {_fmt(cum)}"


class Registry:
    def __init__(self) -> None:
        self._metrics: list[_Metric] = []

    def register(self, m: _Metric) -> None:
        self._metrics.append(m)

    def counter(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Counter:
        c = Counter(name, help, labelnames)
        self.register(c)
        return c

    def gauge(self, name: str, help: str, fn: Callable[[], float], kind: str = "gauge") -> Gauge:
        g = Gauge(name, help, fn, kind)
        self.register(g)
        return g

    def histogram(
        self, name: str, help: str, labelnames: Sequence[str] = (), buckets: Sequence[float] = DEFAULT_BUCKETS
    ) -> Histogram:
        h = Histogram(name, help, labelnames, buckets)
        self.register(h)
        return h

    def render(self) -> str:
        lines: list[str] = []
        for m in self._metrics:
            lines.extend(m.render())
        return "\n".join(lines) + "\n"
