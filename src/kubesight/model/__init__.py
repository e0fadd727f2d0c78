"""Leaf types shared by every layer: labels, matchers, sample batches."""

from kubesight.model.labels import (
    METRIC_NAME,
    Labels,
    get_label,
    labels_from_dict,
    labels_to_dict,
    validate_labels,
)
from kubesight.model.matchers import Matcher, MatchOp
from kubesight.model.samples import (
    STALE_NAN_BITS,
    MetricMetadata,
    SampleBatch,
    SeriesData,
    is_stale_nan,
    stale_markers,
    stale_nan,
)

__all__ = [
    "METRIC_NAME",
    "STALE_NAN_BITS",
    "Labels",
    "MatchOp",
    "Matcher",
    "MetricMetadata",
    "SampleBatch",
    "SeriesData",
    "get_label",
    "is_stale_nan",
    "labels_from_dict",
    "labels_to_dict",
    "stale_markers",
    "stale_nan",
    "validate_labels",
]
