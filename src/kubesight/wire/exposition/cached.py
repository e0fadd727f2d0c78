"""Parsing a whole body, with a cache that outlives the scrape.

How parsing stays fast
----------------------
The body is decoded once and split into lines. A sample line is cut at its
last space (``str.rpartition``), and everything before the value is looked up
in an :class:`ExpositionCache` that outlives the scrape: a target repeats the
same series text every scrape, so a hit yields the very same label tuple with
no parsing at all. Comment lines are looked up whole the same way. Once a body
was all hits, the next one is first compared with it as a whole (``_Template``:
tuple comparisons, ``str.startswith`` and slicing through ``map``, no Python
loop over lines), and when only values and timestamps changed the line loop is
skipped altogether. Values are
converted all at once at the end (``float`` per token through ``map``), after
one check over all tokens together that they are in Go's float syntax. A
cache miss of the common line shape is read with one regex match; any other
line (a comment seen first, a timestamp, an exemplar, quoted names, odd
spacing) goes through a token reader that follows Prometheus' lexer and
explains errors. If the batched value check fails, the whole body is read
again line by line without the cache, so the error names its line. (A body
that is not valid UTF-8, which Prometheus allows inside plain comments, is
always read that careful way.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from kubesight.errors import DecodeError
from kubesight.model.labels import Labels
from kubesight.model.samples import F64, MetricMetadata, SampleBatch
from kubesight.wire.exposition.floats import (
    _INT64_MAX,
    _NORMAL_NAN,
    _NUMERIC_BYTES,
    _SPECIAL_LETTERS,
    _LineError,
    _RedoError,
)
from kubesight.wire.exposition.lexer import (
    _STOP,
    _Ctx,
    _Meta,
    _om_exemplar,
    _om_lines,
    _om_meta,
    _om_sample,
    _text_meta,
    _text_sample,
    _text_sample_on,
    _text_ts,
    _ts_ms_from_seconds,
    _UnterminatedError,
)
from kubesight.wire.exposition.media import Format


@dataclass
class ParsedScrape:
    """One parsed body.

    ``batch.series[i]`` is the label set of sample ``i`` (``series_ref`` is
    ``0..n-1``), with ``__name__``, sorted by label name. With a shared
    :class:`ExpositionCache` the same series text yields the same tuple object
    scrape after scrape. ``created`` counts ``_created`` samples (kept in the
    batch), ``exemplars`` counts exemplars (dropped).
    """

    batch: SampleBatch
    metadata: list[MetricMetadata] = field(default_factory=list)
    exemplars: int = 0
    created: int = 0
    shape: object | None = None
    """The same object for two parses with the same cache exactly when both bodies
    had the same series, metadata and comment lines in the same order (only
    values and timestamps differ); ``None`` when unknown. A caller may key its
    own per-series work on it (the scrape loop does)."""


class SharedTexts:
    """Parsed series texts and metadata lines, shareable by the caches of many targets.

    The exporters of one job send the same series texts (``node_cpu_seconds_total{cpu="0",mode="idle"}``
    on every node) and the same HELP and TYPE lines: one table per scrape pool
    makes a new target's first scrape mostly cache hits, and keeps one label
    tuple per distinct text instead of one per target.
    """

    def __init__(self, max_entries: int = 1_000_000) -> None:
        self.max_entries = max_entries
        self.contexts: dict[tuple[str, ...], _Ctx] = {}
        self.meta: dict[str, _Meta] = {}
        self.size = 0

    def clear(self) -> None:
        self.contexts.clear()
        self.meta.clear()
        self.size = 0


class ExpositionCache:
    """Parsed series texts and metadata lines of one target, across scrapes.

    Keys are the exact text before a sample's value (``'node_load1'``,
    ``'node_cpu_seconds_total{cpu="0",mode="idle"}'``), so a hit skips all
    label parsing. How a series text parses depends on the TYPE lines before
    it (``le``/``quantile`` normalisation, ``_created`` detection), so entries
    live in one dictionary per TYPE context. When the
    cache holds more than ``max_entries`` texts it is emptied at the start of
    the next parse: a target with more series than that costs a cold parse per
    scrape, not unbounded memory. Parses in several threads may share one
    cache; each entry is a pure function of its key and context, so a race can
    only cost a repeated parse.
    """

    def __init__(
        self,
        max_entries: int = 200_000,
        use_templates: bool = True,
        shared: SharedTexts | None = None,
    ) -> None:
        self.max_entries = max_entries
        # False: never compare a body with the last one's shape (see _Template),
        # for targets whose lines change every scrape; every line is looked up.
        self.use_templates = use_templates
        # Series texts and metadata lines, possibly shared with other targets.
        self.texts = shared if shared is not None else SharedTexts(max_entries)
        # The metadata lines of the last parse and what they made: a target
        # sends the same ones every scrape, so the family table is reused.
        self.last_metadata: tuple[list[_Meta], list[MetricMetadata]] = ([], [])
        self.templates: dict[str, _Template | None] = {}  # per format, see _Template

    @property
    def contexts(self) -> dict[tuple[str, ...], _Ctx]:
        return self.texts.contexts

    @property
    def meta(self) -> dict[str, _Meta]:
        return self.texts.meta

    @property
    def size(self) -> int:
        return self.texts.size

    @size.setter
    def size(self, n: int) -> None:
        self.texts.size = n

    def __len__(self) -> int:
        return self.size

    def clear(self) -> None:
        self.texts.clear()
        self.last_metadata = ([], [])
        self.templates.clear()

    def _context(self, key: tuple[str, ...]) -> _Ctx:
        ctx = self.contexts.get(key)
        if ctx is None:
            ctx = self.contexts[key] = _Ctx()
        return ctx


class _Families:
    """Metadata per family in order of first appearance; a later line wins.

    A second HELP, TYPE or UNIT line for a family is no error, as in
    Prometheus' scraper, whose metadata cache keeps the last one. In strict
    mode text 0.0.4 refuses a repeat anywhere in the body, as ``expfmt`` does;
    OpenMetrics refuses it among one run of metadata lines. Metadata after
    samples opens a new family block there, even under a name seen before,
    because Go programs write exactly that (client_golang's OpenMetrics output
    has a gauge ``go_memstats_alloc_bytes`` followed by a counter
    ``go_memstats_alloc_bytes`` for ``..._total``).
    """

    def __init__(self, om: bool = False, strict: bool = False) -> None:
        self.om = om
        self.strict = strict
        self.fams: dict[str, list[str]] = {}  # name -> [type, help, unit]
        self.seen: set[tuple[str, str]] = set()
        self.current = ""
        self.samples_before = 0

    def add(self, meta: _Meta, samples_before: int = 0) -> None:
        name = meta.name
        if self.strict:
            if self.om and (name != self.current or samples_before != self.samples_before):
                self.current = name
                self.seen.difference_update((kind, name) for kind in ("TYPE", "HELP", "UNIT"))
            self.samples_before = samples_before
            k = (meta.kind, name)
            if k in self.seen:
                raise _LineError(f"second {meta.kind} line for metric family {name!r}")
            self.seen.add(k)
        f = self.fams.get(name)
        if f is None:
            f = self.fams[name] = ["unknown", "", ""]
        f[("TYPE", "HELP", "UNIT").index(meta.kind)] = meta.value

    def metadata(self) -> list[MetricMetadata]:
        return [MetricMetadata(name, t, h, u) for name, (t, h, u) in self.fams.items()]


class _Lines(NamedTuple):
    labels: list[Labels]
    tokens: list[str]
    ts_at: list[int]
    ts_ms: list[int]
    metadata: list[MetricMetadata]
    exemplars: int
    created: int
    # Every line was a cache hit (with at most a timestamp after the value), a
    # known comment or blank: the body can be a template.
    clean: bool


def _error(lineno: int, line: str, msg: object) -> DecodeError:
    snippet = line if len(line) <= 80 else line[:80] + "..."
    return DecodeError(f"line {lineno}: {msg} (in {snippet!r})")


def _scan(
    lines: list[str], om: bool, cache: ExpositionCache, exact: bool, strict: bool = False
) -> _Lines:
    """Walk the lines once; see the module docstring for the fast and careful paths.

    In careful mode (``exact``) nothing is looked up in or added to the cache,
    and every line goes through the per-line parsers, so the first problem is
    reported with its line number. ``strict`` needs ``exact``.
    """
    assert exact or not strict
    fmt = "o" if om else "t"
    norm = ""
    fam, fam_type = "", "unknown"  # for strict OpenMetrics' suffix rules

    def context() -> _Ctx:
        if exact:
            return _Ctx()
        return cache._context((fmt, norm))

    ctx = context()
    get = ctx.series.get
    cget = ctx.created.get
    meta_cache: dict[str, _Meta] = {} if exact else cache.meta
    mget = meta_cache.get
    families = _Families(om, strict)
    metas: list[_Meta] = []
    labels: list[Labels] = []
    tokens: list[str] = []
    lab_append = labels.append
    tok_append = tokens.append
    meta_append = metas.append
    ts_at: list[int] = []
    ts_ms: list[int] = []
    exemplars = created = 0
    clean = True
    ts_fn = _om_fast_ts if om else _text_ts

    rows = enumerate(lines, 1)
    for lineno, line in rows:
        # The hot path: a known series text, then the value.
        head, _, tail = line.rpartition(" ")
        lab = get(head)
        if lab is not None:
            lab_append(lab)
            tok_append(tail)
            continue
        meta = mget(line)
        if meta is not None:
            # A metadata line seen before (plain comments are cached too).
            if meta.kind:
                meta_append(meta)
                if meta.ctx is not None:
                    norm = meta.value
                    get = meta.ctx.series.get
                    cget = meta.ctx.created.get
            continue
        lab = cget(head)
        if lab is not None:
            lab_append(lab)
            tok_append(tail)
            created += 1
            continue
        try:
            first = line[:1] if om else line.lstrip(" \t")[:1]
            if first == "#":
                clean = False
                meta = _om_meta(line, strict) if om else _text_meta(line, strict)
                if meta.kind == "EOF":
                    lineno += 1
                    raise _LineError("unexpected data after # EOF")
                if meta is _STOP:
                    break
                if meta.kind:
                    if exact:
                        families.add(meta, len(labels))
                    else:
                        meta_append(meta)
                    if meta.kind == "TYPE":
                        fam, fam_type = meta.name, meta.value
                    elif meta.name != fam:
                        fam, fam_type = meta.name, "unknown"
                    if meta.kind == "TYPE":
                        norm = meta.value
                        ctx = context()
                        meta = meta._replace(ctx=ctx)
                        get = ctx.series.get
                        cget = ctx.created.get
                if not exact:
                    meta_cache[line] = meta
                    cache.size += 1  # comment lines count: some carry timestamps
                continue
            if not first:
                if om:
                    raise _LineError("empty line (not allowed in OpenMetrics)")
                continue  # text format: blank lines are allowed
            if first == "\x00" and not om and not strict:
                clean = False
                break  # Prometheus' text lexer reads it as the end of the body
            # A timestamp after the value, or an exemplar after either.
            exemplar_at = line.find(" # {") if om else -1
            if exemplar_at > 0:
                clean = False
                head, _, tail = line[:exemplar_at].rpartition(" ")
                lab = get(head)
                if lab is not None:
                    # The sample is known; only the exemplar (new every time) is read.
                    _om_exemplar(line, exemplar_at + 4)
                    lab_append(lab)
                    tok_append(tail)
                    exemplars += 1
                    continue
            h2, sp, mid = head.rpartition(" ")
            if sp:
                lab = get(h2)
                is_created = False
                if lab is None:
                    lab = cget(h2)
                    is_created = True
                if lab is not None:
                    try:
                        t = ts_fn(tail)
                    except _LineError:
                        pass  # the careful parser explains it
                    else:
                        if exemplar_at > 0:
                            _om_exemplar(line, exemplar_at + 4)
                            exemplars += 1
                        ts_at.append(len(labels))
                        ts_ms.append(t)
                        lab_append(lab)
                        tok_append(mid)
                        created += is_created
                        continue
            clean = False
            if om:
                smp = _om_sample(line, norm, strict, fam, fam_type)
            else:
                try:
                    smp = _text_sample(line, norm, strict)
                except _UnterminatedError:
                    smp, line = _text_sample_on(line, norm, rows)
        except _LineError as e:
            raise _error(lineno, line, e) from None
        if smp.ts is not None:
            ts_at.append(len(labels))
            ts_ms.append(smp.ts)
        lab_append(smp.labels)
        tok_append(smp.token)
        exemplars += smp.exemplar
        created += smp.created
        if smp.key is not None and not exact:
            ctx = cache._context((fmt, norm))
            (ctx.created if smp.created else ctx.series)[smp.key] = smp.labels
            cache.size += 1
    if exact:
        metadata = families.metadata()
    else:
        last_metas, metadata = cache.last_metadata
        if metas != last_metas:  # identical _Meta objects: a C-speed comparison
            for meta in metas:
                families.add(meta)
            metadata = families.metadata()
            cache.last_metadata = (metas, metadata)
    return _Lines(labels, tokens, ts_at, ts_ms, metadata, exemplars, created, clean)


def _om_fast_ts(tok: str) -> int:
    return _ts_ms_from_seconds(tok, "timestamp")


def _values(tokens: list[str]) -> F64:
    """All value tokens to float64 at once; raise _RedoError if any is not in Go's syntax."""
    if not tokens:
        return np.empty(0, np.float64)
    joined = "\n".join(tokens)
    if not joined.isascii():
        raise _RedoError
    return _checked_values(tokens, joined.encode("ascii"))


def _checked_values(tokens: Sequence[str] | Sequence[bytes], joined: bytes) -> F64:
    """Floats of ``tokens`` (ASCII), whose newline-joined bytes are ``joined``; _RedoError if not Go's syntax."""
    try:
        values = np.array(list(map(float, tokens)), dtype=np.float64)
    except ValueError:
        raise _RedoError from None
    # float() also takes what Go refuses: whitespace, underscores, non-ASCII
    # digits, a sign on NaN. One pass over all tokens rules those out.
    rest = joined.translate(None, _NUMERIC_BYTES)
    if rest:
        if rest.strip(_SPECIAL_LETTERS):
            raise _RedoError
        low = joined.lower()
        if b"+nan" in low or b"-nan" in low:
            raise _RedoError
    bad = np.isinf(values)
    if bad.any():
        # 1e999 is a range error in Go, not +Inf.
        for k in np.flatnonzero(bad).tolist():
            tok = tokens[k]
            low = tok.lower().encode() if isinstance(tok, str) else tok.lower()
            if b"i" not in low:
                raise _RedoError
    nan = np.isnan(values)
    if nan.any():
        values[nan] = _NORMAL_NAN
    return values


_ZERO = np.zeros(1, np.int64)


def _values_by_bytes(body: bytes, tpl: _Template) -> F64 | None:
    """The values of a text body with the template's exact shape, read without splitting it into lines.

    Every sample line is its template head (series text and a space), then its
    value token. The body with those tokens cut out (newlines kept) must equal
    the template's skeleton byte for byte, which proves every line is the
    template's line with a new value: the same series, metadata and comments,
    in order; a token with a space or anything else Go refuses fails the
    value check. All of
    it is numpy over the body's bytes, plus one float() per value.
    Returns None when the shape differs (the caller parses the usual way).
    """
    sk = tpl.skeleton
    if sk is None or len(body) < len(sk) or body[-1:] != b"\n":
        return None
    arr = np.frombuffer(body, np.uint8)
    nl = np.flatnonzero(arr == 10)
    if len(nl) != tpl.n_lines:
        return None
    ends = nl[tpl.sample_rows]
    if not len(ends):
        return np.empty(0, np.float64)
    # Where each value would start if its line begins with the template's head
    # (the skeleton comparison below checks that it does).
    line_starts = np.concatenate((_ZERO, nl + 1))[tpl.sample_rows]
    starts = line_starts + tpl.head_bytes
    lengths = ends - starts + 1  # the token and its newline
    if int(lengths.min()) < 2:
        return None
    total = int(lengths.sum())
    if len(body) - total + len(ends) != len(sk):
        return None
    first = np.cumsum(lengths) - lengths
    idx = np.arange(total, dtype=np.int64) + np.repeat(starts - first, lengths)
    keep = np.ones(len(arr), np.bool_)
    keep[idx] = False
    keep[ends] = True
    if arr[keep].tobytes() != sk:
        return None
    blob = arr[idx].tobytes()
    if not blob.isascii():
        return None
    tokens = blob.split(b"\n")
    tokens.pop()
    try:
        return _checked_values(tokens, blob)
    except _RedoError:
        return None


class _Template(NamedTuple):
    """The shape of a target's last clean body, to check the next one against.

    Scrape after scrape a target sends the same lines with new values. When
    every line of a body was a cache hit, the next body is compared with it
    first: same number of lines, same comment lines, every sample line starting
    with the same series text and a space, and the same lines carrying a
    timestamp (cAdvisor stamps every line). Then it has the same series in the
    same TYPE contexts, only its value and timestamp tokens are new, and the
    line loop is skipped. ``_values`` refuses a token with a space or tab in
    it, and any such surprise sends the body the ordinary way.
    """

    n_lines: int
    comment_lines: tuple[str, ...]
    comments_at: Callable[[Sequence[str]], tuple[str, ...]]
    samples_at: Callable[[Sequence[str]], tuple[str, ...]]
    heads: tuple[str, ...]  # series text and the space after it, per sample line
    tail_slices: tuple[slice, ...]
    spaces: tuple[int, ...] | None  # per sample: 1 with a timestamp; None: no timestamps
    values_at: Callable[[Sequence[str]], tuple[str, ...]]  # in the tails split on spaces
    stamps_at: Callable[[Sequence[str]], tuple[str, ...]]
    ts_at: list[int]  # the samples with a timestamp
    labels: list[Labels]
    metadata: list[MetricMetadata]
    created: int
    # The byte-level check (_values_by_bytes), for text bodies without timestamps:
    skeleton: bytes | None  # the body without its value tokens; None: not usable
    sample_rows: npt.NDArray[np.int64]  # line numbers (0-based) of the sample lines
    head_bytes: npt.NDArray[np.int64]  # UTF-8 length of each sample line's head, its space included


def _picker(idx: list[int]) -> Callable[[Sequence[str]], tuple[str, ...]]:
    if len(idx) >= 2:
        return itemgetter(*idx)  # several indexes: it returns a tuple
    if idx:
        i = idx[0]
        return lambda seq: (seq[i],)
    return lambda seq: ()


def _make_template(
    lines: list[str], scanned: _Lines, cache: ExpositionCache, om: bool
) -> _Template | None:
    meta = cache.meta
    samples: list[int] = []
    comments: list[int] = []
    for i, line in enumerate(lines):
        if line in meta or not (line if om else line.strip(" \t")):
            comments.append(i)
        else:
            samples.append(i)
    if len(samples) != len(scanned.labels):  # pragma: no cover - defensive
        return None
    comments_at = _picker(comments)
    samples_at = _picker(samples)
    stamped = set(scanned.ts_at)
    heads: list[str] = []
    values: list[int] = []
    stamps: list[int] = []
    for k, line in enumerate(samples_at(lines)):
        head = line.rpartition(" ")[0]
        values.append(k + len(stamps))
        if k in stamped:
            head = head.rpartition(" ")[0]
            stamps.append(values[-1] + 1)
        heads.append(head + " ")
    skeleton = None
    if not om and not stamped:
        parts = [line + "\n" for line in lines]
        for k, i in enumerate(samples):
            parts[i] = heads[k] + "\n"
        skeleton = "".join(parts).encode("utf-8", "surrogateescape")
    return _Template(
        len(lines),
        comments_at(lines),
        comments_at,
        samples_at,
        tuple(heads),
        tuple(slice(len(h), None) for h in heads),
        tuple(int(k in stamped) for k in range(len(heads))) if stamped else None,
        _picker(values),
        _picker(stamps),
        list(scanned.ts_at),
        list(scanned.labels),
        scanned.metadata,
        scanned.created,
        skeleton,
        np.asarray(samples, np.int64),
        np.asarray([len(h.encode("utf-8", "surrogateescape")) for h in heads], np.int64),
    )


def _from_template(
    lines: list[str], tpl: _Template, om: bool
) -> tuple[list[str], list[int]] | None:
    """The value tokens and timestamps of ``lines`` if they have the template's shape."""
    if len(lines) != tpl.n_lines or tpl.comments_at(lines) != tpl.comment_lines:
        return None
    sample_lines = tpl.samples_at(lines)
    if not all(map(str.startswith, sample_lines, tpl.heads)):
        return None
    tails = list(map(str.__getitem__, sample_lines, tpl.tail_slices))
    if tpl.spaces is None:
        return tails, []
    if tuple(map(str.count, tails, repeat(" "))) != tpl.spaces:
        return None
    tokens = " ".join(tails).split(" ")
    stamps = tpl.stamps_at(tokens)
    if not all(stamps):
        return None
    try:
        if om:
            ts_ms = list(map(_om_fast_ts, stamps))
        else:
            digits = "".join(stamps)
            if not (digits.isascii() and digits.isdigit()):
                return None
            ts_ms = list(map(int, stamps))
            if max(ts_ms) > _INT64_MAX:
                return None
    except _LineError:
        return None
    return list(tpl.values_at(tokens)), ts_ms


def parse(
    body: bytes,
    fmt: Format,
    *,
    default_timestamp_ms: int,
    honor_timestamps: bool = True,
    cache: ExpositionCache | None = None,
    strict: bool = False,
) -> ParsedScrape:
    """Parse one scrape response body.

    Samples without a timestamp, and all samples when ``honor_timestamps`` is
    false (timestamps are still validated), get ``default_timestamp_ms``. Pass
    one ``cache`` per target to reuse parsed series texts across scrapes.
    Raises :class:`DecodeError` naming the line and the problem.

    ``strict`` refuses what the formats forbid but Prometheus' scraper reads
    (see the module docstring), as the Pushgateway's parser (``expfmt``) does;
    a strict parse reads line by line and does not use the cache.
    """
    if cache is None:
        cache = ExpositionCache()
    elif cache.texts.size > cache.texts.max_entries:
        cache.clear()
    om = fmt is Format.OPENMETRICS_1
    key = "o" if om else "t"
    templates = cache.use_templates and not strict
    if templates and not om:
        tpl = cache.templates.get(key)
        if tpl is not None and (values := _values_by_bytes(body, tpl)) is not None:
            return _from_shape(tpl, values, default_timestamp_ms)
    try:
        text = body.decode("utf-8")
        exact = strict
    except UnicodeDecodeError:
        # Prometheus accepts invalid UTF-8 in plain comments; the careful
        # parser checks every other place it matters, line by line.
        text = body.decode("utf-8", "surrogateescape")
        exact = True
    if om:
        lines = _om_lines(text)
    else:
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
    templates = templates and not exact
    tpl = cache.templates.get(key) if templates else None
    shaped = None if tpl is None else _from_template(lines, tpl, om)
    scanned = values = None
    shape: _Template | None = None
    if tpl is not None and shaped is not None:
        tokens, ts_ms = shaped
        try:
            values = _values(tokens)
            scanned = _Lines(
                list(tpl.labels), tokens, tpl.ts_at, ts_ms, tpl.metadata, 0, tpl.created, True
            )
            shape = tpl
        except _RedoError:
            cache.templates[key] = None  # same series, unusual values: the ordinary way
    try:
        if scanned is None or values is None:
            scanned = _scan(lines, om, cache, exact, strict)
            values = _values(scanned.tokens)
            if scanned.clean and templates:
                shape = cache.templates[key] = _make_template(lines, scanned, cache, om)
    except _RedoError:
        shape = None
        if exact:
            raise DecodeError("invalid sample value") from None
        scanned = _scan(lines, om, cache, True, strict)
        try:
            values = _values(scanned.tokens)
        except _RedoError:  # pragma: no cover - the careful scan validated every token
            raise DecodeError("invalid sample value") from None
    n = len(scanned.labels)
    timestamps = np.full(n, default_timestamp_ms, dtype=np.int64)
    if honor_timestamps and scanned.ts_at:
        timestamps[np.asarray(scanned.ts_at, dtype=np.int64)] = scanned.ts_ms
    # The metadata list is shared with the cache: callers get their own copy.
    metadata = list(scanned.metadata)
    batch = SampleBatch(scanned.labels, np.arange(n, dtype=np.int32), timestamps, values, metadata)
    return ParsedScrape(batch, metadata, scanned.exemplars, scanned.created, shape)


def _from_shape(tpl: _Template, values: F64, default_timestamp_ms: int) -> ParsedScrape:
    """A parse result for a body with the template's shape and no timestamps."""
    n = len(values)
    metadata = list(tpl.metadata)
    batch = SampleBatch(
        list(tpl.labels),
        np.arange(n, dtype=np.int32),
        np.full(n, default_timestamp_ms, dtype=np.int64),
        values,
        metadata,
    )
    return ParsedScrape(batch, metadata, 0, tpl.created, tpl)
