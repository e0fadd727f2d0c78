"""Object-state collector benchmark: memory of a 10,000-pod watch cache, and the cost of collect().

    python bench/collect_kube_state.py                # 10,000 pods, 100 nodes, 500 deployments, 1,000 replicasets
    python bench/collect_kube_state.py --quick        # 1,000 pods: a smoke test
    python bench/collect_kube_state.py --pods 20000 --markdown-out /tmp/ks.md --json-out /tmp/ks.json

The fake API server (``kubesight.discovery.fake_kube.FakeKube``) runs in a
child process, so that its copy of the objects is not counted; it serves
pods written as a 1.29 API server returns them (two containers, an init
container on every fourth pod, a projected service-account volume, env,
probes, conditions, statuses, ``managedFields``: ~6 kB of JSON each). This
process starts :class:`KubeStateCollector` against it and measures:

- resident memory (RSS) before the collector starts (the interpreter and
  kubesight's imports), once every collection is listed and watched, and the
  peak until then (``VmHWM``, which includes the list pages being decoded);
  the peak during ``collect()`` + ``encode()`` is reported apart (the
  exposition text of 10,000 pods alone is ~80 MB: serving ``/metrics`` of a
  cluster this size costs memory while it runs, appending to the store does not);
- how long the initial list of everything takes (paged by 500, as client-go);
- ``collect()``: the median and best of --repeat calls, and ``encode()`` of
  its result (what serving ``/metrics`` adds);
- what a watch event costs: one pod's samples built from its decoded JSON;
- for comparison, the RSS of a second child process that lists the same pods
  with an informer that keeps the objects (no transform), as a watch cache of
  full objects would.

The target (issue #5): the cache of 10,000 pods stays under 200 MB RSS. The
exit code is 1 when it does not.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubesight.collect.family import encode
from kubesight.collect.kube_state import KubeStateCollector, KubeStateOptions
from kubesight.discovery._httpconfig import HTTPClientConfig
from kubesight.discovery._kubeclient import RESOURCES, Informer, KubeAccess

TARGET_MB = 200.0
MB = 1024 * 1024


# ---- the workload -------------------------------------------------------------------


def _ts(i: int) -> str:
    return f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z"


def _container(name: str, image: str, i: int, cpu: str, mem: str) -> dict[str, Any]:
    return {
        "name": name, "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                {"name": "LOG_LEVEL", "value": "info"}, {"name": "SHARD", "value": str(i % 16)}],
        "resources": {"requests": {"cpu": cpu, "memory": mem}, "limits": {"memory": mem}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10,
                          "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 5,
                           "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
        "volumeMounts": [{"name": "kube-api-access", "readOnly": True,
                          "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
    }


def _status(name: str, image: str, i: int) -> dict[str, Any]:
    st: dict[str, Any] = {
        "name": name, "ready": i % 50 != 0, "restartCount": i % 7, "started": True,
        "state": {"running": {"startedAt": _ts(i)}} if i % 50 else
        {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}},
        "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": _ts(i),
                                     "finishedAt": _ts(i + 1), "containerID": f"containerd://{i:064x}"}}
        if i % 7 else {},
        "image": image, "imageID": f"{image.split(':')[0]}@sha256:{i * 7919:064x}",
        "containerID": f"containerd://{i * 31:064x}",
    }
    return st


def pod(i: int, nodes: int, deployments: int) -> dict[str, Any]:
    app = f"app-{i % deployments}"
    rs = f"{app}-{(i % deployments) * 2654435761 % 16**9:09x}"
    node = f"node-{i % nodes:03d}"
    image = f"registry.example.com/team-{i % 20}/{app}:1.{i % 9}.{i % 5}"
    spec: dict[str, Any] = {
        "volumes": [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                        "fieldPath": "metadata.namespace"}}]}}]}}],
        "containers": [_container("app", image, i, "250m", "256Mi"),
                       _container("envoy", "docker.io/envoyproxy/envoy:v1.29.1", i, "100m", "64Mi")],
        "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default", "serviceAccount": "default", "nodeName": node,
        "securityContext": {}, "schedulerName": "default-scheduler", "priority": 0,
        "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
        "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": 300},
                        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": 300}],
    }
    status: dict[str, Any] = {
        "phase": "Running",
        "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": _ts(i)}
                       for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
        "hostIP": f"10.0.{i % nodes // 250}.{i % nodes % 250 + 1}", "podIP": f"10.{244 + i // 65000}.{i // 250 % 256}.{i % 250 + 1}",
        "podIPs": [{"ip": f"10.{244 + i // 65000}.{i // 250 % 256}.{i % 250 + 1}"}], "startTime": _ts(i),
        "containerStatuses": [_status("app", image, i), _status("envoy", "docker.io/envoyproxy/envoy:v1.29.1", i)],
        "qosClass": "Burstable",
    }
    if i % 4 == 0:
        spec["initContainers"] = [_container("migrate", image.replace(app, "migrate"), i, "100m", "128Mi")]
        status["initContainerStatuses"] = [{
            "name": "migrate", "ready": True, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": _ts(i),
                                     "finishedAt": _ts(i + 1)}},
            "lastState": {}, "image": image, "imageID": "", "containerID": f"containerd://{i * 17:064x}"}]
    return {
        "metadata": {
            "name": f"{rs}-{i:05d}", "generateName": f"{rs}-", "namespace": f"team-{i % 20}",
            "uid": f"{i:08x}-1d2a-4c6e-9a7b-{i * 7:012x}", "creationTimestamp": _ts(i),
            "labels": {"app": app, "pod-template-hash": rs.rsplit("-", 1)[1], "team": f"team-{i % 20}"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": _ts(i), "prometheus.io/scrape": "true",
                            "prometheus.io/port": "8080"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                                 "uid": f"{i % deployments:08x}-0000-4000-8000-000000000000",
                                 "controller": True, "blockOwnerDeletion": True}],
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                               "time": _ts(i), "fieldsType": "FieldsV1", "fieldsV1": {
                                   "f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {}}},
                                   "f:spec": {"f:containers": {'k:{"name":"app"}': {".": {}, "f:image": {}}}}}},
                              {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": _ts(i),
                               "fieldsType": "FieldsV1", "subresource": "status",
                               "fieldsV1": {"f:status": {"f:conditions": {}, "f:containerStatuses": {}}}}],
        },
        "spec": spec, "status": status,
    }


def node(i: int) -> dict[str, Any]:
    return {
        "metadata": {"name": f"node-{i:03d}", "uid": f"{i:08x}-aaaa-4000-8000-000000000000",
                     "creationTimestamp": _ts(i),
                     "labels": {"kubernetes.io/hostname": f"node-{i:03d}", "kubernetes.io/os": "linux",
                                "topology.kubernetes.io/zone": f"eu-west-1{'abc'[i % 3]}",
                                "node.kubernetes.io/instance-type": "m6i.2xlarge"}},
        "spec": {"podCIDR": f"10.244.{i}.0/24", "podCIDRs": [f"10.244.{i}.0/24"],
                 "providerID": f"aws:///eu-west-1a/i-{i:017x}"},
        "status": {"capacity": {"cpu": "8", "memory": "32596472Ki", "pods": "110", "ephemeral-storage": "104845292Ki",
                                "hugepages-2Mi": "0"},
                   "allocatable": {"cpu": "7910m", "memory": "31445496Ki", "pods": "110",
                                   "ephemeral-storage": "96625420948", "hugepages-2Mi": "0"},
                   "conditions": [{"type": t, "status": "False" if t != "Ready" else "True"}
                                  for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")],
                   "addresses": [{"type": "InternalIP", "address": f"10.0.{i // 250}.{i % 250 + 1}"},
                                 {"type": "Hostname", "address": f"node-{i:03d}"}],
                   "nodeInfo": {"kernelVersion": "6.1.0-18-amd64", "osImage": "Debian GNU/Linux 12 (bookworm)",
                                "containerRuntimeVersion": "containerd://1.7.13", "kubeletVersion": "v1.29.2",
                                "kubeProxyVersion": "v1.29.2", "systemUUID": f"ec2{i:05x}-0000-0000-0000-000000000000"}},
    }


def deployment(i: int) -> dict[str, Any]:
    return {
        "metadata": {"name": f"app-{i}", "namespace": f"team-{i % 20}", "generation": 3,
                     "uid": f"{i:08x}-bbbb-4000-8000-000000000000", "creationTimestamp": _ts(i),
                     "labels": {"app": f"app-{i}"}},
        "spec": {"replicas": 20, "strategy": {"type": "RollingUpdate",
                                              "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}},
        "status": {"observedGeneration": 3, "replicas": 20, "updatedReplicas": 20, "readyReplicas": 19,
                   "availableReplicas": 19, "unavailableReplicas": 1,
                   "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                                  {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]},
    }


def replicaset(i: int, deployments: int) -> dict[str, Any]:
    d = i % deployments
    current = i < deployments
    return {
        "metadata": {"name": f"app-{d}-{d * 2654435761 % 16**9:09x}" if current else f"app-{d}-old{i:05d}",
                     "namespace": f"team-{d % 20}", "generation": 2,
                     "uid": f"{d:08x}-0000-4000-8000-{i:012x}", "creationTimestamp": _ts(i),
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": f"app-{d}",
                                          "uid": f"{d:08x}-bbbb-4000-8000-000000000000", "controller": True}]},
        "spec": {"replicas": 20 if current else 0},
        "status": {"replicas": 20 if current else 0, "fullyLabeledReplicas": 20 if current else 0,
                   "readyReplicas": 19 if current else 0, "availableReplicas": 19 if current else 0,
                   "observedGeneration": 2},
    }


# ---- the child processes ---------------------------------------------------------------


async def _serve(pods: int, nodes: int, deployments: int, replicasets: int) -> None:
    from kubesight.discovery.fake_kube import FakeKube

    async with FakeKube() as kube:
        for i in range(nodes):
            kube.add("nodes", node(i))
        for i in range(deployments):
            kube.add("deployments", deployment(i))
        for i in range(replicasets):
            kube.add("replicasets", replicaset(i, deployments))
        for i in range(pods):
            kube.add("pods", pod(i, nodes, deployments))
        kube.history.clear()  # watches start from the list: no need to keep the adds
        size = len(json.dumps(pod(1, nodes, deployments)))
        print(json.dumps({"url": kube.url, "pod_json_bytes": size}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes it


async def _raw_informer(url: str) -> None:
    import httpx

    async with httpx.AsyncClient(trust_env=False, timeout=60) as client:
        inf = Informer(client, url, RESOURCES["pods"])
        task = asyncio.create_task(inf.run())
        await inf.synced.wait()
        task.cancel()
        gc.collect()
        print(json.dumps({"objects": len(inf.store), "rss": psutil.Process().memory_info().rss}), flush=True)


# ---- the measurement -------------------------------------------------------------------


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


def peak_rss() -> int:
    """VmHWM: the highest RSS since start or since :func:`reset_peak` (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak() -> None:
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    Path("/proc/self/clear_refs").write_text("5")


async def measure(url: str, repeat: int) -> dict[str, Any]:
    gc.collect()
    before = rss()
    c = KubeStateCollector(KubeAccess(url, HTTPClientConfig()),
                           KubeStateOptions(resources=("pods", "nodes", "deployments", "replicasets")))
    t0 = time.perf_counter()
    await c.start()
    if not await c.wait_synced(600):
        raise SystemExit("the collector did not sync in 10 minutes")
    sync_s = time.perf_counter() - t0
    sync_peak = peak_rss()
    gc.collect()
    after = rss()
    objects = {r: sum(len(i.store) for i in infs) for r, infs in c.informers.items()}
    times = []
    reset_peak()
    fams = c.collect()
    for _ in range(repeat):
        t = time.perf_counter()
        fams = c.collect()
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    body = encode(fams)
    encode_s = time.perf_counter() - t
    series = sum(len(f.samples) for f in fams)
    serve_peak = peak_rss()
    # What one watch event costs: a pod's samples built from its decoded JSON.
    transform = c._transform(next(k for k in c._kinds if k.resource == "pods"))
    sample_pods = [json.loads(json.dumps(pod(i, 100, 500))) for i in range(1000)]
    t = time.perf_counter()
    for p in sample_pods:
        transform(p)
    per_pod_s = (time.perf_counter() - t) / len(sample_pods)
    await c.stop()
    return {"objects": objects, "rss_before": before, "rss_synced": after, "rss_peak": sync_peak,
            "rss_peak_collect_encode": serve_peak,
            "sync_s": sync_s, "collect_median_s": statistics.median(times), "collect_best_s": min(times),
            "encode_s": encode_s, "series": series, "exposition_bytes": len(body), "pod_build_s": per_pod_s}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pods", type=int, default=10_000)
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--deployments", type=int, default=500)
    ap.add_argument("--replicasets", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=20, help="collect() calls timed (default 20)")
    ap.add_argument("--quick", action="store_true", help="1,000 pods, 10 nodes, 50 deployments, 100 replicasets")
    ap.add_argument("--no-raw", action="store_true", help="skip the full-object informer comparison")
    ap.add_argument("--markdown-out", type=Path)
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--raw-informer", metavar="URL", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.pods, args.nodes, args.deployments, args.replicasets, args.repeat = 1000, 10, 50, 100, 5
    if args.serve:
        asyncio.run(_serve(args.pods, args.nodes, args.deployments, args.replicasets))
        return 0
    if args.raw_informer:
        asyncio.run(_raw_informer(args.raw_informer))
        return 0

    me = [sys.executable, str(Path(__file__).resolve())]
    sizes = ["--pods", str(args.pods), "--nodes", str(args.nodes), "--deployments", str(args.deployments),
             "--replicasets", str(args.replicasets)]
    server = subprocess.Popen([*me, "--serve", *sizes], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        hello = json.loads(server.stdout.readline())
        res = asyncio.run(measure(hello["url"], args.repeat))
        res["pod_json_bytes"] = hello["pod_json_bytes"]
        if not args.no_raw:
            out = subprocess.run([*me, "--raw-informer", hello["url"]], capture_output=True, text=True,
                                 check=True, timeout=900)
            res["raw_informer_rss"] = json.loads(out.stdout.splitlines()[-1])["rss"]
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(30)

    ok = res["rss_peak"] / MB < TARGET_MB
    rows = [
        ("objects in the cache", ", ".join(f"{n:,} {r}" for r, n in res["objects"].items())),
        ("pod JSON as served", f"{res['pod_json_bytes']:,} bytes"),
        ("RSS before start (interpreter + imports)", f"{res['rss_before'] / MB:.1f} MB"),
        ("RSS synced (listed and watching)", f"{res['rss_synced'] / MB:.1f} MB"),
        ("RSS peak while listing and watching (VmHWM)",
         f"{res['rss_peak'] / MB:.1f} MB (target < {TARGET_MB:.0f} MB: {'met' if ok else 'NOT met'})"),
        ("cache growth (synced - before)", f"{(res['rss_synced'] - res['rss_before']) / MB:.1f} MB"),
        ("initial list of everything", f"{res['sync_s']:.2f} s"),
        ("one pod's samples built from its JSON (per watch event)", f"{res['pod_build_s'] * 1e6:.0f} µs"),
        ("collect()", f"median {res['collect_median_s'] * 1000:.1f} ms, best {res['collect_best_s'] * 1000:.1f} ms "
                      f"({args.repeat} calls)"),
        ("series per collection", f"{res['series']:,}"),
        ("encode() of one collection", f"{res['encode_s'] * 1000:.0f} ms, {res['exposition_bytes'] / MB:.1f} MB of text"),
        ("RSS peak during collect() + encode()", f"{res['rss_peak_collect_encode'] / MB:.1f} MB"),
    ]
    if "raw_informer_rss" in res:
        rows.append(("same pods in an informer keeping full objects (other process)",
                     f"{res['raw_informer_rss'] / MB:.1f} MB RSS"))
    md = "| what | figure |\n|---|---|\n" + "".join(f"| {a} | {b} |\n" for a, b in rows)
    print(md)
    if args.markdown_out:
        args.markdown_out.write_text(md)
    if args.json_out:
        args.json_out.write_text(json.dumps(res, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
