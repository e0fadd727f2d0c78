"""Write-ahead log: every acknowledged append is in the page cache before the ack.

Segments are files ``wal/<8-digit number>``, each a sequence of records::

    u32 payload length | u32 crc32(type + payload) | u8 type | payload

Record types: SERIES (new series ids with their label sets, JSON), SAMPLES
(series ids, timestamps, values as raw little-endian columns, zstd-compressed),
SAMPLES_AT (one timestamp for all, then series ids and values, uncompressed:
a scrape's samples, where compressing cost more CPU than the bytes it saved),
METADATA (JSON). A write goes to the kernel with one ``os.write`` before the
append returns, so it survives ``kill -9`` of the process; ``fsync`` is
configurable for surviving power loss too.

Replay reads segments in order and stops at the first torn or corrupt record:
the rest of that segment and any later segments are moved aside (never
silently deleted) and counted, like Prometheus' WAL repair.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cramjam
import numpy as np
import numpy.typing as npt
import orjson

from kubesight.errors import CorruptionError
from kubesight.model import Labels, MetricMetadata

_REC = struct.Struct("<IIB")
SERIES, SAMPLES, METADATA, SAMPLES_AT = 1, 2, 3, 4
_AT_HEAD = struct.Struct("<Iq")
_SEGMENT_BYTES = 64 << 20  # 64 MiB: few files, yet truncation frees space in useful steps
_MAX_RECORD = 1 << 30


@dataclass
class Replayed:
    series: list[tuple[int, Labels]]
    samples: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.float64]]]
    metadata: list[MetricMetadata]
    corrupt: list[str]


class WAL:
    def __init__(self, directory: Path, *, fsync: bool = False) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self._fd = -1
        self._seg = 0
        self._seg_bytes = 0

    # -- segments ------------------------------------------------------------

    def segments(self) -> list[int]:
        return sorted(int(p.name) for p in self.dir.iterdir() if p.name.isdigit())

    def _path(self, n: int) -> Path:
        return self.dir / f"{n:08d}"

    def open_for_append(self) -> None:
        """Start a fresh segment after the last existing one."""
        segs = self.segments()
        self._open(segs[-1] + 1 if segs else 1)

    def _open(self, n: int) -> None:
        if self._fd >= 0:
            self._close_fd()
        self._seg = n
        self._fd = os.open(self._path(n), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._seg_bytes = os.fstat(self._fd).st_size

    def _close_fd(self) -> None:
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = -1

    def rotate(self) -> int:
        """Close the current segment and open the next; returns the closed segment number."""
        closed = self._seg
        self._open(closed + 1)
        return closed

    def truncate_through(self, n: int) -> None:
        """Delete segments numbered <= n (their data is in blocks now)."""
        for s in self.segments():
            if s <= n and s != self._seg:
                self._path(s).unlink(missing_ok=True)

    def size_bytes(self) -> int:
        return sum(self._path(s).stat().st_size for s in self.segments())

    def close(self) -> None:
        if self._fd >= 0:
            self._close_fd()

    # -- writing -------------------------------------------------------------

    def _write(self, records: list[tuple[int, bytes]]) -> None:
        buf = bytearray()
        for typ, payload in records:
            crc = zlib.crc32(payload, zlib.crc32(bytes((typ,))))
            buf += _REC.pack(len(payload), crc, typ)
            buf += payload
        if self._seg_bytes and self._seg_bytes + len(buf) > _SEGMENT_BYTES:
            self.rotate()
        view = memoryview(buf)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self._seg_bytes += len(buf)
        if self.fsync:
            os.fsync(self._fd)

    def log(
        self,
        new_series: list[tuple[int, Labels]],
        sids: npt.NDArray[np.int32],
        ts: npt.NDArray[np.int64],
        vals: npt.NDArray[np.float64],
        metadata: list[MetricMetadata] | None = None,
        uniform_ts: bool = False,
    ) -> None:
        """Write one append's records in a single write call.

        ``uniform_ts``: every sample has the timestamp ``ts[0]`` (a scrape).
        """
        records: list[tuple[int, bytes]] = []
        if new_series:
            records.append((SERIES, orjson.dumps([[sid, lbls] for sid, lbls in new_series])))
        if metadata:
            records.append((METADATA, orjson.dumps([list(m) for m in metadata])))
        if len(sids) and uniform_ts:
            records.append((
                SAMPLES_AT,
                _AT_HEAD.pack(len(sids), int(ts[0]))
                + sids.astype("<i4", copy=False).tobytes()
                + vals.astype("<f8", copy=False).tobytes(),
            ))
        elif len(sids):
            raw = (
                struct.pack("<I", len(sids))
                + sids.astype("<i4", copy=False).tobytes()
                + ts.astype("<i8", copy=False).tobytes()
                + vals.astype("<f8", copy=False).tobytes()
            )
            records.append((SAMPLES, bytes(cramjam.zstd.compress(raw, level=1))))
        if records:
            self._write(records)

    # -- replay --------------------------------------------------------------

    def replay(self) -> Replayed:
        out = Replayed([], [], [], [])
        segs = self.segments()
        for i, s in enumerate(segs):
            path = self._path(s)
            good_end = 0
            try:
                for end, typ, payload in _read_records(path.read_bytes()):
                    _apply(out, typ, payload)
                    good_end = end
            except CorruptionError as exc:
                aside = self.dir / f"corrupt-{s:08d}-{good_end}"
                data = path.read_bytes()
                aside.write_bytes(data[good_end:])
                with open(path, "r+b") as f:
                    f.truncate(good_end)
                msg = f"WAL segment {path}: {exc}; kept the first {good_end} bytes, moved the rest to {aside.name}"
                later = segs[i + 1 :]
                for later_s in later:
                    lp = self._path(later_s)
                    lp.rename(self.dir / f"corrupt-{later_s:08d}-0")
                if later:
                    msg += f" and {len(later)} later segment(s) aside"
                out.corrupt.append(msg)
                break
        return out


def _read_records(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    o = 0
    n = len(data)
    while o < n:
        if n - o < _REC.size:
            raise CorruptionError(f"torn record header at byte {o}")
        length, crc, typ = _REC.unpack_from(data, o)
        if length > _MAX_RECORD or o + _REC.size + length > n:
            raise CorruptionError(f"torn record at byte {o} (length {length})")
        payload = data[o + _REC.size : o + _REC.size + length]
        if zlib.crc32(payload, zlib.crc32(bytes((typ,)))) != crc:
            raise CorruptionError(f"checksum mismatch in record at byte {o}")
        o += _REC.size + length
        yield o, typ, payload


def _apply(out: Replayed, typ: int, payload: bytes) -> None:
    try:
        if typ == SERIES:
            for sid, lbls in orjson.loads(payload):
                out.series.append((int(sid), tuple((str(k), str(v)) for k, v in lbls)))
        elif typ == SAMPLES:
            raw = bytes(cramjam.zstd.decompress(payload))
            (n,) = struct.unpack_from("<I", raw, 0)
            if len(raw) != 4 + 20 * n:
                raise CorruptionError("samples record has the wrong size")
            o = 4
            sids = np.frombuffer(raw, "<i4", n, o).astype(np.int32)
            ts = np.frombuffer(raw, "<i8", n, o + 4 * n).astype(np.int64)
            vals = np.frombuffer(raw, "<f8", n, o + 12 * n).astype(np.float64)
            out.samples.append((sids, ts, vals))
        elif typ == SAMPLES_AT:
            n, t = _AT_HEAD.unpack_from(payload, 0)
            if len(payload) != _AT_HEAD.size + 12 * n:
                raise CorruptionError("samples record has the wrong size")
            o = _AT_HEAD.size
            sids = np.frombuffer(payload, "<i4", n, o).astype(np.int32)
            vals = np.frombuffer(payload, "<f8", n, o + 4 * n).astype(np.float64)
            out.samples.append((sids, np.full(n, t, np.int64), vals))
        elif typ == METADATA:
            for m in orjson.loads(payload):
                out.metadata.append(MetricMetadata(*m))
        else:
            raise CorruptionError(f"unknown record type {typ}")
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise CorruptionError(f"undecodable record: {exc}") from exc
