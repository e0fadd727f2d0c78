"""``kube_pod_*``: pods and their containers, as kube-state-metrics v2.x."""

from __future__ import annotations

import ipaddress
import re
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
    counter,
    gauge,
    meta_labels,
)
from kubesight.collect.kube_state._values import (
    count,
    items,
    q_float,
    q_value,
    sanitize,
    sub,
    text,
    unix,
)

_C = "kube_pod_container"
_I = "kube_pod_init_container"


def _container_specs(p: str, init: bool) -> tuple[Spec, ...]:
    what = "init container" if init else "container"
    specs = [
        gauge(f"{p}_info", f"Information about {'an init container' if init else 'a container'} in a pod."),
        gauge(f"{p}_resource_limits", (
            "The number of requested limit resource by an init container." if init else
            "The number of requested limit resource by a container. It is recommended to use the "
            "kube_pod_resource_limits metric exposed by kube-scheduler instead, as it is more precise.")),
        gauge(f"{p}_resource_requests", (
            "The number of requested request resource by an init container." if init else
            "The number of requested request resource by a container. It is recommended to use the "
            "kube_pod_resource_requests metric exposed by kube-scheduler instead, as it is more precise.")),
        gauge(f"{p}_state_started", f"Start time in unix timestamp for a pod {what}."),
        gauge(f"{p}_status_last_terminated_reason",
              f"Describes the last reason the {what} was in terminated state."),
        gauge(f"{p}_status_last_terminated_exitcode",
              f"Describes the exit code for the last {what} in terminated state."),
        gauge(f"{p}_status_last_terminated_timestamp",
              f"Last terminated time for a pod {what} in unix timestamp."),
        gauge(f"{p}_status_ready", "Describes whether the init containers readiness check succeeded."
              if init else "Describes whether the containers readiness check succeeded."),
        counter(f"{p}_status_restarts_total", "The number of restarts for the init container."
                if init else "The number of container restarts per container."),
        gauge(f"{p}_status_running", f"Describes whether the {what} is currently in running state."),
        gauge(f"{p}_status_terminated", f"Describes whether the {what} is currently in terminated state."),
        gauge(f"{p}_status_terminated_reason",
              f"Describes the reason the {what} is currently in terminated state."),
        gauge(f"{p}_status_waiting", f"Describes whether the {what} is currently in waiting state."),
        gauge(f"{p}_status_waiting_reason",
              f"Describes the reason the {what} is currently in waiting state."),
    ]
    return tuple(specs)


FAMILIES: tuple[Spec, ...] = (
    gauge("kube_pod_completion_time", "Completion time in unix timestamp for a pod."),
    *_container_specs(_C, init=False),
    gauge("kube_pod_created", CREATED_HELP),
    gauge("kube_pod_deletion_timestamp", DELETION_HELP),
    gauge("kube_pod_info", "Information about pod."),
    *_container_specs(_I, init=True),
    gauge("kube_pod_ips", "Pod IP addresses"),
    gauge("kube_pod_annotations", ANNOTATIONS_HELP),
    gauge("kube_pod_labels", LABELS_HELP),
    gauge("kube_pod_owner", "Information about the Pod's owner."),
    gauge("kube_pod_restart_policy", "Describes the restart policy in use by this pod."),
    gauge("kube_pod_runtimeclass_name_info", "The runtimeclass associated with the pod."),
    gauge("kube_pod_spec_volumes_persistentvolumeclaims_info",
          "Information about persistentvolumeclaim and ephemeral volumes in a pod."),
    gauge("kube_pod_spec_volumes_persistentvolumeclaims_readonly",
          "Describes whether a persistentvolumeclaim is mounted read only. Ephemeral volumes always report 0 "
          "since the ephemeral volume source does not support a read-only flag."),
    gauge("kube_pod_start_time", "Start time in unix timestamp for a pod."),
    gauge("kube_pod_status_phase", "The pods current phase."),
    gauge("kube_pod_status_initialized_time", "Initialized time in unix timestamp for a pod."),
    gauge("kube_pod_status_container_ready_time", "Readiness achieved time in unix timestamp for a pod containers."),
    gauge("kube_pod_status_ready_time", "Readiness achieved time in unix timestamp for a pod."),
    gauge("kube_pod_status_qos_class", "The pods current qosClass."),
    gauge("kube_pod_status_ready", "Describes whether the pod is ready to serve requests."),
    gauge("kube_pod_status_reason", "The pod status reasons"),
    gauge("kube_pod_status_disruption_reason", "The pod disruption condition reason"),
    gauge("kube_pod_status_scheduled", "Describes the status of the scheduling process for the pod."),
    gauge("kube_pod_status_scheduled_time", "Unix timestamp when pod moved into scheduled status"),
    gauge("kube_pod_status_unschedulable", "Describes the unschedulable status for the pod."),
    gauge("kube_pod_status_unscheduled_time", "Unix timestamp when pod moved into unscheduled status"),
    gauge("kube_pod_tolerations", "Information about the pod tolerations"),
    gauge("kube_pod_service_account", "The service account for a pod."),
    gauge("kube_pod_scheduler", "The scheduler for a pod."),
)

# Go's zero time.Time, as Unix seconds: what kube-state-metrics reports for a
# time field that is absent where Go's type has no pointer (a condition's
# lastTransitionTime, a container state's startedAt).
GO_ZERO_TIME = -62135596800.0


def go_unix(value: Any) -> float:
    t = unix(value)
    return GO_ZERO_TIME if t is None else t

PHASES = ("Pending", "Succeeded", "Failed", "Unknown", "Running")
QOS_CLASSES = ("BestEffort", "Burstable", "Guaranteed")
DISRUPTION_REASONS = ("PreemptionByScheduler", "DeletionByTaintManager", "EvictionByEvictionAPI",
                      "DeletionByPodGC", "TerminationByKubelet")
STATUS_REASONS = ("Evicted", "NodeAffinity", "NodeLost", "PreemptionByScheduler", "SchedulingGated",
                  "Shutdown", "TerminationByKubelet", "UnexpectedAdmissionError")

# A qualified name (k8s.io/apimachinery validation.IsQualifiedName): an optional
# DNS-subdomain prefix, then a name of at most 63 characters.
_QUALIFIED = re.compile(r"^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def is_extended(name: str) -> bool:
    """An extended resource (``nvidia.com/gpu``): not native, and a valid quota name."""
    native = "/" not in name or "kubernetes.io/" in name
    if native or name.startswith("requests."):
        return False
    prefix, _, rest = ("requests." + name).rpartition("/")
    return len(prefix) <= 253 and len(rest) <= 63 and bool(_QUALIFIED.match("requests." + name))


def resource_samples(resources: Any, cores_and_bytes_as_float: bool) -> list[tuple[str, str, float]]:
    """``(resource, unit, value)`` for a requests/limits/capacity map, by kube-state-metrics' rules.

    Pods report bytes as ``Quantity.Value()``; nodes report every resource
    through the milli-precision conversion (``cores_and_bytes_as_float``).
    """
    out: list[tuple[str, str, float]] = []
    if not isinstance(resources, dict):
        return out
    as_bytes = q_float if cores_and_bytes_as_float else q_value
    for name, raw in resources.items():
        name = str(name)
        if name == "cpu":
            cands = [("core", q_float(raw))]
        elif name in ("memory", "storage", "ephemeral-storage"):
            cands = [("byte", as_bytes(raw))]
        elif name == "pods" and cores_and_bytes_as_float:
            cands = [("integer", q_float(raw))]
        else:
            cands = []
            if name.startswith("hugepages-"):
                cands.append(("byte", as_bytes(raw)))
            if name.startswith("attachable-volumes-"):
                cands.append(("byte", as_bytes(raw)))
            if is_extended(name):
                cands.append(("integer", as_bytes(raw)))
        for unit, v in cands:
            if v is not None:
                out.append((sanitize(name), unit, v))
    return out


def _containers(out: Out, p: str, spec: Any, status: Any, init: bool) -> None:
    node = text(spec, "nodeName")
    containers = items(spec, "initContainers" if init else "containers")
    statuses = items(status, "initContainerStatuses" if init else "containerStatuses")
    for c in containers:
        for fam, key in ((f"{p}_resource_limits", "limits"), (f"{p}_resource_requests", "requests")):
            for res, unit, v in resource_samples(sub(c, "resources").get(key), False):
                out.add(fam, v, ("container", text(c, "name")), ("node", node),
                        ("resource", res), ("unit", unit))
        for cs in statuses:
            if text(cs, "name") != text(c, "name"):
                continue
            info = [("container", text(cs, "name")), ("image_spec", text(c, "image")),
                    ("image", text(cs, "image")), ("image_id", text(cs, "imageID")),
                    ("container_id", text(cs, "containerID"))]
            if init:
                info.append(("restart_policy", text(c, "restartPolicy")))
            out.add(f"{p}_info", ONE, *info)
    for cs in statuses:
        name = ("container", text(cs, "name"))
        state = sub(cs, "state")
        running, terminated, waiting = (sub(state, k) if isinstance(state.get(k), dict) else None
                                        for k in ("running", "terminated", "waiting"))
        started = running if running is not None else terminated
        if started is not None:
            out.add(f"{p}_state_started", go_unix(started.get("startedAt")), name)
        last = sub(cs, "lastState")
        last_t = sub(last, "terminated") if isinstance(last.get("terminated"), dict) else None
        if last_t is not None:
            out.add(f"{p}_status_last_terminated_reason", ONE, name, ("reason", text(last_t, "reason")))
            out.add(f"{p}_status_last_terminated_exitcode", count(last_t, "exitCode"), name)
            out.add(f"{p}_status_last_terminated_timestamp", go_unix(last_t.get("finishedAt")), name)
        out.add(f"{p}_status_ready", boolean(cs.get("ready") is True), name)
        out.add(f"{p}_status_restarts_total", count(cs, "restartCount"), name)
        out.add(f"{p}_status_running", boolean(running is not None), name)
        out.add(f"{p}_status_terminated", boolean(terminated is not None), name)
        if terminated is not None:
            out.add(f"{p}_status_terminated_reason", ONE, name, ("reason", text(terminated, "reason")))
        out.add(f"{p}_status_waiting", boolean(waiting is not None), name)
        if waiting is not None:
            out.add(f"{p}_status_waiting_reason", ONE, name, ("reason", text(waiting, "reason")))


def build(obj: Any, opts: Options) -> Rows:
    meta, spec, status = sub(obj, "metadata"), sub(obj, "spec"), sub(obj, "status")
    out = Out((("namespace", text(meta, "namespace")), ("pod", text(meta, "name")),
               ("uid", text(meta, "uid"))))
    finished = [unix(sub(cs, "state", "terminated").get("finishedAt"))
                for cs in items(status, "containerStatuses")]
    last = max((f for f in finished if f is not None), default=0.0)
    if last > 0:
        out.add("kube_pod_completion_time", last)
    _containers(out, _C, spec, status, init=False)
    out.maybe("kube_pod_created", unix(meta.get("creationTimestamp")))
    out.maybe("kube_pod_deletion_timestamp", unix(meta.get("deletionTimestamp")))
    owners = items(meta, "ownerReferences")
    ctrl = next((o for o in owners if o.get("controller") is True), {})
    out.add("kube_pod_info", ONE, ("host_ip", text(status, "hostIP")), ("pod_ip", text(status, "podIP")),
            ("node", text(spec, "nodeName")), ("created_by_kind", text(ctrl, "kind")),
            ("created_by_name", text(ctrl, "name")), ("priority_class", text(spec, "priorityClassName")),
            ("host_network", "true" if spec.get("hostNetwork") is True else "false"))
    _containers(out, _I, spec, status, init=True)
    meta_labels(out, obj, "pods", "pod", opts.labels, opts.annotations)
    for ip in items(status, "podIPs"):
        family = _ip_family(text(ip, "ip"))
        if family:
            out.add("kube_pod_ips", ONE, ("ip", text(ip, "ip")), ("ip_family", family))
    if not owners:
        out.add("kube_pod_owner", ONE)
    for o in owners:
        out.add("kube_pod_owner", ONE, ("owner_kind", text(o, "kind")), ("owner_name", text(o, "name")),
                ("owner_is_controller", "true" if o.get("controller") is True else "false"))
    out.add("kube_pod_restart_policy", ONE, ("type", text(spec, "restartPolicy")))
    if isinstance(spec.get("runtimeClassName"), str):
        out.add("kube_pod_runtimeclass_name_info", ONE, ("runtimeclass_name", spec["runtimeClassName"]))
    for v in items(spec, "volumes"):
        claim: tuple[str, str, bool] | None = None
        if isinstance(v.get("persistentVolumeClaim"), dict):
            pvc = v["persistentVolumeClaim"]
            claim = (text(pvc, "claimName"), "false", pvc.get("readOnly") is True)
        elif isinstance(v.get("ephemeral"), dict):
            # The claim of a generic ephemeral volume is named <pod>-<volume>.
            claim = (f"{text(meta, 'name')}-{text(v, 'name')}", "true", False)
        if claim is not None:
            lbl = (("volume", text(v, "name")), ("persistentvolumeclaim", claim[0]), ("ephemeral", claim[1]))
            out.add("kube_pod_spec_volumes_persistentvolumeclaims_info", ONE, *lbl)
            out.add("kube_pod_spec_volumes_persistentvolumeclaims_readonly", boolean(claim[2]), *lbl)
    out.maybe("kube_pod_start_time", unix(status.get("startTime")))
    phase = text(status, "phase")
    if phase:
        for ph in PHASES:
            out.add("kube_pod_status_phase", boolean(phase == ph), ("phase", ph))
    qos = text(status, "qosClass")
    if qos:
        for q in QOS_CLASSES:
            out.add("kube_pod_status_qos_class", boolean(qos == q), ("qos_class", q))
    conds = items(status, "conditions")
    for c in conds:
        typ, st = text(c, "type"), text(c, "status")
        if typ == "Ready":
            out.conditions("kube_pod_status_ready", st)
        elif typ == "PodScheduled":
            out.conditions("kube_pod_status_scheduled", st)
        when = (("Initialized", "True", "kube_pod_status_initialized_time"),
                ("ContainersReady", "True", "kube_pod_status_container_ready_time"),
                ("Ready", "True", "kube_pod_status_ready_time"),
                ("PodScheduled", "True", "kube_pod_status_scheduled_time"),
                ("PodScheduled", "False", "kube_pod_status_unscheduled_time"))
        for want_type, want_status, fam in when:
            if typ == want_type and st == want_status:
                out.add(fam, go_unix(c.get("lastTransitionTime")))
    reason = text(status, "reason")
    term_reasons = {text(sub(cs, "state", "terminated"), "reason")
                    for cs in items(status, "containerStatuses")}
    cond_reasons = {text(c, "reason") for c in conds}
    for r in STATUS_REASONS:
        if r == reason or r in cond_reasons or r in term_reasons:
            out.add("kube_pod_status_reason", ONE, ("reason", r))
    if reason and reason not in STATUS_REASONS:
        out.add("kube_pod_status_reason", ONE, ("reason", "Other"))
    for c in conds:
        if text(c, "type") == "DisruptionTarget":
            r = text(c, "reason")
            out.add("kube_pod_status_disruption_reason", ONE,
                    ("reason", r if r in DISRUPTION_REASONS else "Other"))
        elif text(c, "type") == "PodScheduled" and text(c, "status") == "False":
            out.add("kube_pod_status_unschedulable", ONE)
    seen: set[tuple[str, ...]] = set()
    for tl in items(spec, "tolerations"):
        secs = tl.get("tolerationSeconds")
        tol = (text(tl, "key"), text(tl, "operator"), text(tl, "value"), text(tl, "effect"),
               str(secs) if isinstance(secs, int) and not isinstance(secs, bool) else "")
        if tol not in seen:  # duplicates are reported once
            seen.add(tol)
            out.add("kube_pod_tolerations", ONE, *zip(("key", "operator", "value", "effect", "toleration_seconds"),
                                                      tol, strict=True))
    out.add("kube_pod_service_account", ONE, ("service_account", text(spec, "serviceAccountName")))
    out.add("kube_pod_scheduler", ONE, ("name", text(spec, "schedulerName")))
    return out.rows_()


def _ip_family(ip: str) -> str:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return "4"
    return str(addr.version)


KIND = Kind("pods", FAMILIES, build)
