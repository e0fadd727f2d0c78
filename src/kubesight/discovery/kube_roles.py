"""Kubernetes objects -> target groups, one pure function per role.

Labels, sources and target order follow Prometheus 2.42's
discovery/kubernetes (node.go, pod.go, service.go, endpoints.go,
endpointslice.go, ingress.go). Objects are the API's JSON as decoded dicts;
lookups of related objects (the service of an Endpoints, the pod behind an
address, a pod's node) are passed in as functions so these stay pure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubesight.discovery._groups import sanitize_label_name
from kubesight.discovery.targetgroup import TargetGroup

Obj = dict[str, Any]
Lookup = Callable[[str], Obj | None]

META = "__meta_kubernetes_"
NAMESPACE = META + "namespace"
PRESENT = "true"


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def _s(v: Any) -> str:
    return "" if v is None else str(v)


def _host_port(host: str, port: Any) -> str:
    # Go's net.JoinHostPort brackets IPv6 literals.
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def object_labels(prefix: str, obj: Obj, annotations: bool = True) -> dict[str, str]:
    """``<prefix>label_<name>``/``labelpresent_`` (and annotations) with sanitised names."""
    out: dict[str, str] = {}
    meta = _meta(obj)
    kinds = [("label", meta.get("labels") or {})]
    if annotations:
        kinds.append(("annotation", meta.get("annotations") or {}))
    for kind, values in kinds:
        for k, v in values.items():
            ln = sanitize_label_name(k)
            out[f"{prefix}{kind}_{ln}"] = _s(v)
            out[f"{prefix}{kind}present_{ln}"] = PRESENT
    return out


# ---- node -------------------------------------------------------------------

# Derived from Kubernetes' own node address preference.
_NODE_ADDRESS_ORDER = ("InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS",
                       "LegacyHostIP", "Hostname")


def node_labels(node: Obj) -> dict[str, str]:
    out = {META + "node_name": _s(_meta(node).get("name")),
           META + "node_provider_id": _s((node.get("spec") or {}).get("providerID"))}
    out.update(object_labels(META + "node_", node))
    return out


def build_node(node: Obj) -> TargetGroup | None:
    """None when the node has no address: Prometheus then leaves the group as it was."""
    name = _s(_meta(node).get("name"))
    status = node.get("status") or {}
    by_type: dict[str, list[str]] = {}
    for a in status.get("addresses") or []:
        by_type.setdefault(_s(a.get("type")), []).append(_s(a.get("address")))
    addr = next((by_type[t][0] for t in _NODE_ADDRESS_ORDER if t in by_type), None)
    if addr is None:
        return None
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port", 0)
    target = {"__address__": _host_port(addr, port), "instance": name}
    for ty, addrs in by_type.items():
        target[sanitize_label_name(META + "node_address_" + ty)] = addrs[0]
    return TargetGroup(source="node/" + name, targets=(target,), labels=node_labels(node))


def node_metadata(node_name: str | None, nodes: Lookup | None) -> dict[str, str]:
    """attach_metadata.node: the node's name and labels (not its annotations), if it is known."""
    if nodes is None or node_name is None:
        return {}
    node = nodes(node_name)
    if node is None:
        return {}
    out = {META + "node_name": node_name}
    out.update(object_labels(META + "node_", node, annotations=False))
    return out


# ---- pod --------------------------------------------------------------------

def pod_ready(pod: Obj) -> str:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return _s(cond.get("status")).lower()
    return "unknown"


def pod_labels(pod: Obj) -> dict[str, str]:
    meta, spec, status = _meta(pod), pod.get("spec") or {}, pod.get("status") or {}
    out = {
        META + "pod_name": _s(meta.get("name")),
        META + "pod_ip": _s(status.get("podIP")),
        META + "pod_ready": pod_ready(pod),
        META + "pod_phase": _s(status.get("phase")),
        META + "pod_node_name": _s(spec.get("nodeName")),
        META + "pod_host_ip": _s(status.get("hostIP")),
        META + "pod_uid": _s(meta.get("uid")),
    }
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller"):
            if ref.get("kind"):
                out[META + "pod_controller_kind"] = _s(ref["kind"])
            if ref.get("name"):
                out[META + "pod_controller_name"] = _s(ref["name"])
            break
    out.update(object_labels(META + "pod_", pod))
    return out


def _container_id(statuses: list[Obj], name: str) -> str:
    for s in statuses:
        if s.get("name") == name:
            return _s(s.get("containerID"))
    return ""


def build_pod(pod: Obj, nodes: Lookup | None = None) -> TargetGroup:
    meta, spec, status = _meta(pod), pod.get("spec") or {}, pod.get("status") or {}
    source = f"pod/{_s(meta.get('namespace'))}/{_s(meta.get('name'))}"
    ip = _s(status.get("podIP"))
    if not ip:
        # Starting or evicted: no address to scrape, the group is empty (removed).
        return TargetGroup(source=source)
    labels = pod_labels(pod)
    labels[NAMESPACE] = _s(meta.get("namespace"))
    labels.update(node_metadata(_s(spec.get("nodeName")), nodes))
    targets: list[dict[str, str]] = []
    kinds = [(c, False) for c in spec.get("containers") or []]
    kinds += [(c, True) for c in spec.get("initContainers") or []]
    for c, is_init in kinds:
        statuses = status.get("initContainerStatuses" if is_init else "containerStatuses") or []
        common = {
            META + "pod_container_name": _s(c.get("name")),
            META + "pod_container_id": _container_id(statuses, _s(c.get("name"))),
            META + "pod_container_image": _s(c.get("image")),
            META + "pod_container_init": "true" if is_init else "false",
        }
        ports = c.get("ports") or []
        if not ports:
            targets.append({"__address__": ip, **common})
        for p in ports:
            number = _s(p.get("containerPort", 0))
            targets.append({
                "__address__": _host_port(ip, number), **common,
                META + "pod_container_port_number": number,
                META + "pod_container_port_name": _s(p.get("name")),
                META + "pod_container_port_protocol": _s(p.get("protocol")),
            })
    return TargetGroup(source=source, targets=tuple(targets), labels=labels)


# ---- service ----------------------------------------------------------------

def service_labels(svc: Obj) -> dict[str, str]:
    meta = _meta(svc)
    out = {META + "service_name": _s(meta.get("name")), NAMESPACE: _s(meta.get("namespace"))}
    out.update(object_labels(META + "service_", svc))
    return out


def build_service(svc: Obj) -> TargetGroup:
    meta, spec = _meta(svc), svc.get("spec") or {}
    name, ns = _s(meta.get("name")), _s(meta.get("namespace"))
    svc_type = _s(spec.get("type"))
    targets = []
    for p in spec.get("ports") or []:
        number = _s(p.get("port", 0))
        t = {
            "__address__": _host_port(f"{name}.{ns}.svc", number),
            META + "service_port_name": _s(p.get("name")),
            META + "service_port_number": number,
            META + "service_port_protocol": _s(p.get("protocol")),
            META + "service_type": svc_type,
        }
        if svc_type == "ExternalName":
            t[META + "service_external_name"] = _s(spec.get("externalName"))
        else:
            t[META + "service_cluster_ip"] = _s(spec.get("clusterIP"))
        if svc_type == "LoadBalancer":
            t[META + "service_loadbalancer_ip"] = _s(spec.get("loadBalancerIP"))
        targets.append(t)
    return TargetGroup(source=f"svc/{ns}/{name}", targets=tuple(targets),
                       labels=service_labels(svc))


# ---- endpoints and endpointslices ------------------------------------------------

def _pod_of(ref: Obj | None, pods: Lookup) -> Obj | None:
    if not ref or ref.get("kind") != "Pod":
        return None
    return pods(f"{_s(ref.get('namespace'))}/{_s(ref.get('name'))}")


def _container_port_labels(c: Obj, cport: Obj, protocol: str) -> dict[str, str]:
    return {
        META + "pod_container_name": _s(c.get("name")),
        META + "pod_container_image": _s(c.get("image")),
        META + "pod_container_port_name": _s(cport.get("name")),
        META + "pod_container_port_number": _s(cport.get("containerPort", 0)),
        META + "pod_container_port_protocol": protocol,
    }


class _PodPorts:
    """Pods seen behind addresses, and which of their ports a target already covers."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[Obj, set[int]]] = {}

    def add(self, target: dict[str, str], pod: Obj, port: int | None,
            endpoint_protocol: str | None) -> dict[str, str]:
        """``endpoint_protocol``: Endpoints report the endpoint port's protocol on the
        matched container port, EndpointSlices the container port's own (None)."""
        key = f"{_s(_meta(pod).get('namespace'))}/{_s(_meta(pod).get('name'))}"
        entry = self.seen.setdefault(key, (pod, set()))
        merged = {**target, **pod_labels(pod)}
        if port is not None:
            for c in (pod.get("spec") or {}).get("containers") or []:
                match = next((cp for cp in c.get("ports") or []
                              if cp.get("containerPort") == port), None)
                if match is not None:
                    proto = endpoint_protocol if endpoint_protocol is not None else _s(match.get("protocol"))
                    merged.update(_container_port_labels(c, match, proto))
                    break
            entry[1].add(port)
        return merged

    def uncovered(self) -> list[dict[str, str]]:
        """A target per container port no address covered, so every pod port is reachable."""
        out = []
        for pod, covered in self.seen.values():
            ip = _s((pod.get("status") or {}).get("podIP"))
            for c in (pod.get("spec") or {}).get("containers") or []:
                for cp in c.get("ports") or []:
                    if cp.get("containerPort") in covered:
                        continue
                    t = {"__address__": _host_port(ip, _s(cp.get("containerPort", 0))),
                         **_container_port_labels(c, cp, _s(cp.get("protocol")))}
                    out.append({**t, **pod_labels(pod)})
        return out


def build_endpoints(eps: Obj, services: Lookup, pods: Lookup,
                    nodes: Lookup | None = None) -> TargetGroup:
    meta = _meta(eps)
    ns, name = _s(meta.get("namespace")), _s(meta.get("name"))
    labels = {NAMESPACE: ns, META + "endpoints_name": name}
    svc = services(f"{ns}/{name}")
    if svc is not None:
        labels.update(service_labels(svc))
    labels.update(object_labels(META + "endpoints_", eps, annotations=False))
    targets: list[dict[str, str]] = []
    seen = _PodPorts()
    for subset in eps.get("subsets") or []:
        for port in subset.get("ports") or []:
            for addrs, ready in ((subset.get("addresses"), "true"),
                                 (subset.get("notReadyAddresses"), "false")):
                for addr in addrs or []:
                    number = port.get("port", 0)
                    t = {
                        "__address__": _host_port(_s(addr.get("ip")), number),
                        META + "endpoint_port_name": _s(port.get("name")),
                        META + "endpoint_port_protocol": _s(port.get("protocol")),
                        META + "endpoint_ready": ready,
                    }
                    ref = addr.get("targetRef")
                    # An empty reference is still a reference: its labels are set, empty.
                    if ref is not None:
                        t[META + "endpoint_address_target_kind"] = _s(ref.get("kind"))
                        t[META + "endpoint_address_target_name"] = _s(ref.get("name"))
                    if addr.get("nodeName") is not None:
                        t[META + "endpoint_node_name"] = _s(addr["nodeName"])
                    if addr.get("hostname"):
                        t[META + "endpoint_hostname"] = _s(addr["hostname"])
                    t.update(node_metadata(addr.get("nodeName"), nodes))
                    pod = _pod_of(ref, pods)
                    if pod is not None:
                        t = seen.add(t, pod, number, _s(port.get("protocol")))
                    targets.append(t)
    targets.extend(seen.uncovered())
    return TargetGroup(source=f"endpoints/{ns}/{name}", targets=tuple(targets), labels=labels)


SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def build_endpointslice(eps: Obj, services: Lookup, pods: Lookup,
                        nodes: Lookup | None = None) -> TargetGroup:
    meta = _meta(eps)
    ns, name = _s(meta.get("namespace")), _s(meta.get("name"))
    labels = {NAMESPACE: ns, META + "endpointslice_name": name,
              META + "endpointslice_address_type": _s(eps.get("addressType"))}
    svc_name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
    if svc_name is not None:
        svc = services(f"{ns}/{svc_name}")
        if svc is not None:
            labels.update(service_labels(svc))
    targets: list[dict[str, str]] = []
    seen = _PodPorts()
    p = META + "endpointslice_"
    for ep in eps.get("endpoints") or []:
        for port in eps.get("ports") or []:
            for addr in ep.get("addresses") or []:
                number = port.get("port")
                t = {"__address__": _host_port(_s(addr), number) if number is not None else _s(addr)}
                if port.get("name") is not None:
                    t[p + "port_name"] = _s(port["name"])
                if port.get("protocol") is not None:
                    t[p + "port_protocol"] = _s(port["protocol"])
                if number is not None:
                    t[p + "port"] = _s(number)
                if port.get("appProtocol") is not None:
                    t[p + "port_app_protocol"] = _s(port["appProtocol"])
                conditions = ep.get("conditions") or {}
                for cond in ("ready", "serving", "terminating"):
                    if conditions.get(cond) is not None:
                        t[p + "endpoint_conditions_" + cond] = "true" if conditions[cond] else "false"
                if ep.get("hostname") is not None:
                    t[p + "endpoint_hostname"] = _s(ep["hostname"])
                ref = ep.get("targetRef")
                if ref is not None:
                    t[p + "address_target_kind"] = _s(ref.get("kind"))
                    t[p + "address_target_name"] = _s(ref.get("name"))
                # discovery.k8s.io/v1 keeps the old topology map as deprecatedTopology.
                for k, v in (ep.get("deprecatedTopology") or {}).items():
                    ln = sanitize_label_name(k)
                    t[p + "endpoint_topology_" + ln] = _s(v)
                    t[p + "endpoint_topology_present_" + ln] = PRESENT
                t.update(node_metadata(ep.get("nodeName"), nodes))
                pod = _pod_of(ref, pods)
                if pod is not None:
                    t = seen.add(t, pod, number, None)
                targets.append(t)
    targets.extend(seen.uncovered())
    return TargetGroup(source=f"endpointslice/{ns}/{name}", targets=tuple(targets), labels=labels)


# ---- ingress ----------------------------------------------------------------

def _matches_host(pattern: str, host: str) -> bool:
    if pattern == host:
        return True
    pp, hp = pattern.split("."), host.split(".")
    return pp[0] == "*" and len(pp) == len(hp) and pp[1:] == hp[1:]


def build_ingress(ing: Obj) -> TargetGroup:
    meta, spec = _meta(ing), ing.get("spec") or {}
    ns, name = _s(meta.get("namespace")), _s(meta.get("name"))
    labels = {META + "ingress_name": name, NAMESPACE: ns}
    if spec.get("ingressClassName") is not None:
        labels[META + "ingress_class_name"] = _s(spec["ingressClassName"])
    labels.update(object_labels(META + "ingress_", ing))
    tls_hosts = [h for tls in spec.get("tls") or [] for h in tls.get("hosts") or []]
    targets = []
    for rule in spec.get("rules") or []:
        host = _s(rule.get("host"))
        http = rule.get("http")
        paths = ["/"] if http is None else [_s(p.get("path")) or "/" for p in http.get("paths") or []]
        scheme = "https" if any(_matches_host(p, host) for p in tls_hosts) else "http"
        for path in paths:
            targets.append({"__address__": host, META + "ingress_scheme": scheme,
                            META + "ingress_host": host, META + "ingress_path": path})
    return TargetGroup(source=f"ingress/{ns}/{name}", targets=tuple(targets), labels=labels)
