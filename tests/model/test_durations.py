from __future__ import annotations

import pytest

from kubesight.model.durations import (
    format_duration_ms,
    parse_api_duration_ms,
    parse_duration_ms,
    parse_size_bytes,
    parse_time_ms,
)


@pytest.mark.parametrize(
    ("text", "ms"),
    [("0", 0), ("15s", 15_000), ("5m", 300_000), ("1h30m", 5_400_000), ("15d", 1_296_000_000),
     ("1w", 604_800_000), ("1y", 31_536_000_000), ("100ms", 100), ("1m30s500ms", 90_500)],
)
def test_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms
    if ms:
        assert parse_duration_ms(format_duration_ms(ms)) == ms


@pytest.mark.parametrize("bad", ["", "15", "5x", "1m1h", "1h1h", "-5m", "1.5h", "15 s"])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration_ms(bad)


@pytest.mark.parametrize(
    ("text", "ms"), [("15", 15_000), ("0.5", 500), ("1m", 60_000), ("2.5e1", 25_000)]
)
def test_api_durations(text: str, ms: int) -> None:
    assert parse_api_duration_ms(text) == ms


@pytest.mark.parametrize(
    ("text", "n"), [("0", 0), ("512B", 512), ("1KB", 1024), ("10GB", 10 << 30), ("2 MB", 2 << 20), ("1tb", 1 << 40)]
)
def test_sizes(text: str, n: int) -> None:
    assert parse_size_bytes(text) == n


@pytest.mark.parametrize(
    ("text", "ms"),
    [("1700000000", 1_700_000_000_000), ("1700000000.123", 1_700_000_000_123),
     ("2023-11-14T22:13:20Z", 1_700_000_000_000), ("2023-11-14T23:13:20.5+01:00", 1_700_000_000_500)],
)
def test_times(text: str, ms: int) -> None:
    assert parse_time_ms(text) == ms


@pytest.mark.parametrize("bad", ["yesterday", "NaN", "inf", "2023-11-14T22:13:20", ""])
def test_bad_times(bad: str) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        parse_time_ms(bad)
