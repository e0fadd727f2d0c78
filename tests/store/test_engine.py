"""The embedded engine answers exactly like the in-memory reference store."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from kubesight.model import Matcher, MetricMetadata, SampleBatch, SeriesData, stale_nan
from kubesight.store import MemoryStore
from kubesight.store.engine import HOUR_MS, Storage, StorageOptions
from kubesight.store.interface import SeriesRefs, append_refs

NOW_S = 1_700_000_000.0
NOW_MS = int(NOW_S * 1000)


def clock() -> float:
    return NOW_S


def make_store(path: Path, **opts: int) -> Storage:
    s = Storage(path, StorageOptions(**opts), clock=clock)  # type: ignore[arg-type]
    s.open()
    return s


def random_batch(rng: random.Random, n_series: int = 40, n_samples: int = 200) -> SampleBatch:
    series = []
    for i in range(n_series):
        lbls = [("__name__", f"m{i % 5}"), ("instance", f"h{i % 7}"), ("job", rng.choice("ab"))]
        if i % 3 == 0:
            lbls.append(("device", f"d{i}"))
        series.append(tuple(sorted(lbls)))
    refs = np.asarray([rng.randrange(n_series) for _ in range(n_samples)], np.int32)
    # Timestamps over 6 hours, in any order, with duplicates (a sender's retry).
    ts = np.asarray([NOW_MS - rng.randrange(6 * HOUR_MS) // 1000 * 1000 for _ in range(n_samples)])
    vals = np.asarray([rng.choice([rng.random(), float(rng.randrange(100)), 1.5]) for _ in range(n_samples)])
    return SampleBatch(series, refs, ts.astype(np.int64), vals)


def assert_same(a: SeriesData, b: SeriesData) -> None:
    assert a.labels == b.labels
    assert a.offsets.tolist() == b.offsets.tolist()
    assert a.timestamps.tolist() == b.timestamps.tolist()
    assert a.values.view(np.uint64).tolist() == b.values.view(np.uint64).tolist()


MATCHER_SETS = [
    [Matcher.of("__name__", "=", "m1")],
    [Matcher.of("__name__", "=~", "m[0-3]"), Matcher.of("job", "=", "a")],
    [Matcher.of("__name__", "=~", ".+"), Matcher.of("device", "!=", "")],
    [Matcher.of("__name__", "!~", "m1|m2"), Matcher.of("instance", "=~", "h1|h2|h3")],
    [Matcher.of("job", "=~", "a|b"), Matcher.of("device", "=", "")],
    [Matcher.of("__name__", "=", "nope")],
]


def compare_all(store: Storage, ref: MemoryStore) -> None:
    windows = [(NOW_MS - 7 * HOUR_MS, NOW_MS), (NOW_MS - 3 * HOUR_MS, NOW_MS - HOUR_MS), (NOW_MS - 1000, NOW_MS)]
    for ms in MATCHER_SETS:
        for a, b in windows:
            assert_same(store.select(ms, a, b), ref.select(ms, a, b))


@pytest.mark.parametrize("seed", range(6))
def test_engine_matches_reference_through_flush_compaction_and_restart(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    store = make_store(tmp_path, head_max_samples=300)
    ref = MemoryStore()
    for step in range(12):
        batch = random_batch(rng)
        r1 = store.append(batch)
        r2 = ref.append(batch)
        assert r1.samples_written == r2.samples_written == len(batch)
        if step % 4 == 3:
            store.flush()
        compare_all(store, ref)
    # Crash: no close, no flush; a new store over the same directory.
    store2 = make_store(tmp_path)
    compare_all(store2, ref)
    store2.flush()
    compare_all(store2, ref)
    assert len({b.meta.window_start for b in store2.blocks}) == len(store2.blocks), "compacted"


def test_special_values_round_trip_bit_exact(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    lbls = (("__name__", "x"),)
    vals = [stale_nan(), float("nan"), float("inf"), -float("inf"), -0.0, 0.1 + 0.2, 1e300, 5e-324]
    batch = SampleBatch.from_series([(lbls, [(NOW_MS - 1000 * i, v) for i, v in enumerate(vals)])])
    store.append(batch)
    before = store.select([Matcher.of("__name__", "=", "x")], 0, NOW_MS)
    store.flush()
    after = make_store(tmp_path).select([Matcher.of("__name__", "=", "x")], 0, NOW_MS)
    want = np.asarray(vals[::-1]).view(np.uint64).tolist()
    assert before.values.view(np.uint64).tolist() == want
    assert after.values.view(np.uint64).tolist() == want


def test_invalid_series_rejected_rest_kept(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    good = (("__name__", "ok"), ("a", "1"))
    batch = SampleBatch.from_series(
        [
            (good, [(NOW_MS, 1.0)]),
            ((("a", "1"),), [(NOW_MS, 2.0)]),  # no metric name
            ((("__name__", "x"), ("a", "")), [(NOW_MS, 3.0)]),  # empty value
            ((("__name__", "x"), ("a", "1"), ("a", "2")), [(NOW_MS, 4.0)]),  # duplicate name
            ((("b", "1"), ("__name__", "unsorted")), [(NOW_MS, 5.0)]),  # sorted for the sender
            (good, [(NOW_MS + 3_600_000, 6.0)]),  # an hour in the future
        ]
    )
    res = store.append(batch)
    assert res.samples_written == 2
    assert res.series_rejected == 3
    assert res.samples_rejected == 4
    text = " ".join(res.errors)
    assert "missing metric name" in text and "empty value" in text and "duplicate label name" in text
    assert "in the future" in text
    got = store.select([Matcher.of("__name__", "=~", ".+")], 0, NOW_MS * 2)
    assert [dict(lb)["__name__"] for lb in got.labels] == ["ok", "unsorted"]


def test_retention_deletes_whole_old_blocks_only(tmp_path: Path) -> None:
    store = make_store(tmp_path, retention_ms=24 * HOUR_MS)
    lbls = (("__name__", "r"),)
    old = [(NOW_MS - 30 * HOUR_MS + i * 60_000, float(i)) for i in range(10)]
    edge = [(NOW_MS - 23 * HOUR_MS, 1.0)]
    store.append(SampleBatch.from_series([(lbls, old + edge)]))
    store.flush()
    assert len(store.blocks) == 2
    deleted = store.apply_retention()
    assert len(deleted) == 1
    got = store.select([Matcher.of("__name__", "=", "r")], 0, NOW_MS)
    assert got.timestamps.tolist() == [NOW_MS - 23 * HOUR_MS]


def test_size_retention(tmp_path: Path) -> None:
    store = make_store(tmp_path, retention_bytes=1)
    store.append(SampleBatch.from_series([((("__name__", "s"),), [(NOW_MS - 5 * HOUR_MS, 1.0), (NOW_MS, 2.0)])]))
    store.flush()
    assert len(store.blocks) == 2
    store.apply_retention()
    assert store.blocks == []


def test_series_and_labels_apis(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    ref = MemoryStore()
    batch = random_batch(random.Random(7))
    store.append(batch)
    ref.append(batch)
    for ms in MATCHER_SETS:
        assert store.series(ms, 0, NOW_MS) == ref.series(ms, 0, NOW_MS)
        assert store.label_names(ms, 0, NOW_MS) == ref.label_names(ms, 0, NOW_MS)
        assert store.label_values("instance", ms, 0, NOW_MS) == ref.label_values("instance", ms, 0, NOW_MS)
    assert store.label_names([], 0, NOW_MS) == ["__name__", "device", "instance", "job"]
    assert store.series([Matcher.of("__name__", "=~", ".+")], 0, NOW_MS, limit=3) == ref.series(
        [Matcher.of("__name__", "=~", ".+")], 0, NOW_MS
    )[:3]


def test_torn_wal_tail_is_cut_and_reported(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    lbls = (("__name__", "w"),)
    store.append(SampleBatch.from_series([(lbls, [(NOW_MS - 2000, 1.0)])]))
    store.append(SampleBatch.from_series([(lbls, [(NOW_MS - 1000, 2.0)])]))
    seg = sorted((tmp_path / "wal").iterdir())[-1]
    data = seg.read_bytes()
    seg.write_bytes(data[:-7])  # a crash in the middle of the last write
    store2 = make_store(tmp_path)
    got = store2.select([Matcher.of("__name__", "=", "w")], 0, NOW_MS)
    assert got.values.tolist() == [1.0]
    assert store2.wal_corruptions == 1
    assert any(p.name.startswith("corrupt-") for p in (tmp_path / "wal").iterdir())


def test_many_pages_and_partial_selects(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    n_series, steps = 3000, 60  # 180k samples: several 64k-sample pages
    series = [(("__name__", f"p{i % 11}"), ("i", f"{i:05d}")) for i in range(n_series)]
    refs = np.repeat(np.arange(n_series, dtype=np.int32), steps)
    ts = np.tile(NOW_MS - 3_600_000 + np.arange(steps, dtype=np.int64) * 15_000, n_series)
    vals = np.arange(n_series * steps, dtype=np.float64) / 4
    store.append(SampleBatch(series, refs, ts, vals))
    store.flush()
    assert len(store.blocks[0].meta.page_first) > 2
    ref = MemoryStore()
    ref.append(SampleBatch(series, refs, ts, vals))
    for ms in ([Matcher.of("__name__", "=", "p3")], [Matcher.of("i", "=~", "0001.|02999")]):
        assert_same(store.select(ms, NOW_MS - 1_800_000, NOW_MS), ref.select(ms, NOW_MS - 1_800_000, NOW_MS))


@pytest.mark.parametrize("filter_below", [0, 1 << 30])
def test_index_paths_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filter_below: int) -> None:
    """Postings set operations and per-candidate filtering give the same answers."""
    import kubesight.store.index as index_module

    monkeypatch.setattr(index_module, "_FILTER_BELOW", filter_below)
    store = make_store(tmp_path)
    ref = MemoryStore()
    batch = random_batch(random.Random(11), n_series=60, n_samples=600)
    store.append(batch)
    ref.append(batch)
    compare_all(store, ref)


def test_corrupt_block_is_moved_aside_and_the_rest_served(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    lbls = (("__name__", "c"),)
    store.append(SampleBatch.from_series([(lbls, [(NOW_MS - 5 * HOUR_MS, 1.0), (NOW_MS - 1000, 2.0)])]))
    store.flush()
    assert len(store.blocks) == 2
    victim = store.blocks[0].path
    (victim / "chunks").write_bytes(b"\x00" * 10)
    store2 = make_store(tmp_path)
    assert store2.block_corruptions == 1
    assert (victim.parent / f"corrupt-{victim.name}").exists()
    got = store2.select([Matcher.of("__name__", "=", "c")], 0, NOW_MS)
    assert got.values.tolist() == [2.0]
    store3 = make_store(tmp_path)  # the moved-aside block is not read again
    assert store3.block_corruptions == 0


def test_append_refs_resolves_once_and_survives_flush_gc_and_restart(tmp_path: Path) -> None:
    store = make_store(tmp_path, retention_ms=24 * HOUR_MS)
    a, b = (("__name__", "a"), ("i", "1")), (("__name__", "b"),)
    refs = SeriesRefs([a, b])
    store.append_refs(refs, NOW_MS - 30 * HOUR_MS, np.array([1.0, 2.0]))
    first_ids = refs.ids
    assert first_ids is not None and refs.owner is store
    store.append_refs(refs, NOW_MS - 29 * HOUR_MS, np.array([3.0, 4.0]))
    assert refs.ids is first_ids  # no second lookup
    store.flush()
    # Retention removes the old block and with it the series ids the refs hold.
    assert store.apply_retention()
    store.append_refs(refs, NOW_MS - 60_000, np.array([5.0, 6.0]))
    store.append_refs(refs, NOW_MS, np.array([7.0, 8.0]))
    got = store.select([Matcher.of("__name__", "=~", "a|b")], 0, NOW_MS)
    assert got.labels == [a, b]
    assert [got.samples(i)[1].tolist() for i in range(2)] == [[5.0, 7.0], [6.0, 8.0]]
    store.close()
    again = make_store(tmp_path)
    got = again.select([Matcher.of("__name__", "=~", "a|b")], 0, NOW_MS)
    assert [got.samples(i)[1].tolist() for i in range(2)] == [[5.0, 7.0], [6.0, 8.0]]


def test_append_refs_with_an_invalid_series_writes_the_rest_every_time(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    refs = SeriesRefs([(("__name__", "ok"),), (("__name__", ""),)])
    for i in range(2):
        res = store.append_refs(refs, NOW_MS + i, np.array([1.0, 2.0]))
        assert (res.samples_written, res.series_rejected, res.samples_rejected) == (1, 1, 1)
        assert res.errors
    assert store.select([Matcher.of("__name__", "=", "ok")], 0, NOW_MS + 10).timestamps.tolist() == [NOW_MS, NOW_MS + 1]


def test_append_refs_on_any_appender_falls_back_to_append() -> None:
    ref = MemoryStore()
    res = append_refs(ref, SeriesRefs([(("__name__", "m"),)]), NOW_MS, np.array([1.5]))
    assert res.samples_written == 1
    assert ref.select([Matcher.of("__name__", "=", "m")], 0, NOW_MS).values.tolist() == [1.5]


def test_metadata_is_logged_when_it_changes_and_survives_a_flush_and_a_crash(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    md = MetricMetadata("m", "gauge", "Help.", "")
    batch = SampleBatch.from_series([((("__name__", "m"),), [(NOW_MS, 1.0)])])
    batch.metadata = [md]
    store.append(batch)
    wal_after_one = store.wal.size_bytes()
    store.append(batch)  # the same metadata again: not logged again
    second = store.wal.size_bytes() - wal_after_one
    store.append(SampleBatch.from_series([((("__name__", "m"),), [(NOW_MS, 1.0)])]))
    assert second == store.wal.size_bytes() - wal_after_one - second
    store.flush()  # drops the WAL segments that held the metadata
    store.wal.close()  # a crash: no clean close, the WAL is all there is
    again = make_store(tmp_path)
    assert again.metadata("m") == {"m": [md]}


def test_label_rank_kept_incrementally_equals_a_full_sort(tmp_path: Path) -> None:
    store = make_store(tmp_path, retention_ms=24 * HOUR_MS)
    rng = random.Random(7)

    def full_rank() -> list[int]:
        ids = store.index.all_ids().tolist()
        ordered = sorted(ids, key=store.index.labels_of)
        rank = [-1] * store.index.next_id
        for r, sid in enumerate(ordered):
            rank[sid] = r
        return rank

    def add(n: int, t: int) -> None:
        series = [
            (("__name__", f"m{rng.randrange(30)}"), ("a", str(rng.randrange(1000))))
            for _ in range(n)
        ]
        store.append(SampleBatch.from_series([(s, [(t, 1.0)]) for s in dict.fromkeys(series)]))

    add(2000, NOW_MS - 30 * HOUR_MS)
    assert store._label_rank().tolist() == full_rank()
    for k in (1, 5, 40, 3, 1000):  # small batches go the incremental way, a big one sorts afresh
        add(k, NOW_MS)
        assert store._label_rank().tolist() == full_rank()
    store.flush()
    store.apply_retention()  # removes the old series: ranks are rebuilt
    add(10, NOW_MS)
    assert store._label_rank().tolist() == full_rank()


def test_the_head_limit_grows_with_the_series_up_to_four_times(tmp_path: Path) -> None:
    store = make_store(tmp_path, head_max_samples=10_000)
    assert store.head_limit() == 10_000
    refs = SeriesRefs([(("__name__", "m"), ("i", str(i))) for i in range(3000)])
    store.append_refs(refs, NOW_MS, np.zeros(3000))
    assert store.head_limit() == 24_000  # 8 per series
    more = SeriesRefs([(("__name__", "n"), ("i", str(i))) for i in range(5000)])
    store.append_refs(more, NOW_MS, np.zeros(5000))
    assert store.head_limit() == 40_000  # capped at 4x
    assert not store.needs_flush()


def test_scrape_appends_replay_from_the_wal_after_a_crash(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    refs = SeriesRefs([(("__name__", "m"), ("i", str(i))) for i in range(3)])
    store.append_refs(refs, NOW_MS, np.array([1.0, 2.0, stale_nan()]))
    store.append_refs(refs, NOW_MS + 15_000, np.array([4.0, 5.0, 6.0]))
    store.wal.close()  # kill -9: nothing flushed
    again = make_store(tmp_path)
    got = again.select([Matcher.of("__name__", "=", "m")], 0, NOW_MS + 15_000)
    assert [got.samples(i)[0].tolist() for i in range(3)] == [[NOW_MS, NOW_MS + 15_000]] * 3
    assert got.samples(0)[1].tolist() == [1.0, 4.0]
    assert np.isnan(got.samples(2)[1][0]) and got.samples(2)[1][0].tobytes() == np.float64(stale_nan()).tobytes()
