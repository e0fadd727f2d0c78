"""The samples one Kubernetes object contributes, built once when it changes.

kube-state-metrics renders an object's metrics when the object changes, not
at every scrape; so do we. :class:`Out` gathers one object's samples grouped
by family, as ``{family: ((labels, value), ...)}``: the informer keeps only
that (never the object itself), and a collection concatenates the groups.

Memory is the point here (10,000 pods must fit in 200 MB): label pairs of
small vocabularies (``("phase", "Running")``, ``("namespace", "default")``)
and the values 0 and 1 are shared objects, not copies per sample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kubesight.collect.kube_state._values import Allowlist, map_to_labels, sub, text
from kubesight.model.labels import METRIC_NAME, Labels

Sample = tuple[Labels, float]
Rows = dict[str, Any]  # family name -> tuple[Sample, ...]
Pair = tuple[str, str]

ZERO = 0.0
ONE = 1.0

# Label pairs of small vocabularies are shared by every sample that carries
# them. Only names whose values repeat across objects are interned (a pod's
# uid or container ID would only fill the table), and the table is bounded
# all the same, against a cluster where one of them does not repeat.
_INTERNED = frozenset({
    "namespace", "container", "node", "phase", "condition", "status", "reason", "resource", "unit",
    "qos_class", "owner_kind", "owner_name", "owner_is_controller", "created_by_kind", "created_by_name",
    "host_ip", "host_network", "priority_class", "image", "image_spec", "type", "effect", "key", "value",
    "access_mode", "role", "metric_name", "metric_target_type", "port_protocol", "port_number", "port_name",
    "ready", "restart_policy", "storageclass", "volumemode", "revision",
})
_PAIRS: dict[Pair, Pair] = {}
_PAIRS_MAX = 50_000
_NAMES: dict[str, Pair] = {}


def pair(name: str, value: str) -> Pair:
    p = (name, value)
    if name not in _INTERNED:
        return p
    got = _PAIRS.get(p)
    if got is not None:
        return got
    if len(_PAIRS) < _PAIRS_MAX:
        _PAIRS[p] = p
    return p


def _name(family: str) -> Pair:
    p = _NAMES.get(family)
    if p is None:
        p = _NAMES[family] = (METRIC_NAME, family)
    return p


def boolean(b: bool) -> float:
    return ONE if b else ZERO


def _value(v: float) -> float:
    if v == 0.0:
        return ZERO
    if v == 1.0:
        return ONE
    return float(v)


class Out:
    """One object's samples; ``base`` labels (``namespace``, ``pod``, ``uid``) go on each."""

    __slots__ = ("base", "rows")

    def __init__(self, base: Iterable[Pair]) -> None:
        self.base = [pair(k, v) for k, v in base if v != ""]
        self.rows: dict[str, list[Sample]] = {}

    def add(self, family: str, value: float, *pairs: Pair) -> None:
        """A sample; labels with empty values are dropped (Prometheus: empty means absent)."""
        lbls = [*self.base, _NAMES.get(family) or _name(family)]
        for k, v in pairs:
            if v != "":
                lbls.append(pair(k, v))
        lbls.sort()
        got = self.rows.get(family)
        if got is None:
            self.rows[family] = got = []
        got.append((tuple(lbls), _value(value)))

    def maybe(self, family: str, value: float | None, *pairs: Pair) -> None:
        """A sample when ``value`` is known (a nil pointer in Go emits nothing)."""
        if value is not None:
            self.add(family, value, *pairs)

    def conditions(self, family: str, status: str, *pairs: Pair) -> None:
        """kube-state-metrics' three samples per condition: ``true|false|unknown`` = 1 or 0."""
        for s in ("true", "false", "unknown"):
            self.add(family, boolean(status == s.capitalize()), *pairs, ("condition", s))

    def rows_(self) -> Rows:
        """``{family: ((labels, value), ...)}``."""
        return {k: tuple(v) for k, v in self.rows.items()}


def conditions_status(out: Out, family: str, type_: str, status: str, *pairs: Pair) -> None:
    """The ``condition=<type>, status=true|false|unknown`` shape (node, namespace, HPA...)."""
    for s in ("true", "false", "unknown"):
        out.add(family, boolean(status == s.capitalize()), *pairs, ("condition", type_), ("status", s))


def meta_labels(out: Out, obj: Any, resource: str, kind: str,
                labels_allow: Allowlist, annotations_allow: Allowlist) -> None:
    """``kube_<kind>_labels`` and ``kube_<kind>_annotations`` under the allowlists."""
    meta = sub(obj, "metadata")
    for allow, key, prefix, family in ((labels_allow, "labels", "label", f"kube_{kind}_labels"),
                                       (annotations_allow, "annotations", "annotation",
                                        f"kube_{kind}_annotations")):
        if not allow.enabled(resource):
            continue
        raw = meta.get(key)
        mapping = {str(k): text(raw, k) for k in raw} if isinstance(raw, dict) else {}
        out.add(family, ONE, *map_to_labels(prefix, allow.select(resource, mapping)))


@dataclass(frozen=True)
class Spec:
    """A family's metadata as kube-state-metrics serves it."""

    name: str
    type: str
    help: str


@dataclass(frozen=True)
class Options:
    labels: Allowlist
    annotations: Allowlist


@dataclass(frozen=True)
class Kind:
    """One watched resource: its families and how one object becomes their samples."""

    resource: str
    families: tuple[Spec, ...]
    build: Callable[[Any, Options], Rows]


# Families kube-state-metrics marks ALPHA (EXPERIMENTAL in its docs); every
# other one is STABLE, and its HELP text starts with "[STABLE] " as served.
ALPHA = frozenset({
    "kube_poddisruptionbudget_annotations", "kube_poddisruptionbudget_deletion_timestamp",
    "kube_poddisruptionbudget_labels",
    "kube_cronjob_annotations", "kube_cronjob_schedule_invalid",
    "kube_cronjob_spec_failed_job_history_limit", "kube_cronjob_spec_successful_job_history_limit",
    "kube_daemonset_annotations", "kube_daemonset_deletion_timestamp", "kube_deployment_annotations",
    "kube_deployment_deletion_timestamp", "kube_deployment_owner",
    "kube_deployment_status_terminating_replicas", "kube_endpoint_annotations",
    "kube_horizontalpodautoscaler_annotations", "kube_horizontalpodautoscaler_created",
    "kube_horizontalpodautoscaler_deletion_timestamp", "kube_horizontalpodautoscaler_info",
    "kube_horizontalpodautoscaler_spec_behavior_scale_down_tolerance",
    "kube_horizontalpodautoscaler_spec_behavior_scale_up_tolerance",
    "kube_horizontalpodautoscaler_spec_target_metric", "kube_job_annotations", "kube_job_status_ready",
    "kube_job_status_suspended", "kube_namespace_annotations", "kube_namespace_status_condition",
    "kube_node_annotations", "kube_node_deletion_timestamp", "kube_node_role", "kube_node_spec_pod_cidrs",
    "kube_node_status_addresses", "kube_persistentvolume_access_mode", "kube_persistentvolume_annotations",
    "kube_persistentvolume_created", "kube_persistentvolume_deletion_timestamp",
    "kube_persistentvolume_volume_mode", "kube_persistentvolumeclaim_annotations",
    "kube_persistentvolumeclaim_created", "kube_persistentvolumeclaim_deletion_timestamp",
    "kube_persistentvolumeclaim_status_condition", "kube_pod_annotations",
    "kube_pod_container_status_last_terminated_exitcode",
    "kube_pod_container_status_last_terminated_reason",
    "kube_pod_container_status_last_terminated_timestamp", "kube_pod_container_status_terminated_reason",
    "kube_pod_deletion_timestamp", "kube_pod_init_container_resource_limits",
    "kube_pod_init_container_resource_requests", "kube_pod_init_container_state_started",
    "kube_pod_init_container_status_last_terminated_exitcode",
    "kube_pod_init_container_status_last_terminated_reason",
    "kube_pod_init_container_status_last_terminated_timestamp",
    "kube_pod_init_container_status_terminated_reason", "kube_pod_init_container_status_waiting_reason",
    "kube_pod_ips", "kube_pod_overhead_cpu_cores", "kube_pod_overhead_memory_bytes",
    "kube_pod_resourceclaim_info", "kube_pod_runtimeclass_name_info", "kube_pod_scheduler",
    "kube_pod_service_account", "kube_pod_status_container_ready_time",
    "kube_pod_status_disruption_reason", "kube_pod_status_initialized_time", "kube_pod_status_qos_class",
    "kube_pod_status_ready_time", "kube_pod_status_reason", "kube_pod_status_unscheduled_time",
    "kube_pod_tolerations", "kube_replicaset_annotations", "kube_replicaset_status_terminating_replicas",
    "kube_resourcequota_annotations", "kube_service_annotations", "kube_service_deletion_timestamp",
})


def gauge(name: str, help_: str) -> Spec:
    return Spec(name, "gauge", help_ if name in ALPHA else "[STABLE] " + help_)


def counter(name: str, help_: str) -> Spec:
    return Spec(name, "counter", help_ if name in ALPHA else "[STABLE] " + help_)


LABELS_HELP = "Kubernetes labels converted to Prometheus labels."
ANNOTATIONS_HELP = "Kubernetes annotations converted to Prometheus labels."
CREATED_HELP = "Unix creation timestamp"
DELETION_HELP = "Unix deletion timestamp"
