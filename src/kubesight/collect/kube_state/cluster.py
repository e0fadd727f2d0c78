"""Nodes, namespaces, volumes and claims, autoscalers, quotas, disruption budgets,
services and endpoints, as kube-state-metrics v2.x."""

from __future__ import annotations

from typing import Any

from kubesight.collect.kube_state._rows import (
    ANNOTATIONS_HELP,
    CREATED_HELP,
    DELETION_HELP,
    LABELS_HELP,
    ONE,
    Kind,
    Options,
    Out,
    Rows,
    Spec,
    boolean,
    conditions_status,
    gauge,
    meta_labels,
)
from kubesight.collect.kube_state._values import (
    count,
    items,
    number,
    q_float,
    q_value,
    quantity,
    strings,
    sub,
    text,
    unix,
)
from kubesight.collect.kube_state.pods import resource_samples


def _meta_families(kind: str) -> tuple[Spec, ...]:
    return (gauge(f"kube_{kind}_annotations", ANNOTATIONS_HELP), gauge(f"kube_{kind}_labels", LABELS_HELP))


def _start(obj: Any, opts: Options, resource: str, kind: str,
           base: tuple[tuple[str, str], ...]) -> tuple[Out, dict[str, Any]]:
    meta = sub(obj, "metadata")
    out = Out(base)
    out.maybe(f"kube_{kind}_created", unix(meta.get("creationTimestamp")))
    out.maybe(f"kube_{kind}_deletion_timestamp", unix(meta.get("deletionTimestamp")))
    meta_labels(out, obj, resource, kind, opts.labels, opts.annotations)
    return out, meta


def _ns_name(obj: Any, label: str) -> tuple[tuple[str, str], ...]:
    meta = sub(obj, "metadata")
    return (("namespace", text(meta, "namespace")), (label, text(meta, "name")))


# ---- nodes ------------------------------------------------------------------------

NODE = (
    *_meta_families("node"),
    gauge("kube_node_created", CREATED_HELP),
    gauge("kube_node_deletion_timestamp", DELETION_HELP),
    gauge("kube_node_info", "Information about a cluster node."),
    gauge("kube_node_role", "The role of a cluster node."),
    gauge("kube_node_spec_pod_cidrs", "The pod CIDRs of a cluster node."),
    gauge("kube_node_spec_taint", "The taint of a cluster node."),
    gauge("kube_node_spec_unschedulable", "Whether a node can schedule new pods."),
    gauge("kube_node_status_allocatable",
          "The allocatable for different resources of a node that are available for scheduling."),
    gauge("kube_node_status_capacity", "The capacity for different resources of a node."),
    gauge("kube_node_status_condition", "The condition of a cluster node."),
    gauge("kube_node_status_addresses", "Node address information."),
)

_ROLE_PREFIX = "node-role.kubernetes.io/"


def node(obj: Any, opts: Options) -> Rows:
    out, meta = _start(obj, opts, "nodes", "node", (("node", text(sub(obj, "metadata"), "name")),))
    spec, status = sub(obj, "spec"), sub(obj, "status")
    info = sub(status, "nodeInfo")
    addresses = items(status, "addresses")
    internal = ""
    for a in addresses:
        if text(a, "type") == "InternalIP":
            internal = text(a, "address")
    out.add("kube_node_info", ONE, ("kernel_version", text(info, "kernelVersion")),
            ("os_image", text(info, "osImage")),
            ("container_runtime_version", text(info, "containerRuntimeVersion")),
            ("kubelet_version", text(info, "kubeletVersion")), ("kubeproxy_version", "deprecated"),
            ("provider_id", text(spec, "providerID")), ("pod_cidr", text(spec, "podCIDR")),
            ("system_uuid", text(info, "systemUUID")), ("internal_ip", internal))
    labels = meta.get("labels")
    for key in labels if isinstance(labels, dict) else ():
        if isinstance(key, str) and key.startswith(_ROLE_PREFIX):
            out.add("kube_node_role", ONE, ("role", key[len(_ROLE_PREFIX):]))
    for cidr in strings(spec, "podCIDRs"):
        out.add("kube_node_spec_pod_cidrs", ONE, ("pod_cidr", cidr))
    for t in items(spec, "taints"):
        out.add("kube_node_spec_taint", ONE, ("key", text(t, "key")), ("value", text(t, "value")),
                ("effect", text(t, "effect")))
    out.add("kube_node_spec_unschedulable", boolean(spec.get("unschedulable") is True))
    for fam, key in (("kube_node_status_allocatable", "allocatable"), ("kube_node_status_capacity", "capacity")):
        for res, unit, v in resource_samples(status.get(key), True):
            out.add(fam, v, ("resource", res), ("unit", unit))
    for c in items(status, "conditions"):
        conditions_status(out, "kube_node_status_condition", text(c, "type"), text(c, "status"))
    for a in addresses:
        out.add("kube_node_status_addresses", ONE, ("type", text(a, "type")), ("address", text(a, "address")))
    return out.rows_()


# ---- namespaces -------------------------------------------------------------------

NAMESPACE = (
    gauge("kube_namespace_created", CREATED_HELP),
    *_meta_families("namespace"),
    gauge("kube_namespace_status_phase", "kubernetes namespace status phase."),
    gauge("kube_namespace_status_condition", "The condition of a namespace."),
)


def namespace(obj: Any, opts: Options) -> Rows:
    meta = sub(obj, "metadata")
    out = Out((("namespace", text(meta, "name")),))
    out.maybe("kube_namespace_created", unix(meta.get("creationTimestamp")))
    meta_labels(out, obj, "namespaces", "namespace", opts.labels, opts.annotations)
    status = sub(obj, "status")
    phase = text(status, "phase")
    for ph in ("Active", "Terminating"):
        out.add("kube_namespace_status_phase", boolean(phase == ph), ("phase", ph))
    for c in items(status, "conditions"):
        conditions_status(out, "kube_namespace_status_condition", text(c, "type"), text(c, "status"))
    return out.rows_()


# ---- persistent volume claims -----------------------------------------------------

PVC = (
    *_meta_families("persistentvolumeclaim"),
    gauge("kube_persistentvolumeclaim_info", "Information about persistent volume claim."),
    gauge("kube_persistentvolumeclaim_status_phase", "The phase the persistent volume claim is currently in."),
    gauge("kube_persistentvolumeclaim_resource_requests_storage_bytes",
          "The capacity of storage requested by the persistent volume claim."),
    gauge("kube_persistentvolumeclaim_access_mode", "The access mode(s) specified by the persistent volume claim."),
    gauge("kube_persistentvolumeclaim_status_condition",
          "Information about status of different conditions of persistent volume claim."),
    gauge("kube_persistentvolumeclaim_created", CREATED_HELP),
    gauge("kube_persistentvolumeclaim_deletion_timestamp", DELETION_HELP),
)

_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"


def pvc(obj: Any, opts: Options) -> Rows:
    out, meta = _start(obj, opts, "persistentvolumeclaims", "persistentvolumeclaim",
                       _ns_name(obj, "persistentvolumeclaim"))
    spec, status = sub(obj, "spec"), sub(obj, "status")
    # The beta annotation wins over spec.storageClassName, as in the API's own helper.
    annotations = sub(meta, "annotations")
    cls = (text(annotations, _BETA_STORAGE_CLASS) if _BETA_STORAGE_CLASS in annotations
           else text(spec, "storageClassName"))
    out.add("kube_persistentvolumeclaim_info", ONE, ("storageclass", cls),
            ("volumename", text(spec, "volumeName")), ("volumemode", text(spec, "volumeMode")))
    phase = text(status, "phase")
    if phase:
        for ph in ("Lost", "Bound", "Pending"):
            out.add("kube_persistentvolumeclaim_status_phase", boolean(phase == ph), ("phase", ph))
    requests = sub(spec, "resources", "requests")
    if "storage" in requests:
        out.maybe("kube_persistentvolumeclaim_resource_requests_storage_bytes", q_value(requests["storage"]))
    for mode in strings(spec, "accessModes"):
        out.add("kube_persistentvolumeclaim_access_mode", ONE, ("access_mode", mode))
    for c in items(status, "conditions"):
        conditions_status(out, "kube_persistentvolumeclaim_status_condition", text(c, "type"), text(c, "status"))
    return out.rows_()


# ---- persistent volumes -----------------------------------------------------------

PV = (
    gauge("kube_persistentvolume_claim_ref", "Information about the Persistent Volume Claim Reference."),
    *_meta_families("persistentvolume"),
    gauge("kube_persistentvolume_status_phase",
          "The phase indicates if a volume is available, bound to a claim, or released by a claim."),
    gauge("kube_persistentvolume_info", "Information about persistentvolume."),
    gauge("kube_persistentvolume_capacity_bytes", "Persistentvolume capacity in bytes."),
    gauge("kube_persistentvolume_created", CREATED_HELP),
    gauge("kube_persistentvolume_deletion_timestamp", DELETION_HELP),
    gauge("kube_persistentvolume_volume_mode", "Volume Mode information for the PersistentVolume."),
    gauge("kube_persistentvolume_access_mode", "The access mode(s) specified by the persistent volume."),
)


def _pv_source(spec: dict[str, Any]) -> dict[str, str]:
    """The volume-source labels of kube_persistentvolume_info (the first source present)."""
    out: dict[str, str] = {}
    if isinstance(spec.get("gcePersistentDisk"), dict):
        out["gce_persistent_disk_name"] = text(spec["gcePersistentDisk"], "pdName")
    elif isinstance(spec.get("awsElasticBlockStore"), dict):
        out["ebs_volume_id"] = text(spec["awsElasticBlockStore"], "volumeID")
    elif isinstance(spec.get("azureDisk"), dict):
        out["azure_disk_name"] = text(spec["azureDisk"], "diskName")
    elif isinstance(spec.get("fc"), dict):
        fc = spec["fc"]
        out["fc_lun"] = text(fc, "lun")
        out["fc_target_wwns"] = ",".join(strings(fc, "targetWWNs"))
        out["fc_wwids"] = ",".join(strings(fc, "wwids"))
    elif isinstance(spec.get("iscsi"), dict):
        i = spec["iscsi"]
        out.update(iscsi_target_portal=text(i, "targetPortal"), iscsi_iqn=text(i, "iqn"),
                   iscsi_lun=text(i, "lun") or "0", iscsi_initiator_name=text(i, "initiatorName"))
    elif isinstance(spec.get("nfs"), dict):
        out.update(nfs_server=text(spec["nfs"], "server"), nfs_path=text(spec["nfs"], "path"))
    elif isinstance(spec.get("csi"), dict):
        out.update(csi_driver=text(spec["csi"], "driver"), csi_volume_handle=text(spec["csi"], "volumeHandle"))
    elif isinstance(spec.get("local"), dict):
        out.update(local_path=text(spec["local"], "path"), local_fs=text(spec["local"], "fsType"))
    elif isinstance(spec.get("hostPath"), dict):
        out.update(host_path=text(spec["hostPath"], "path"), host_path_type=text(spec["hostPath"], "type"))
    return out


def pv(obj: Any, opts: Options) -> Rows:
    out, _ = _start(obj, opts, "persistentvolumes", "persistentvolume",
                       (("persistentvolume", text(sub(obj, "metadata"), "name")),))
    spec, status = sub(obj, "spec"), sub(obj, "status")
    ref = sub(spec, "claimRef")
    if isinstance(spec.get("claimRef"), dict):
        out.add("kube_persistentvolume_claim_ref", ONE, ("name", text(ref, "name")),
                ("claim_namespace", text(ref, "namespace")))
    phase = text(status, "phase")
    if phase:
        for ph in ("Pending", "Available", "Bound", "Released", "Failed"):
            out.add("kube_persistentvolume_status_phase", boolean(phase == ph), ("phase", ph))
    out.add("kube_persistentvolume_info", ONE, ("storageclass", text(spec, "storageClassName")),
            *_pv_source(spec).items(), ("reclaim_policy", text(spec, "persistentVolumeReclaimPolicy")))
    out.add("kube_persistentvolume_capacity_bytes", q_value(sub(spec, "capacity").get("storage")) or 0.0)
    out.add("kube_persistentvolume_volume_mode", ONE, ("volumemode", text(spec, "volumeMode") or "Filesystem"))
    for mode in strings(spec, "accessModes"):
        out.add("kube_persistentvolume_access_mode", ONE, ("access_mode", mode))
    return out.rows_()


# ---- horizontal pod autoscalers ---------------------------------------------------

HPA = (
    gauge("kube_horizontalpodautoscaler_info", "Information about this autoscaler."),
    gauge("kube_horizontalpodautoscaler_metadata_generation",
          "The generation observed by the HorizontalPodAutoscaler controller."),
    gauge("kube_horizontalpodautoscaler_spec_max_replicas",
          "Upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas."),
    gauge("kube_horizontalpodautoscaler_spec_min_replicas",
          "Lower limit for the number of pods that can be set by the autoscaler, default 1."),
    gauge("kube_horizontalpodautoscaler_spec_target_metric",
          "The metric specifications used by this autoscaler when calculating the desired replica count."),
    gauge("kube_horizontalpodautoscaler_status_target_metric",
          "The current metric status used by this autoscaler when calculating the desired replica count."),
    gauge("kube_horizontalpodautoscaler_status_current_replicas",
          "Current number of replicas of pods managed by this autoscaler."),
    gauge("kube_horizontalpodautoscaler_status_desired_replicas",
          "Desired number of replicas of pods managed by this autoscaler."),
    *_meta_families("horizontalpodautoscaler"),
    gauge("kube_horizontalpodautoscaler_status_condition", "The condition of this autoscaler."),
    gauge("kube_horizontalpodautoscaler_created", CREATED_HELP),
    gauge("kube_horizontalpodautoscaler_deletion_timestamp", DELETION_HELP),
    gauge("kube_horizontalpodautoscaler_spec_behavior_scale_up_tolerance",
          "The tolerance on the ratio between the current and desired metric value below which no scale up occurs."),
    gauge("kube_horizontalpodautoscaler_spec_behavior_scale_down_tolerance",
          "The tolerance on the ratio between the current and desired metric value below which no scale down "
          "occurs."),
)

# metric source type -> (field holding it, where its name is)
_SOURCES = {"Object": "object", "Pods": "pods", "Resource": "resource", "ContainerResource": "containerResource",
            "External": "external"}


def _hpa_metrics(out: Out, family: str, entries: list[dict[str, Any]], value_key: str) -> None:
    for m in entries:
        field = _SOURCES.get(text(m, "type"))
        if field is None or not isinstance(m.get(field), dict):
            continue
        src = m[field]
        if field in ("resource", "containerResource"):
            name = text(src, "name")
        else:
            name = text(sub(src, "metric"), "name")
        target = sub(src, value_key)
        for kind, key, conv in (("value", "value", q_float), ("average", "averageValue", q_float),
                                ("utilization", "averageUtilization", None)):
            if key not in target:
                continue
            v = number(target, key) if conv is None else conv(target[key])
            out.maybe(family, v, ("metric_name", name), ("metric_target_type", kind),
                      ("container", text(src, "container")))


def hpa(obj: Any, opts: Options) -> Rows:
    out, meta = _start(obj, opts, "horizontalpodautoscalers", "horizontalpodautoscaler",
                       _ns_name(obj, "horizontalpodautoscaler"))
    spec, status = sub(obj, "spec"), sub(obj, "status")
    ref = sub(spec, "scaleTargetRef")
    out.add("kube_horizontalpodautoscaler_info", ONE, ("scaletargetref_api_version", text(ref, "apiVersion")),
            ("scaletargetref_kind", text(ref, "kind")), ("scaletargetref_name", text(ref, "name")))
    out.add("kube_horizontalpodautoscaler_metadata_generation", count(meta, "generation"))
    out.add("kube_horizontalpodautoscaler_spec_max_replicas", count(spec, "maxReplicas"))
    mn = number(spec, "minReplicas")
    out.add("kube_horizontalpodautoscaler_spec_min_replicas", 1.0 if mn is None else mn)
    _hpa_metrics(out, "kube_horizontalpodautoscaler_spec_target_metric", items(spec, "metrics"), "target")
    _hpa_metrics(out, "kube_horizontalpodautoscaler_status_target_metric", items(status, "currentMetrics"),
                 "current")
    out.add("kube_horizontalpodautoscaler_status_current_replicas", count(status, "currentReplicas"))
    out.add("kube_horizontalpodautoscaler_status_desired_replicas", count(status, "desiredReplicas"))
    for c in items(status, "conditions"):
        conditions_status(out, "kube_horizontalpodautoscaler_status_condition", text(c, "type"), text(c, "status"))
    behavior = sub(spec, "behavior")
    for direction, key in (("up", "scaleUp"), ("down", "scaleDown")):
        rules = sub(behavior, key)
        if "tolerance" in rules:
            q = quantity(rules["tolerance"])
            if q is not None:
                out.add(f"kube_horizontalpodautoscaler_spec_behavior_scale_{direction}_tolerance", float(q))
    return out.rows_()


# ---- resource quotas --------------------------------------------------------------

QUOTA = (
    gauge("kube_resourcequota_created", CREATED_HELP),
    gauge("kube_resourcequota", "Information about resource quota."),
    *_meta_families("resourcequota"),
)


def quota(obj: Any, opts: Options) -> Rows:
    meta = sub(obj, "metadata")
    out = Out(_ns_name(obj, "resourcequota"))
    out.maybe("kube_resourcequota_created", unix(meta.get("creationTimestamp")))
    status = sub(obj, "status")
    for typ, key in (("hard", "hard"), ("used", "used")):
        for res, raw in sub(status, key).items():
            out.maybe("kube_resourcequota", q_float(raw), ("resource", str(res)), ("type", typ))
    meta_labels(out, obj, "resourcequotas", "resourcequota", opts.labels, opts.annotations)
    return out.rows_()


# ---- pod disruption budgets -------------------------------------------------------

PDB = (
    *_meta_families("poddisruptionbudget"),
    gauge("kube_poddisruptionbudget_created", CREATED_HELP),
    gauge("kube_poddisruptionbudget_status_current_healthy", "Current number of healthy pods"),
    gauge("kube_poddisruptionbudget_status_desired_healthy", "Minimum desired number of healthy pods"),
    gauge("kube_poddisruptionbudget_status_pod_disruptions_allowed",
          "Number of pod disruptions that are currently allowed"),
    gauge("kube_poddisruptionbudget_status_expected_pods", "Total number of pods counted by this disruption budget"),
    gauge("kube_poddisruptionbudget_status_observed_generation",
          "Most recent generation observed when updating this PDB status"),
    gauge("kube_poddisruptionbudget_deletion_timestamp", DELETION_HELP),
)


def pdb(obj: Any, opts: Options) -> Rows:
    out, _ = _start(obj, opts, "poddisruptionbudgets", "poddisruptionbudget",
                    _ns_name(obj, "poddisruptionbudget"))
    status = sub(obj, "status")
    for fam, key in (("current_healthy", "currentHealthy"), ("desired_healthy", "desiredHealthy"),
                     ("pod_disruptions_allowed", "disruptionsAllowed"), ("expected_pods", "expectedPods"),
                     ("observed_generation", "observedGeneration")):
        out.add(f"kube_poddisruptionbudget_status_{fam}", count(status, key))
    return out.rows_()


# ---- services ---------------------------------------------------------------------

SERVICE = (
    gauge("kube_service_info", "Information about service."),
    gauge("kube_service_created", CREATED_HELP),
    gauge("kube_service_spec_type", "Type about service."),
    *_meta_families("service"),
    gauge("kube_service_spec_external_ip", "Service external ips. One series for each ip"),
    gauge("kube_service_status_load_balancer_ingress", "Service load balancer ingress status"),
    gauge("kube_service_deletion_timestamp", DELETION_HELP),
)


def service(obj: Any, opts: Options) -> Rows:
    meta = sub(obj, "metadata")
    out, meta = _start(obj, opts, "services", "service",
                       (*_ns_name(obj, "service"), ("uid", text(meta, "uid"))))
    spec = sub(obj, "spec")
    out.add("kube_service_info", ONE, ("cluster_ip", text(spec, "clusterIP")),
            ("external_name", text(spec, "externalName")), ("load_balancer_ip", text(spec, "loadBalancerIP")),
            ("external_traffic_policy", text(spec, "externalTrafficPolicy")))
    out.add("kube_service_spec_type", ONE, ("type", text(spec, "type")))
    for ip in strings(spec, "externalIPs"):
        out.add("kube_service_spec_external_ip", ONE, ("external_ip", ip))
    for ing in items(sub(obj, "status", "loadBalancer"), "ingress"):
        out.add("kube_service_status_load_balancer_ingress", ONE, ("ip", text(ing, "ip")),
                ("hostname", text(ing, "hostname")))
    return out.rows_()


# ---- endpoints --------------------------------------------------------------------

ENDPOINTS = (
    gauge("kube_endpoint_info", "Information about endpoint."),
    gauge("kube_endpoint_created", CREATED_HELP),
    *_meta_families("endpoint"),
    gauge("kube_endpoint_address", "Information about Endpoint available and non available addresses."),
    gauge("kube_endpoint_ports", "(Deprecated since v2.14.0) Information about the Endpoint ports."),
)


def endpoints(obj: Any, opts: Options) -> Rows:
    meta = sub(obj, "metadata")
    out = Out(_ns_name(obj, "endpoint"))
    out.add("kube_endpoint_info", ONE)
    out.maybe("kube_endpoint_created", unix(meta.get("creationTimestamp")))
    meta_labels(out, obj, "endpoints", "endpoint", opts.labels, opts.annotations)
    for s in items(obj, "subsets"):
        for port in items(s, "ports"):
            p = (("port_protocol", text(port, "protocol")), ("port_number", text(port, "port") or "0"),
                 ("port_name", text(port, "name")))
            for a in items(s, "addresses"):
                out.add("kube_endpoint_address", ONE, *p, ("ip", text(a, "ip")), ("ready", "true"))
            for a in items(s, "notReadyAddresses"):
                out.add("kube_endpoint_address", ONE, *p, ("ip", text(a, "ip")), ("ready", "false"))
    for s in items(obj, "subsets"):
        for port in items(s, "ports"):
            out.add("kube_endpoint_ports", ONE, ("port_name", text(port, "name")),
                    ("port_protocol", text(port, "protocol")), ("port_number", text(port, "port") or "0"))
    return out.rows_()


KINDS = (
    Kind("nodes", NODE, node),
    Kind("namespaces", NAMESPACE, namespace),
    Kind("persistentvolumeclaims", PVC, pvc),
    Kind("persistentvolumes", PV, pv),
    Kind("horizontalpodautoscalers", HPA, hpa),
    Kind("resourcequotas", QUOTA, quota),
    Kind("poddisruptionbudgets", PDB, pdb),
    Kind("services", SERVICE, service),
    Kind("endpoints", ENDPOINTS, endpoints),
)
