"""Label sets: the identity of a series or a log stream.

A label set is a tuple of ``(name, value)`` pairs sorted by name, with unique
names and non-empty values. Tuples are hashable and compare by value, so a label
set is its own dictionary key in the series index; no wrapper class sits on the
hot path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kubesight.errors import ValidationError

Labels = tuple[tuple[str, str], ...]
"""A sorted tuple of ``(name, value)`` pairs."""

METRIC_NAME = "__name__"

# 'Prometheus 3 accepts any UTF-8 metric and label name; the classic charset is
# only a convention, so we validate UTF-8 and emptiness, never the charset.'


def labels_from_dict(d: Mapping[str, str]) -> Labels:
    """Build a label set from a mapping, dropping empty values (they mean 'absent')."""
    return tuple(sorted((k, v) for k, v in d.items() if v != ""))


def labels_from_pairs(pairs: Iterable[tuple[str, str]]) -> Labels:
    """Build a label set from pairs in any order (duplicates are kept for validation)."""
    return tuple(sorted(pairs))


def labels_to_dict(labels: Labels) -> dict[str, str]:
    return dict(labels)


def get_label(labels: Labels, name: str) -> str:
    """The value of ``name``, or ``""`` when the label is absent (Prometheus semantics)."""
    for k, v in labels:
        if k == name:
            return v
    return ""


def metric_name(labels: Labels) -> str:
    return get_label(labels, METRIC_NAME)


def format_labels(labels: Labels) -> str:
    """Render as ``name{a="b"}`` for error messages and logs."""
    name = metric_name(labels)
    rest = ",".join(f'{k}="{_escape(v)}"' for k, v in labels if k != METRIC_NAME)
    return f"{name}{{{rest}}}" if rest or not name else name


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def validate_labels(labels: Labels) -> Labels:
    """Check a label set and return it in canonical (sorted) order.

    Raises :class:`ValidationError` naming the series and the offending label for:
    a missing or empty ``__name__``, an empty label name, an empty label value,
    a duplicate label name, or a name/value that is not valid UTF-8 (surrogates
    from a lenient decoder). Unsorted input is sorted, as Prometheus' own
    remote-write receiver does, because nothing is lost by doing so.
    """
    if any(labels[i][0] >= labels[i + 1][0] for i in range(len(labels) - 1)):
        labels = tuple(sorted(labels))
    prev = None
    has_name = False
    for name, value in labels:
        if name == prev:
            raise ValidationError(f"series {format_labels(labels)}: duplicate label name {name!r}")
        prev = name
        if not name:
            raise ValidationError(f"series {format_labels(labels)}: empty label name")
        if value == "":
            raise ValidationError(
                f"series {format_labels(labels)}: label {name!r} has an empty value "
                "(omit the label instead)"
            )
        if not _is_utf8(name) or not _is_utf8(value):
            raise ValidationError(
                f"series {format_labels(labels)}: label {name!r} is not valid UTF-8"
            )
        if name == METRIC_NAME:
            has_name = True
    if not has_name:
        raise ValidationError(f"series {format_labels(labels)}: missing metric name (__name__)")
    return labels


def _is_utf8(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
