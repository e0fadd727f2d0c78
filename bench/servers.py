"""Start, measure and stop the servers a benchmark compares.

Each server runs as a child process on ``127.0.0.1`` with a free port and a
fresh data directory, and is measured from the outside through ``/proc`` so the
same yardstick applies to Go peers and to kubesight:

- CPU: ``utime + stime`` (plus ``cutime + cstime`` of reaped children) of the
  server's whole process tree, from ``/proc/<pid>/stat``;
- peak memory: ``VmHWM`` from ``/proc/<pid>/status`` (summed over the tree when
  a server forks workers — an upper bound, since shared pages count twice);
- disk: allocated bytes (``st_blocks * 512``, what ``du`` reports) under the
  data directory after the server's own flush, where it has one.

Peers come from Debian's packages (``prometheus``, ``victoria-metrics``); when
a binary is missing they are installed with apt-get, because CI machines start
empty. Nothing here talks to any address but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import orjson

HOST = "127.0.0.1"  # the only address a benchmark ever talks to
CLK_TCK = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
APT_PACKAGES = ("prometheus", "victoria-metrics")


class BenchError(Exception):
    """A server could not be installed, started, flushed or measured."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


_apt_updated = False


def ensure_packages(binaries: dict[str, str]) -> None:
    """Install the Debian packages of any missing binary (``{binary: package}``).

    ``apt-get update`` runs at most once per process: it is slow and one fresh
    index is enough for every install.
    """
    global _apt_updated
    missing = sorted({pkg for binary, pkg in binaries.items() if shutil.which(binary) is None})
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    # RUNLEVEL=1 asks invoke-rc.d not to start the packages' services: a
    # system Prometheus scraping away would take CPU from the server measured.
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "RUNLEVEL": "1"}
    try:
        if not _apt_updated:
            print(f"bench: installing {', '.join(missing)} (apt-get update first)", file=sys.stderr)
            subprocess.run([*sudo, "apt-get", "update"], check=True, env=env)
            _apt_updated = True
        subprocess.run([*sudo, "apt-get", "install", "-y", *missing], check=True, env=env)
        for pkg in missing:
            # In case a service started anyway (systemd ignores RUNLEVEL); best effort.
            subprocess.run([*sudo, "service", pkg, "stop"], capture_output=True, check=False)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BenchError(
            f"could not install {', '.join(missing)} with apt-get ({exc}); "
            "install them by hand or run as root"
        ) from exc
    still = [b for b in binaries if shutil.which(b) is None]
    if still:
        raise BenchError(f"apt-get install succeeded but {', '.join(still)} is still not on PATH")


# --- /proc readers ------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    # comm (field 2) may hold spaces and parentheses; everything after the last ')' is fixed.
    return raw[raw.rindex(")") + 2 :].split()


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(_stat_fields(int(entry.name))[1])
        except (OSError, ValueError, IndexError):
            continue  # exited while we looked
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants."""
    children = _children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid``'s tree, reaped children included."""
    ticks = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            f = _stat_fields(p)
            # Fields 14-17 of stat(5): utime stime cutime cstime (here 0-based after comm).
            ticks += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return ticks / CLK_TCK


def peak_rss_bytes(pid: int) -> int:
    """Sum of ``VmHWM`` over ``pid``'s tree."""
    total = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
    return total


def disk_bytes(path: Path) -> int:
    """Allocated bytes under ``path``, as ``du -s`` counts them (hard links once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            try:
                st = os.lstat(os.path.join(root, name))
            except FileNotFoundError:
                continue  # a compaction removed it while we walked
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def http_request(
    port: int, method: str, path: str, body: bytes | None = None, timeout: float = 10.0
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# --- servers ------------------------------------------------------------------------------------


@dataclass
class Measurement:
    cpu_s: float
    peak_rss: int
    disk: int


class Server:
    """One server process under test. Subclasses say how to run, probe and flush it."""

    name = "server"
    write_path = "/api/v1/write"
    ready_path = "/-/ready"
    # Printed beside the disk figure: what "after a flush" means for this server.
    disk_note = ""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir / self.name
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "server.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    # Subclasses --------------------------------------------------------------------------------

    def command(self) -> list[str]:
        raise NotImplementedError

    def flush(self) -> None:
        """Make everything acknowledged so far reach the data directory, if the server can."""

    def version(self) -> str:
        return ""

    def count_samples(self, names: Sequence[str], at_s: float, range_s: int) -> int | None:
        """Samples stored under these metric names in ``(at_s - range_s, at_s]``, via
        the Prometheus query API; None when the server cannot answer (no query API yet).

        A server that acknowledges writes and drops samples would otherwise look
        fast. One query per name, because ``count_over_time`` drops ``__name__``
        and Prometheus refuses the duplicate label sets that leaves.
        """

        def one(name: str) -> int | None:
            query = f'sum(count_over_time({{__name__="{name}"}}[{range_s}s]))'
            path = "/api/v1/query?" + urllib.parse.urlencode(
                {"query": query, "time": f"{at_s:.3f}"}
            )
            try:
                status, body = http_request(self.port, "GET", path, timeout=300.0)
                if status != 200:
                    return None
                result = orjson.loads(body)["data"]["result"]
                return int(float(result[0]["value"][1])) if result else 0
            except (
                OSError,
                http.client.HTTPException,
                orjson.JSONDecodeError,
                KeyError,
                IndexError,
                TypeError,
                ValueError,
            ):
                return None

        with ThreadPoolExecutor(4) as pool:
            counts = list(pool.map(one, names))
        return None if any(c is None for c in counts) else sum(c or 0 for c in counts)

    # Lifecycle ---------------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise BenchError(f"{self.name} is not running")
        return self.proc.pid

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=False)
        self.port = free_port()
        cmd = self.command()
        with open(self.log_path, "wb") as log:
            # A session of its own: Ctrl-C in the terminal reaches only us, and
            # we stop the server in order (stop() runs from a finally).
            self.proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with code {self.proc.returncode} during startup; "
                    f"command: {' '.join(cmd)}\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _ = http_request(self.port, "GET", self.ready_path, timeout=2.0)
                if status == 200:
                    return
            time.sleep(0.1)
        raise BenchError(f"{self.name} not ready after {READY_TIMEOUT_S:.0f}s\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        # SIGTERM first so servers shut down cleanly; SIGKILL only if they hang.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(f"  {self.name}| {ln}" for ln in text[-lines:])

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def measure_after_flush(self) -> Measurement:
        self.flush()
        # Flushes and merges may finish in the background after the call
        # returns; every server gets the same wait before du.
        wait_disk_settled(self.data_dir)
        return Measurement(
            cpu_seconds(self.pid), peak_rss_bytes(self.pid), disk_bytes(self.data_dir)
        )


def debian_version(package: str) -> str:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True
        )
    except OSError:
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def wait_disk_settled(path: Path, quiet_s: float = 10.0, limit_s: float = 120.0) -> None:
    """Wait until the size under ``path`` has not changed for ``quiet_s``.

    10 s: twice VictoriaMetrics' 5 s interval for writing in-memory parts to
    disk (its force_flush only makes data searchable). With 2 s, one run caught
    it before the last parts landed and read 1.3 B/sample for 2.35 settled.
    """
    deadline = time.monotonic() + limit_s
    last, since = disk_bytes(path), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = disk_bytes(path)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return


class Prometheus(Server):
    name = "prometheus"
    disk_note = "no flush API: WAL + head chunks once the size settles"
    binary = "prometheus"

    def command(self) -> list[str]:
        # No scrape_configs, rule_files or alerting: Debian's default config
        # scrapes Prometheus itself and node_exporter, which would add series
        # and CPU that are not the workload.
        config = self.workdir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 15s\n")
        return [
            self.binary,
            f"--config.file={config}",
            f"--web.listen-address={HOST}:{self.port}",
            f"--storage.tsdb.path={self.data_dir}",
            "--web.enable-remote-write-receiver",
            # The default (15d) already keeps the 1 h of test data; said here so
            # nobody wonders whether retention deleted something mid-run.
            "--storage.tsdb.retention.time=15d",
            "--log.level=warn",
        ]

    def flush(self) -> None:
        # Prometheus has no flush: acknowledged samples are in the WAL (written
        # on every append) and the head; compaction to a block happens only when
        # the head spans 3 h. The settle wait lets the WAL writer's buffer reach the file.
        return

    def version(self) -> str:
        return debian_version(self.binary)


class VictoriaMetrics(Server):
    name = "victoriametrics"
    ready_path = "/health"
    disk_note = "after /internal/force_flush, once the size settles"
    binary = "victoria-metrics"

    def command(self) -> list[str]:
        return [
            self.binary,
            f"-httpListenAddr={HOST}:{self.port}",
            f"-storageDataPath={self.data_dir}",
            # Explicit even where it is the default: no self-scraping (extra
            # series and CPU), retention far beyond the 1 h of test data.
            "-selfScrapeInterval=0",
            "-retentionPeriod=1",
            "-loggerLevel=WARN",
        ]

    def flush(self) -> None:
        status, body = http_request(self.port, "GET", "/internal/force_flush", timeout=60.0)
        if status // 100 != 2:
            raise BenchError(f"victoriametrics force_flush answered {status}: {body[:200]!r}")

    def version(self) -> str:
        # Debian builds report an empty app_version in /metrics; the package knows.
        return debian_version(self.binary)


class Kubesight(Server):
    name = "kubesight"
    disk_note = "after POST /-/flush, once the size settles"

    @staticmethod
    def base_command() -> list[str]:
        # The console script of the interpreter running the benchmark, so the
        # kubesight measured is the one installed beside this checkout.
        script = Path(sys.executable).parent / "kubesight"
        if script.exists():
            return [str(script)]
        return [sys.executable, "-m", "kubesight"]

    @classmethod
    def runnable(cls) -> tuple[bool, str]:
        """Whether ``kubesight server`` exists yet, and why not."""
        try:
            out = subprocess.run(
                [*cls.base_command(), "server", "--help"],
                capture_output=True,
                text=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, str(exc)
        if out.returncode != 0:
            last = (out.stderr or out.stdout).strip().splitlines()
            return False, last[-1] if last else f"exit code {out.returncode}"
        return True, ""

    def command(self) -> list[str]:
        return [
            *self.base_command(),
            "server",
            "--data-dir",
            str(self.data_dir),
            "--listen",
            f"{HOST}:{self.port}",
        ]

    def flush(self) -> None:
        status, body = http_request(self.port, "POST", "/-/flush", timeout=300.0)
        if status // 100 != 2:
            raise BenchError(f"kubesight /-/flush answered {status}: {body[:200]!r}")

    def version(self) -> str:
        # The package version says little during development; the commit of
        # the source tree measured (and whether src/ had uncommitted changes) does.
        try:
            from importlib.metadata import version

            import kubesight

            text = version("kubesight")
            repo = Path(kubesight.__file__).resolve().parents[2]
            if (repo / ".git").exists():
                git = ["git", "-C", str(repo)]
                head = subprocess.run(
                    [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
                ).stdout.strip()
                dirty = subprocess.run(
                    [*git, "status", "--porcelain", "--", "src"], capture_output=True, text=True
                ).stdout.strip()
                text += f" ({head}{' + uncommitted changes in src/' if dirty else ''})"
            return text
        except Exception:  # version is decoration; never fail a run for it
            return ""


SERVERS: dict[str, type[Server]] = {
    "prometheus": Prometheus,
    "victoriametrics": VictoriaMetrics,
    "kubesight": Kubesight,
}
