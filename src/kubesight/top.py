"""``kubesight top nodes|pods``: the ``kubectl top`` view, read through a server's query API.

CPU is cores used, as a rate over the last ``window``; memory is the working
set (what the kubelet and metrics-server report). Nodes come from the host
collector (``job="node"``; memory from the root cgroup's working set when the
container collector runs, else MemTotal - MemAvailable); pods from the
container collector (``job="cadvisor"``). Where no series carries a ``pod``
label (outside Kubernetes), ``top pods`` lists the busiest cgroups instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from kubesight.errors import KubesightError

Query = Callable[[str], list[tuple[dict[str, str], float]]]


class TopError(KubesightError):
    """The server could not be reached or refused a query."""


@dataclass(frozen=True)
class Row:
    name: str
    cpu: float | None  # cores; None: no CPU series (a cgroup without CPU accounting), not idle
    memory: float  # bytes
    namespace: str = ""
    cpu_pct: float | None = None
    memory_pct: float | None = None


def http_query(url: str, timeout: float = 30.0) -> Query:
    """Instant queries against ``url``'s ``/api/v1/query``."""
    base = url.rstrip("/")

    def query(expr: str) -> list[tuple[dict[str, str], float]]:
        try:
            r = httpx.get(f"{base}/api/v1/query", params={"query": expr}, timeout=timeout)
        except httpx.HTTPError as exc:
            raise TopError(f"cannot reach {base}: {exc}") from exc
        try:
            body = r.json()
        except ValueError:
            raise TopError(f"{base}/api/v1/query answered HTTP {r.status_code}, not JSON: "
                           f"{r.text[:200]!r}") from None
        if r.status_code != 200 or body.get("status") != "success":
            raise TopError(f"{base}: query {expr!r} failed: {body.get('error', r.status_code)}")
        data = body["data"]
        if data.get("resultType") != "vector":
            raise TopError(f"{base}: query {expr!r} returned a {data.get('resultType')}, not a vector")
        return [(dict(s["metric"]), float(s["value"][1])) for s in data["result"]]

    return query


def _by(rows: list[tuple[dict[str, str], float]], *keys: str) -> dict[tuple[str, ...], float]:
    return {tuple(m.get(k, "") for k in keys): v for m, v in rows if math.isfinite(v)}


def nodes(query: Query, window: str = "1m") -> list[Row]:
    busy = f'node_cpu_seconds_total{{job="node",mode!~"idle|iowait|steal"}}[{window}]'
    cpu = _by(query(f"sum by (instance) (rate({busy}))"), "instance")
    cores = _by(query('count by (instance) (node_cpu_seconds_total{job="node",mode="idle"})'), "instance")
    ws = _by(query('max by (instance) (container_memory_working_set_bytes{job="cadvisor",id="/"})'), "instance")
    used = _by(query('max by (instance) (node_memory_MemTotal_bytes{job="node"} '
                     '- node_memory_MemAvailable_bytes{job="node"})'), "instance")
    total = _by(query('max by (instance) (node_memory_MemTotal_bytes{job="node"})'), "instance")
    out = []
    for key in sorted(set(cpu) | set(total)):
        c, mem = cpu.get(key), ws.get(key, used.get(key, 0.0))
        out.append(Row(key[0], c, mem, cpu_pct=100 * c / cores[key] if c is not None and cores.get(key) else None,
                       memory_pct=100 * mem / total[key] if total.get(key) else None))
    return out


def pods(query: Query, namespace: str | None = "default", window: str = "1m",
         limit: int = 20) -> tuple[list[Row], bool]:
    """Pods of ``namespace`` (None: all), or the busiest cgroups when there are no pods at all.

    Returns the rows and whether they are pods (False: cgroups).
    """
    sel = 'job="cadvisor",pod!="",container!="",container!="POD"'
    if namespace:
        sel += f',namespace="{_escape(namespace)}"'
    cpu = _by(query(f"sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{{{sel}}}[{window}]))"),
              "namespace", "pod")
    mem = _by(query(f"sum by (namespace, pod) (container_memory_working_set_bytes{{{sel}}})"),
              "namespace", "pod")
    if cpu or mem or query('count(container_cpu_usage_seconds_total{job="cadvisor",pod!=""})'):
        return [Row(p, cpu.get((ns, p)), mem.get((ns, p), 0.0), namespace=ns)
                for ns, p in sorted(set(cpu) | set(mem))], True
    cg = 'job="cadvisor",id!="/"'
    cpu = _by(query(f"sum by (id, name) (rate(container_cpu_usage_seconds_total{{{cg}}}[{window}]))"),
              "id", "name")
    mem = _by(query(f"sum by (id, name) (container_memory_working_set_bytes{{{cg}}})"), "id", "name")
    rows = [Row(name or cid, cpu.get((cid, name)), mem.get((cid, name), 0.0))
            for cid, name in set(cpu) | set(mem)]
    # The busiest first: the whole cgroup tree is hundreds of entries.
    rows.sort(key=lambda r: (-_cpu(r), -r.memory, r.name))
    return rows[:limit] if limit > 0 else rows, False


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def _cpu(r: Row) -> float:
    """For sorting: no CPU figure sorts after an idle one."""
    return -1.0 if r.cpu is None else r.cpu


def sort_rows(rows: Sequence[Row], by: str | None) -> list[Row]:
    if by == "cpu":
        return sorted(rows, key=lambda r: (-_cpu(r), r.namespace, r.name))
    if by == "memory":
        return sorted(rows, key=lambda r: (-r.memory, r.namespace, r.name))
    return list(rows)


def cores(v: float | None) -> str:
    """Millicores, as kubectl prints them (``250m``); ``-`` where there is no CPU figure at all."""
    return "-" if v is None else f"{round(v * 1000)}m"


def mebibytes(v: float) -> str:
    return f"{round(v / (1 << 20))}Mi"


def _pct(v: float | None) -> str:
    return "<unknown>" if v is None else f"{round(v)}%"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded as kubectl's tabwriter does (3 spaces between)."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = ["   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in (header, *rows)]
    return "\n".join(lines) + "\n"


def format_nodes(rows: Sequence[Row]) -> str:
    return table(["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"],
                 [[r.name, cores(r.cpu), _pct(r.cpu_pct), mebibytes(r.memory), _pct(r.memory_pct)]
                  for r in rows])


def format_pods(rows: Sequence[Row], all_namespaces: bool, are_pods: bool) -> str:
    if not are_pods:
        return table(["CGROUP", "CPU(cores)", "MEMORY(bytes)"],
                     [[r.name, cores(r.cpu), mebibytes(r.memory)] for r in rows])
    if all_namespaces:
        return table(["NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)"],
                     [[r.namespace, r.name, cores(r.cpu), mebibytes(r.memory)] for r in rows])
    return table(["NAME", "CPU(cores)", "MEMORY(bytes)"],
                 [[r.name, cores(r.cpu), mebibytes(r.memory)] for r in rows])
