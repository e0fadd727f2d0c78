from kubesight.collect.family import Family, encode, to_batch
from kubesight.wire.exposition import Format, parse


def _families() -> list[Family]:
    cpu = Family("node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.")
    cpu.add(12.5, [("mode", "idle"), ("cpu", "0")])
    cpu.add(3, [("cpu", "0"), ("mode", "user"), ("empty", "")])
    up = Family("node_boot_time_seconds", "gauge", "Node boot time, in unixtime.")
    up.add(1.7e9, [("job", "from-collector")])
    return [cpu, up]


def test_samples_are_sorted_label_sets_with_the_name_and_without_empty_values() -> None:
    cpu = _families()[0]
    assert cpu.samples[1] == ((("__name__", "node_cpu_seconds_total"), ("cpu", "0"), ("mode", "user")), 3.0)


def test_to_batch_adds_target_labels_and_keeps_a_clashing_collector_label_as_exported() -> None:
    b = to_batch(_families(), 1000, (("instance", "h:9100"), ("job", "node")))
    assert len(b) == 3
    assert b.series[2] == (
        ("__name__", "node_boot_time_seconds"), ("exported_job", "from-collector"),
        ("instance", "h:9100"), ("job", "node"),
    )
    assert b.timestamps.tolist() == [1000] * 3
    assert [m.metric_family for m in b.metadata] == ["node_cpu_seconds_total", "node_boot_time_seconds"]


def test_encode_round_trips_through_the_scrape_parser() -> None:
    fams = _families()
    text = encode(fams)
    assert text.startswith(b"# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n"
                           b"# TYPE node_cpu_seconds_total counter\n")
    parsed = parse(text, Format.TEXT_004, default_timestamp_ms=5)
    assert list(parsed.batch.series) == [s for f in fams for s, _ in f.samples]
    assert parsed.batch.values.tolist() == [12.5, 3.0, 1.7e9]
