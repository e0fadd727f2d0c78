"""What the host collector produces on this machine is valid exposition with unique series."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from kubesight.collect.family import encode, to_batch
from kubesight.collect.host import COLLECTORS, HostCollector
from kubesight.wire.exposition import Format, parse
from tests.collect.host._util import success


def test_a_real_collection_encodes_to_strict_text_with_unique_series() -> None:
    fams = HostCollector().collect()
    names = [f.name for f in fams]
    assert len(names) == len(set(names)), "a family appears twice"
    parsed = parse(encode(fams), Format.TEXT_004, default_timestamp_ms=0, strict=True)
    series = parsed.batch.series
    assert len(series) == len(set(series)) == sum(len(f.samples) for f in fams)
    for f in fams:
        for labels, _ in f.samples:
            assert list(labels) == sorted(labels) and all(v for _, v in labels), labels
    assert set(success(fams)) == set(COLLECTORS)


def test_to_batch_adds_job_and_instance() -> None:
    batch = to_batch(HostCollector().collect(), 1000, (("instance", "h"), ("job", "node")))
    assert all(("job", "node") in s for s in batch.series)


def test_concurrent_collections_do_not_mix() -> None:
    c = HostCollector()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: c.collect(), range(8)))
    sizes = {sum(len(f.samples) for f in fams if not f.name.startswith("node_scrape_")) for fams in results}
    assert len(sizes) == 1
    assert all(set(success(r).values()) <= {0.0, 1.0} for r in results)
