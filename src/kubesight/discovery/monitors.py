"""ServiceMonitor and PodMonitor objects -> ``scrape_configs`` jobs, as the Prometheus Operator writes them.

Pure: monitor objects (and the Secrets they refer to) in, raw job dicts out,
the same dicts the Operator's config generator (``pkg/prometheus/promcfg.go``)
puts into ``prometheus.yml``: one job per endpoint, named
``serviceMonitor/<namespace>/<name>/<index>`` or ``podMonitor/<namespace>/<name>/<index>``,
with a ``kubernetes_sd_configs`` entry and the Operator's relabelings (selector
filters, port filter, the ``namespace``/``service``/``pod``/``container``/
``endpoint``/``job`` target labels) ahead of the monitor's own.

What is left out, and why:

- The Operator's sharding rules (``__tmp_hash`` hashmod and a keep on
  ``$(SHARD)``): the Operator substitutes ``$(SHARD)`` through the
  StatefulSet's environment; kubesight is one instance, and with one shard
  those rules keep every target.
- Scrape classes and the ``Prometheus`` resource's overrides (enforced
  limits, enforced namespace label, ``ignoreNamespaceSelectors``): there is no
  ``Prometheus`` resource here.
- Endpoints whose settings kubesight's scrape layer cannot honour (``oauth2``,
  proxies, TLS material from Secrets or ConfigMaps) are skipped with a logged
  reason; the monitor's other endpoints keep their jobs.

A monitor the Operator would reject (an unknown selector operator, a Secret
it refers to that does not exist, a job that ``validate`` refuses) produces no
job at all, and the reason is logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kubesight.discovery.monitors_http import (
    RejectedError,
    Secrets,
    UnsupportedError,
    http_settings,
    secret_refs,
)

log = logging.getLogger("kubesight.discovery.monitors")

Obj = dict[str, Any]
Job = dict[str, Any]
Validate = Callable[[Job], object]

SERVICE_MONITOR = "serviceMonitor"
POD_MONITOR = "podMonitor"

_INVALID_LABEL_CHAR = re.compile(r"[^a-zA-Z0-9_]")
# spec fields copied as they are, in the Operator's order, after relabel_configs.
_LIMITS = (("sampleLimit", "sample_limit"), ("targetLimit", "target_limit"),
           ("labelLimit", "label_limit"), ("labelNameLengthLimit", "label_name_length_limit"),
           ("labelValueLengthLimit", "label_value_length_limit"),
           ("keepDroppedTargets", "keep_dropped_targets"))
# scrapeNativeHistograms is left out: it needs Prometheus 3.8's scrape_native_histograms,
# which kubesight's config does not know yet.
_HISTOGRAMS = (("scrapeClassicHistograms", "scrape_classic_histograms"),
               ("nativeHistogramBucketLimit", "native_histogram_bucket_limit"),
               ("convertClassicHistogramsToNHCB", "convert_classic_histograms_to_nhcb"))


def jobs_from_monitors(
    service_monitors: Iterable[Obj],
    pod_monitors: Iterable[Obj],
    *,
    api: Mapping[str, str] | None = None,
    secrets: Secrets | None = None,
    validate: Validate | None = None,
) -> list[Job]:
    """Every job the monitors describe, ServiceMonitors first, each kind ordered by namespace/name.

    ``api``: keys merged into every generated ``kubernetes_sd_config``
    (``api_server`` or ``kubeconfig_file``); none means in-cluster.
    ``secrets``: the Secrets monitors refer to for credentials.
    ``validate``: called with each job; if it raises, the monitor's jobs are
    all dropped (the Operator rejects a monitor as a whole).
    """
    out: list[Job] = []
    for kind, monitors in ((SERVICE_MONITOR, service_monitors), (POD_MONITOR, pod_monitors)):
        for m in sorted(monitors, key=_identifier):
            out.extend(_monitor_jobs(kind, m, dict(api or {}), secrets or {}, validate))
    return out


def secret_names(monitors: Iterable[Obj]) -> set[tuple[str, str]]:
    """(namespace, name) of every Secret the monitors' endpoints refer to."""
    out: set[tuple[str, str]] = set()
    for m in monitors:
        try:
            ns = _namespace(m)
            spec = m.get("spec") or {}
            for ep in list(spec.get("endpoints") or []) + list(spec.get("podMetricsEndpoints") or []):
                out.update((ns, ref["name"]) for ref in secret_refs(ep) if ref.get("name"))
        except (AttributeError, TypeError, KeyError):
            continue  # a malformed monitor is reported when its jobs are built
    return out


def _identifier(m: Obj) -> str:
    meta = m.get("metadata") or {} if isinstance(m, dict) else {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _namespace(m: Obj) -> str:
    return str((m.get("metadata") or {}).get("namespace") or "default")


def _monitor_jobs(kind: str, m: Obj, api: dict[str, str], secrets: Secrets,
                  validate: Validate | None) -> list[Job]:
    what = f"{kind} {_identifier(m)}"
    jobs: list[Job] = []
    try:
        if not isinstance(m, dict):
            raise RejectedError(f"expected an object, got {type(m).__name__}")
        spec = m.get("spec") or {}
        key = "endpoints" if kind == SERVICE_MONITOR else "podMetricsEndpoints"
        endpoints = spec.get(key) or []
        if not isinstance(endpoints, list):
            raise RejectedError(f"spec.{key}: expected a list")
        for i, ep in enumerate(endpoints):
            if not isinstance(ep, dict):
                raise RejectedError(f"spec.{key}[{i}]: expected an object")
            try:
                job = _job(kind, m, spec, ep, i, api, secrets)
            except UnsupportedError as exc:
                log.warning("monitors: %s: endpoint %d skipped: %s", what, i, exc)
                continue
            if validate is not None:
                try:
                    validate(job)
                except Exception as exc:  # whatever the scrape layer refuses, reported here
                    raise RejectedError(str(exc)) from exc
            jobs.append(job)
    except RejectedError as exc:
        log.error("monitors: %s rejected, no job generated: %s", what, exc)
        return []
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        # An object of an unexpected shape costs its own jobs, not everyone's.
        log.error("monitors: %s rejected, no job generated: malformed object: %r", what, exc)
        return []
    return jobs


def _job(kind: str, m: Obj, spec: Obj, ep: Obj, i: int, api: dict[str, str],
         secrets: Secrets) -> Job:
    ns, name = _namespace(m), str(m["metadata"]["name"])
    service = kind == SERVICE_MONITOR
    job: Job = {"job_name": f"{kind}/{ns}/{name}/{i}", "honor_labels": bool(ep.get("honorLabels", False))}
    for src, dst in (("honorTimestamps", "honor_timestamps"),
                     ("trackTimestampsStaleness", "track_timestamps_staleness")):
        if ep.get(src) is not None:
            job[dst] = bool(ep[src])

    selector = spec.get("selector") or {}
    role_selector = (spec.get("selectorMechanism") or "RelabelSelector") == "RoleSelector"
    if service:
        # The Operator's default is the endpoints role; endpointslice only on request.
        role = "endpointslice" if spec.get("serviceDiscoveryRole") == "EndpointSlice" else "endpoints"
        roles = [role, "service"]
    else:
        role, roles = "pod", ["pod"]
    job["kubernetes_sd_configs"] = [_sd_config(role, spec, ns, api, selector if role_selector else None, roles)]

    for src, dst in (("interval", "scrape_interval"), ("scrapeTimeout", "scrape_timeout"),
                     ("path", "metrics_path")):
        if ep.get(src):
            job[dst] = ep[src]
    if ep.get("params") is not None:
        job["params"] = ep["params"]
    if ep.get("scheme"):
        job["scheme"] = str(ep["scheme"]).lower()
    job.update(http_settings(ep, ns, secrets))

    rules = [{"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"}]
    meta = "service" if service else "pod"
    if not service and ep.get("filterRunning", True):
        rules.append(_running_filter())  # PodMonitors filter before selecting, ServiceMonitors after
    if not role_selector:
        rules.extend(_selector_rules(selector, f"__meta_kubernetes_{meta}_label"))
    rules.extend(_port_rules(kind, ep, role))
    rules.extend(_target_label_rules(kind, m, spec, ep, role))
    rules.extend(_relabel(ep.get("relabelings")))
    job["relabel_configs"] = rules

    for src, dst in _LIMITS + _HISTOGRAMS:
        if spec.get(src) is not None:
            job[dst] = spec[src]
    if spec.get("nativeHistogramMinBucketFactor") is not None:
        # A Kubernetes quantity ("1.1"); Prometheus wants a float.
        job["native_histogram_min_bucket_factor"] = float(spec["nativeHistogramMinBucketFactor"])
    if spec.get("scrapeProtocols"):
        job["scrape_protocols"] = list(spec["scrapeProtocols"])
    if spec.get("fallbackScrapeProtocol"):
        job["fallback_scrape_protocol"] = spec["fallbackScrapeProtocol"]
    if spec.get("bodySizeLimit"):
        job["body_size_limit"] = spec["bodySizeLimit"]
    metric_rules = _relabel(ep.get("metricRelabelings"))
    if metric_rules:
        job["metric_relabel_configs"] = metric_rules
    return job


def _running_filter() -> Obj:
    # A new dict each time: jobs are handed out and must not share mutable parts.
    return {"action": "drop", "source_labels": ["__meta_kubernetes_pod_phase"],
            "regex": "(Failed|Succeeded)"}


def sanitize_label_name(name: str) -> str:
    return _INVALID_LABEL_CHAR.sub("_", name)


def _sd_config(role: str, spec: Obj, ns: str, api: dict[str, str], selector: Obj | None,
               roles: list[str]) -> Obj:
    sd: Obj = {"role": role}
    nsel = spec.get("namespaceSelector") or {}
    if not nsel.get("any", False):
        names = list(nsel.get("matchNames") or []) or [ns]
        sd["namespaces"] = {"names": names}
    sd.update(api)
    attach = spec.get("attachMetadata")
    if attach is not None:
        sd["attach_metadata"] = {"node": bool(attach.get("node", False))}
    if selector is not None:
        label = label_selector_string(selector)
        sd["selectors"] = [{"role": r, "label": label} for r in roles]
    return sd


def label_selector_string(selector: Obj) -> str:
    """A LabelSelector as the API server's ``labelSelector`` syntax, requirements sorted by key."""
    reqs: list[tuple[str, str]] = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    for exp in selector.get("matchExpressions") or []:
        key, op = _expression(exp)
        values = sorted(set(exp.get("values") or []))
        if op == "In":
            reqs.append((key, f"{key} in ({','.join(values)})"))
        elif op == "NotIn":
            reqs.append((key, f"{key} notin ({','.join(values)})"))
        elif op == "Exists":
            reqs.append((key, key))
        else:
            reqs.append((key, f"!{key}"))
    return ",".join(text for _, text in sorted(reqs, key=lambda r: r[0]))


def _selector_rules(selector: Obj, prefix: str) -> list[Obj]:
    """keep/drop rules on ``<prefix>_<name>`` and ``<prefix>present_<name>`` mirroring a LabelSelector."""
    rules: list[Obj] = []

    def src(key: str) -> list[str]:
        k = sanitize_label_name(key)
        return [f"{prefix}_{k}", f"{prefix}present_{k}"]

    match_labels = selector.get("matchLabels") or {}
    for key in sorted(match_labels):
        rules.append({"action": "keep", "source_labels": src(key), "regex": f"({match_labels[key]});true"})
    for exp in selector.get("matchExpressions") or []:
        key, op = _expression(exp)
        present = [f"{prefix}present_{sanitize_label_name(key)}"]
        if op in ("In", "NotIn"):
            rules.append({"action": "keep" if op == "In" else "drop", "source_labels": src(key),
                          "regex": f"({'|'.join(exp.get('values') or [])});true"})
        else:
            rules.append({"action": "keep" if op == "Exists" else "drop", "source_labels": present,
                          "regex": "true"})
    return rules


def _expression(exp: Obj) -> tuple[str, str]:
    """The key and operator of a matchExpressions entry the API server would accept."""
    key, op, values = str(exp["key"]), exp.get("operator"), exp.get("values") or []
    if op in ("In", "NotIn"):
        if not values:
            raise RejectedError(f"selector: {key}: values must not be empty for operator {op}")
    elif op in ("Exists", "DoesNotExist"):
        if values:
            raise RejectedError(f"selector: {key}: values must be empty for operator {op}")
    else:
        raise RejectedError(f"selector: {key}: {op!r} is not a valid label selector operator")
    return key, str(op)


def _port_of(ep: Obj, kind: str) -> tuple[str, str] | None:
    """(kind of match, value): "name"/"number" of a container port, or "endpoint" (a Service port name)."""
    if ep.get("port"):
        return ("endpoint" if kind == SERVICE_MONITOR else "name", str(ep["port"]))
    if kind == POD_MONITOR and ep.get("portNumber"):
        return ("number", str(ep["portNumber"]))
    target = ep.get("targetPort")
    if isinstance(target, bool) or target in (None, "", 0):
        return None
    # An IntOrString: a JSON number is a port number, a string a port name.
    return ("number", str(target)) if isinstance(target, int) else ("name", str(target))


def _port_rules(kind: str, ep: Obj, role: str) -> list[Obj]:
    port = _port_of(ep, kind)
    if port is None:
        return []
    how, value = port
    if how == "endpoint":
        label = "__meta_kubernetes_endpointslice_port_name" if role == "endpointslice" \
            else "__meta_kubernetes_endpoint_port_name"
    else:
        label = f"__meta_kubernetes_pod_container_port_{how}"
    return [{"action": "keep", "source_labels": [label], "regex": value}]


def _endpoint_label(ep: Obj) -> str | None:
    if ep.get("port"):
        return str(ep["port"])
    target = ep.get("targetPort")
    if isinstance(target, bool) or target in (None, "", 0):
        return None  # a PodMonitor's portNumber sets no endpoint label, as in the Operator
    return str(target)


def _target_label_rules(kind: str, m: Obj, spec: Obj, ep: Obj, role: str) -> list[Obj]:
    ns, name = _namespace(m), str(m["metadata"]["name"])
    rules: list[Obj] = []
    if kind == SERVICE_MONITOR:
        meta = "endpointslice" if role == "endpointslice" else "endpoint"
        target = [f"__meta_kubernetes_{meta}_address_target_kind",
                  f"__meta_kubernetes_{meta}_address_target_name"]
        rules += [
            {"source_labels": target, "separator": ";", "regex": "Node;(.*)",
             "replacement": "${1}", "target_label": "node"},
            {"source_labels": target, "separator": ";", "regex": "Pod;(.*)",
             "replacement": "${1}", "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
        ]
        if ep.get("filterRunning", True):
            rules.append(_running_filter())
        rules += [_copy_label(f"__meta_kubernetes_service_label_{sanitize_label_name(str(lb))}", lb)
                  for lb in spec.get("targetLabels") or []]
    else:
        rules += [
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        ]
    rules += [_copy_label(f"__meta_kubernetes_pod_label_{sanitize_label_name(str(lb))}", lb)
              for lb in spec.get("podTargetLabels") or []]
    # The job label: the Service's name (a ServiceMonitor) or "<ns>/<name>" (a
    # PodMonitor), kept as the fallback when jobLabel names a label the object lacks.
    if kind == SERVICE_MONITOR:
        rules.append({"source_labels": ["__meta_kubernetes_service_name"], "target_label": "job",
                      "replacement": "${1}"})
    else:
        rules.append({"target_label": "job", "replacement": f"{ns}/{name}"})
    if spec.get("jobLabel"):
        meta = "service" if kind == SERVICE_MONITOR else "pod"
        rules.append(_copy_label(f"__meta_kubernetes_{meta}_label_{sanitize_label_name(str(spec['jobLabel']))}",
                                 "job"))
    endpoint = _endpoint_label(ep)
    if endpoint is not None:
        # A Service or pod may expose several metrics ports: "endpoint" tells them apart.
        rules.append({"target_label": "endpoint", "replacement": endpoint})
    return rules


def _copy_label(source: str, target: str) -> Obj:
    return {"source_labels": [source], "target_label": sanitize_label_name(str(target)),
            "regex": "(.+)", "replacement": "${1}"}


def _relabel(rules: Any) -> list[Obj]:
    """The Operator's RelabelConfig (camelCase) as Prometheus' relabel_config, keys set only when given."""
    out: list[Obj] = []
    for rc in rules or []:
        r: Obj = {}
        if rc.get("sourceLabels"):
            r["source_labels"] = list(rc["sourceLabels"])
        if rc.get("separator") is not None:
            r["separator"] = rc["separator"]
        if rc.get("targetLabel"):
            r["target_label"] = rc["targetLabel"]
        if rc.get("regex"):
            r["regex"] = rc["regex"]
        if rc.get("modulus"):
            r["modulus"] = rc["modulus"]
        if rc.get("replacement") is not None:
            r["replacement"] = rc["replacement"]
        if rc.get("action"):
            # The CRD accepts "Replace" as well as "replace"; Prometheus only the latter.
            r["action"] = str(rc["action"]).lower()
        out.append(r)
    return out
