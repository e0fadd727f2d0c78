from __future__ import annotations

import pytest

from kubesight.errors import ValidationError
from kubesight.model import Matcher
from kubesight.model.labels import format_labels, validate_labels


def test_validate_sorts_and_accepts_utf8_names() -> None:
    assert validate_labels((("z", "1"), ("__name__", "m"), ("ünïcode.name", "v"))) == (
        ("__name__", "m"), ("z", "1"), ("ünïcode.name", "v"))


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ((("a", "1"),), "missing metric name"),
        ((("__name__", ""),), "empty value"),
        ((("__name__", "m"), ("", "x")), "empty label name"),
        ((("__name__", "m"), ("a", "1"), ("a", "2")), "duplicate label name 'a'"),
        ((("__name__", "m"), ("a", "\ud800")), "not valid UTF-8"),
    ],
)
def test_invalid_label_sets_say_what_and_where(labels: tuple[tuple[str, str], ...], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_labels(labels)


# (matcher, value, matches) from the semantics in Prometheus' querying/basics page.
MATCH_TABLE = [
    ("=", "a", "a", True), ("=", "a", "b", False), ("=", "", "", True),
    ("!=", "a", "a", False), ("!=", "a", "", True),
    ("=~", "a|b", "b", True), ("=~", "a.*", "xa", False), ("=~", "a.*", "a\nb", True),
    ("=~", ".*", "", True), ("=~", ".+", "", False),
    ("!~", "a|b", "c", True), ("!~", "a|b", "a", False), ("!~", ".+", "", True),
    ("=~", "(?i)foo", "FoO", True), ("=~", "(?i)foo", "xfoo", False),  # Grafana's case-insensitive search
    ("=~", "(?im)a.b", "A\nB", True), ("!~", "(?i)abc", "ABC", False),
    ("=~", "a\\z", "a", True),
]


@pytest.mark.parametrize(("op", "pattern", "value", "want"), MATCH_TABLE)
def test_matchers(op: str, pattern: str, value: str, want: bool) -> None:
    assert Matcher.of("l", op, pattern).matches(value) is want


def test_bad_regex_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="invalid regex"):
        Matcher.of("l", "=~", "(")


def test_format_labels() -> None:
    assert format_labels((("__name__", "up"), ("job", 'a"b'))) == 'up{job="a\\"b"}'
