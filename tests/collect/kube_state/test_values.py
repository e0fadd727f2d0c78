"""Quantities, timestamps, label names and allowlists, as kube-state-metrics reads them."""

from __future__ import annotations

import pytest

from kubesight.collect.kube_state import AllowlistError, parse_allowlist
from kubesight.collect.kube_state._values import (
    Allowlist,
    label_name,
    map_to_labels,
    q_float,
    q_value,
    unix,
)
from kubesight.collect.kube_state.pods import is_extended

# (quantity, Quantity.Value() rounded up, kube-state-metrics' milli-precise float)
QUANTITIES = [
    ("100m", 1.0, 0.1),
    ("250m", 1.0, 0.25),
    ("1", 1.0, 1.0),
    ("3800m", 4.0, 3.8),
    ("0.5", 1.0, 0.5),
    ("1500u", 1.0, 0.002),      # milli-value rounds up too
    ("128974848", 128974848.0, 128974848.0),
    ("129e6", 129e6, 129e6),
    ("129M", 129e6, 129e6),
    ("123Mi", 123 * 2**20, 123 * 2**20),
    ("16393880Ki", 16393880 * 1024, 16393880 * 1024),
    ("1Gi", 2**30, 2**30),
    ("2Ti", 2 * 2**40, 2 * 2**40),
    ("1k", 1000.0, 1000.0),
    ("1.5Gi", 1.5 * 2**30, 1.5 * 2**30),
    ("8E", 8e18, 8e18),          # past MaxMilliValue: the whole value, no milli rounding
    ("0", 0.0, 0.0),
    (3, 3.0, 3.0),
]


@pytest.mark.parametrize(("q", "value", "as_float"), QUANTITIES)
def test_quantities(q: str, value: float, as_float: float) -> None:
    assert q_value(q) == value
    assert q_float(q) == pytest.approx(as_float, rel=1e-15)


@pytest.mark.parametrize("bad", ["", "lots", "1.5.5", "1Kb", "Mi", "1e999999", "9" * 100, None, [], True, {}])
def test_bad_quantities_are_none(bad: object) -> None:
    assert q_value(bad) is None and q_float(bad) is None


@pytest.mark.parametrize(("ts", "want"), [
    ("2024-05-01T10:00:00Z", 1714557600.0),
    ("2024-05-01T10:00:00.999999Z", 1714557600.0),   # Go's Unix() truncates
    ("2024-05-01T12:00:00+02:00", 1714557600.0),
    ("2024-05-01T10:00:00", None),                   # RFC 3339 requires a zone
    ("yesterday", None), ("", None), (None, None), (1714557600, None),
])
def test_timestamps(ts: object, want: float | None) -> None:
    assert unix(ts) == want


@pytest.mark.parametrize(("key", "name"), [
    ("app", "label_app"),
    ("app.kubernetes.io/name", "label_app_kubernetes_io_name"),
    ("camelCase", "label_camel_case"),
    ("snake_camelCase", "label_snake_camel_case"),
    ("_app5", "label__app5"),
    ("ABCdef", "label_abcdef"),
    ("k8s-app", "label_k8s_app"),
])
def test_label_names(key: str, name: str) -> None:
    assert label_name("label", key) == name


@pytest.mark.parametrize(("labels", "want"), [
    ({"conflicting_label1": "underscore", "conflicting.label1": "dot", "conflicting-label1": "hyphen",
      "conflicting.label2": "dot", "conflicting-label2": "hyphen", "conflicting_label2": "underscore"},
     [("label_conflicting_label1_conflict1", "hyphen"), ("label_conflicting_label1_conflict2", "dot"),
      ("label_conflicting_label1_conflict3", "underscore"), ("label_conflicting_label2_conflict1", "hyphen"),
      ("label_conflicting_label2_conflict2", "dot"), ("label_conflicting_label2_conflict3", "underscore")]),
    ({"conflicting_camelCase": "camel_case", "conflicting_camel_case": "snake_case"},
     [("label_conflicting_camel_case_conflict1", "camel_case"),
      ("label_conflicting_camel_case_conflict2", "snake_case")]),
    # A key that sanitises onto a generated suffix: the suffixes skip past it.
    ({"A.b.conflict1": "already_taken", "a-b": "dash", "a.b": "dot"},
     [("label_a_b_conflict1", "already_taken"), ("label_a_b_conflict2", "dash"), ("label_a_b_conflict3", "dot")]),
])
def test_label_name_conflicts(labels: dict[str, str], want: list[tuple[str, str]]) -> None:
    assert sorted(map_to_labels("label", labels)) == sorted(want)


RESOURCES = ["pods", "nodes", "deployments"]
LABELS = {"app": "web", "team": "shop", "team.example.com/owner": "ann", "team.example.com/cost": "42",
          "other.example.com/x": "y"}


@pytest.mark.parametrize(("spec", "resource", "want"), [
    ({}, "pods", None),                                              # not listed: no series at all
    ({"pods": []}, "pods", None),
    ({"pods": ["app"]}, "pods", {"app": "web"}),
    ({"pods": ["app", "missing"]}, "pods", {"app": "web"}),
    ({"pods": ["*"]}, "pods", LABELS),
    ({"pods": ["app", "*"]}, "pods", {"app": "web"}),                # '*' only counts first
    ({"pods": ["team.example.com/*"]}, "pods", {"team.example.com/owner": "ann", "team.example.com/cost": "42"}),
    ({"pods": ["*.example.com/x"]}, "pods", {"other.example.com/x": "y"}),
    ({"pods": ["a*b*c"]}, "pods", {}),                               # two wildcards: ignored
    ({"*": ["team"]}, "nodes", {"team": "shop"}),
    ({"*": ["team"], "pods": ["app"]}, "pods", {"team": "shop"}),    # '*' takes precedence
])
def test_allowlist(spec: dict[str, list[str]], resource: str, want: dict[str, str] | None) -> None:
    allow = Allowlist(spec, RESOURCES)
    if want is None:
        assert not allow.enabled(resource)
    else:
        assert allow.enabled(resource)
        assert allow.select(resource, LABELS) == want


def test_allowlist_refuses_unknown_resources() -> None:
    with pytest.raises(AllowlistError, match="resource 'podz' does not exist"):
        Allowlist({"podz": ["app"]}, RESOURCES)


@pytest.mark.parametrize(("text", "want"), [
    ("pods=[app,team],nodes=[*]", {"pods": ["app", "team"], "nodes": ["*"]}),
    ("pods=[app.kubernetes.io/name, team]", {"pods": ["app.kubernetes.io/name", "team"]}),
    ("*=[*]", {"*": ["*"]}),
    ("pods=[]", {"pods": []}),
    ("", {}),
])
def test_parse_allowlist(text: str, want: dict[str, list[str]]) -> None:
    assert parse_allowlist(text) == want


@pytest.mark.parametrize("bad", ["pods=app", "pods=[app", "=[app]", "pods=[a],,nodes=[b]", "pods=[a] nodes=[b]"])
def test_parse_allowlist_errors_say_where(bad: str) -> None:
    with pytest.raises(AllowlistError, match="metric-labels-allowlist: cannot parse"):
        parse_allowlist(bad)


@pytest.mark.parametrize(("name", "extended"), [
    ("nvidia.com/gpu", True), ("example.com/foo", True), ("cpu", False), ("memory", False),
    ("hugepages-2Mi", False), ("kubernetes.io/something", False), ("requests.example.com/x", False),
    ("bad_domain!/x", False),
])
def test_extended_resources(name: str, extended: bool) -> None:
    assert is_extended(name) is extended


def test_allowlist_keys_must_be_a_list() -> None:
    with pytest.raises(AllowlistError, match=r"metric-labels-allowlist: pods: expected a list of keys, got 'app'"):
        Allowlist({"pods": "app"}, RESOURCES)
