"""A small shop cluster, written as the API server returns its objects (Kubernetes 1.29).

``expected/<resource>.prom`` holds what kube-state-metrics v2.20 serves for
exactly these objects, written by hand from its docs/metrics/*.md (label
names, values and HELP/TYPE) with the allowlists of :data:`LABELS_ALLOWLIST`
and :data:`ANNOTATIONS_ALLOWLIST`.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

LABELS_ALLOWLIST = {"pods": ["app"], "nodes": ["kubernetes.io/hostname", "topology.kubernetes.io/*"],
                    "deployments": ["*"]}
ANNOTATIONS_ALLOWLIST = {"pods": ["kubectl.kubernetes.io/restartedAt"]}

RUNNING_POD: Obj = {
    "metadata": {
        "name": "web-7d9f8b6c5-x2k4p", "generateName": "web-7d9f8b6c5-", "namespace": "shop",
        "uid": "0b2c5f0e-1d2a-4c6e-9a7b-2f2d6f1e0a01", "creationTimestamp": "2024-05-01T10:00:00Z",
        "labels": {"app": "web", "pod-template-hash": "7d9f8b6c5"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T09:59:58Z",
                        "prometheus.io/scrape": "true"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f8b6c5",
                             "uid": "5e0c2b7a-8f7e-4bb1-9d4e-0e2f1a3b4c5d", "controller": True,
                             "blockOwnerDeletion": True}],
    },
    "spec": {
        "initContainers": [{
            "name": "migrate", "image": "registry.example.com/shop/migrate:1.4",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
            "terminationMessagePath": "/dev/termination-log", "imagePullPolicy": "IfNotPresent",
        }],
        "containers": [
            {"name": "app", "image": "registry.example.com/shop/web:2.3.1",
             "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
             "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                           "limits": {"cpu": "1", "memory": "512Mi"}},
             "imagePullPolicy": "IfNotPresent"},
            {"name": "envoy", "image": "envoyproxy/envoy:v1.29.1",
             "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
        ],
        "volumes": [
            {"name": "data", "persistentVolumeClaim": {"claimName": "web-cache", "readOnly": True}},
            {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}},
            {"name": "kube-api-access-7xq2m", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}},
        ],
        "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "web", "nodeName": "node-a", "schedulerName": "default-scheduler",
        "priority": 0, "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
        "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                         "effect": "NoExecute", "tolerationSeconds": 300}],
    },
    "status": {
        "phase": "Running",
        "conditions": [
            {"type": "Initialized", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": "2024-05-01T10:00:09Z"},
            {"type": "Ready", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": "2024-05-01T10:00:12Z"},
            {"type": "ContainersReady", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": "2024-05-01T10:00:12Z"},
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": "2024-05-01T10:00:00Z"},
        ],
        "hostIP": "10.0.0.11", "hostIPs": [{"ip": "10.0.0.11"}],
        "podIP": "10.244.1.7", "podIPs": [{"ip": "10.244.1.7"}],
        "startTime": "2024-05-01T10:00:05Z",
        "initContainerStatuses": [{
            "name": "migrate", "ready": True, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": "2024-05-01T10:00:07Z",
                                     "finishedAt": "2024-05-01T10:00:09Z",
                                     "containerID": "containerd://9c1d"}},
            "lastState": {}, "image": "registry.example.com/shop/migrate:1.4",
            "imageID": "registry.example.com/shop/migrate@sha256:77aa", "containerID": "containerd://9c1d",
        }],
        "containerStatuses": [
            {"name": "app", "ready": True, "restartCount": 1, "started": True,
             "state": {"running": {"startedAt": "2024-05-01T10:00:12Z"}},
             "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                          "startedAt": "2024-05-01T10:00:09Z",
                                          "finishedAt": "2024-05-01T10:00:12Z",
                                          "containerID": "containerd://41f0"}},
             "image": "registry.example.com/shop/web:2.3.1",
             "imageID": "registry.example.com/shop/web@sha256:4f1c", "containerID": "containerd://a1b2"},
            {"name": "envoy", "ready": True, "restartCount": 0, "started": True,
             "state": {"running": {"startedAt": "2024-05-01T10:00:09Z"}}, "lastState": {},
             "image": "docker.io/envoyproxy/envoy:v1.29.1",
             "imageID": "docker.io/envoyproxy/envoy@sha256:0e9b", "containerID": "containerd://c3d4"},
        ],
        "qosClass": "Burstable",
    },
}

CRASHLOOP_POD: Obj = {
    "metadata": {
        "name": "report-28591200-7xk2q", "namespace": "shop", "uid": "7f3e9a10-2b4c-4d5e-8f60-718293a4b5c6",
        "creationTimestamp": "2024-05-02T09:00:00Z",
        "labels": {"batch.kubernetes.io/job-name": "report-28591200", "job-name": "report-28591200"},
        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "report-28591200",
                             "uid": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "controller": True,
                             "blockOwnerDeletion": True}],
    },
    "spec": {
        "containers": [{
            "name": "report", "image": "registry.example.com/shop/report:0.9",
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": "1"},
                          "limits": {"memory": "1Gi", "nvidia.com/gpu": "1"}},
        }],
        "restartPolicy": "OnFailure", "nodeName": "node-b", "priorityClassName": "batch-low",
        "runtimeClassName": "nvidia",
        "priority": 100, "schedulerName": "default-scheduler",
    },
    "status": {
        "phase": "Running",
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": "2024-05-02T09:00:03Z"},
            {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
             "message": "containers with unready status: [report]", "lastTransitionTime": "2024-05-02T09:05:00Z"},
            {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady",
             "lastTransitionTime": "2024-05-02T09:05:00Z"},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-05-02T09:00:00Z"},
        ],
        "hostIP": "10.0.0.12", "podIP": "10.244.2.9", "startTime": "2024-05-02T09:00:03Z",
        "containerStatuses": [{
            "name": "report", "ready": False, "restartCount": 3, "started": False,
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": "back-off 40s restarting failed container=report"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "2024-05-02T09:01:30Z",
                                         "finishedAt": "2024-05-02T09:05:00Z",
                                         "containerID": "containerd://e5f6"}},
            "image": "registry.example.com/shop/report:0.9",
            "imageID": "registry.example.com/shop/report@sha256:d00d", "containerID": "containerd://e5f6",
        }],
        "qosClass": "Burstable",
    },
}

EVICTED_POD: Obj = {
    "metadata": {
        "name": "web-7d9f8b6c5-q8zzt", "namespace": "shop", "uid": "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d",
        "creationTimestamp": "2024-04-01T00:00:00Z", "labels": {"app": "web", "pod-template-hash": "7d9f8b6c5"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f8b6c5",
                             "uid": "5e0c2b7a-8f7e-4bb1-9d4e-0e2f1a3b4c5d", "controller": True}],
    },
    "spec": {"containers": [{"name": "app", "image": "registry.example.com/shop/web:2.3.0",
                             "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}}],
             "nodeName": "node-a", "restartPolicy": "Always"},
    "status": {
        "phase": "Failed", "reason": "Evicted",
        "message": "The node was low on resource: memory. Threshold quantity: 100Mi, available: 88804Ki.",
        "conditions": [
            {"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet",
             "message": "The node was low on resource: memory.", "lastTransitionTime": "2024-05-02T08:25:00Z"},
            {"type": "Ready", "status": "False", "reason": "PodFailed", "lastTransitionTime": "2024-05-02T08:25:00Z"},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-04-01T00:00:00Z"},
        ],
        "hostIP": "10.0.0.11", "startTime": "2024-04-01T00:00:00Z",
        "containerStatuses": [{
            "name": "app", "ready": False, "restartCount": 0, "started": False,
            "state": {"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown",
                                     "message": "The container could not be located when the pod was terminated",
                                     "startedAt": "2024-05-02T08:15:30Z", "finishedAt": "2024-05-02T08:25:00Z"}},
            "lastState": {}, "image": "registry.example.com/shop/web:2.3.0", "imageID": "",
        }],
        "qosClass": "Burstable",
    },
}

PENDING_POD: Obj = {
    "metadata": {"name": "debug-shell", "namespace": "default", "uid": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
                 "creationTimestamp": "2024-05-03T00:00:00Z", "labels": {"run": "debug-shell"}},
    "spec": {"containers": [{"name": "shell", "image": "busybox:1.36", "command": ["sleep", "3600"],
                             "resources": {}}],
             "hostNetwork": True, "restartPolicy": "Never"},
    "status": {
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                        "message": "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
                        "lastTransitionTime": "2024-05-03T00:00:00Z"}],
        "qosClass": "BestEffort",
    },
}

NODE_A: Obj = {
    "metadata": {
        "name": "node-a", "uid": "c1d2e3f4-a5b6-4c7d-8e9f-a0b1c2d3e4f5", "creationTimestamp": "2024-04-01T00:00:00Z",
        "labels": {"kubernetes.io/hostname": "node-a", "kubernetes.io/os": "linux",
                   "node-role.kubernetes.io/control-plane": "", "topology.kubernetes.io/zone": "eu-west-1a",
                   "topology.kubernetes.io/region": "eu-west-1"},
        "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
    },
    "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"],
             "providerID": "aws:///eu-west-1a/i-0a1b2c3d4e5f60718",
             "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
    "status": {
        "capacity": {"cpu": "4", "ephemeral-storage": "102350Mi", "hugepages-2Mi": "0",
                     "memory": "16393880Ki", "pods": "110"},
        "allocatable": {"cpu": "3800m", "ephemeral-storage": "94327185701", "hugepages-2Mi": "0",
                        "memory": "15881880Ki", "pods": "110"},
        "conditions": [
            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
            {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure"},
            {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID"},
            {"type": "Ready", "status": "True", "reason": "KubeletReady"},
        ],
        "addresses": [{"type": "InternalIP", "address": "10.0.0.11"}, {"type": "Hostname", "address": "node-a"}],
        "nodeInfo": {"machineID": "ec2a1b", "systemUUID": "ec2f1c6a-1b2c-3d4e-5f60-718293a4b5c6",
                     "bootID": "b007", "kernelVersion": "6.1.0-18-amd64",
                     "osImage": "Debian GNU/Linux 12 (bookworm)", "containerRuntimeVersion": "containerd://1.7.13",
                     "kubeletVersion": "v1.29.2", "kubeProxyVersion": "v1.29.2", "operatingSystem": "linux",
                     "architecture": "amd64"},
    },
}

NODE_B: Obj = {
    "metadata": {"name": "node-b", "uid": "d2e3f4a5-b6c7-4d8e-9fa0-b1c2d3e4f5a6",
                 "creationTimestamp": "2024-05-02T08:15:30Z",
                 "labels": {"kubernetes.io/hostname": "node-b", "node-role.kubernetes.io/gpu": "true"}},
    "spec": {"unschedulable": True,
             "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                         "timeAdded": "2024-05-02T09:05:00Z"},
                        {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]},
    "status": {
        "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110", "nvidia.com/gpu": "2"},
        "allocatable": {"cpu": "7910m", "memory": "31Gi", "pods": "110", "nvidia.com/gpu": "2"},
        "conditions": [{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
                        "message": "Kubelet stopped posting node status."}],
        "addresses": [{"type": "InternalIP", "address": "10.0.0.12"}],
        "nodeInfo": {"kernelVersion": "6.1.0-18-amd64", "osImage": "Debian GNU/Linux 12 (bookworm)",
                     "containerRuntimeVersion": "containerd://1.7.13", "kubeletVersion": "v1.29.2",
                     "systemUUID": "ec2f1c6a-0000-0000-0000-000000000002"},
    },
}

DEPLOYMENT: Obj = {
    "metadata": {"name": "web", "namespace": "shop", "uid": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
                 "generation": 4, "creationTimestamp": "2024-04-01T00:00:00Z",
                 "labels": {"app": "web", "app.kubernetes.io/part-of": "shop"},
                 "annotations": {"deployment.kubernetes.io/revision": "4"}},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
             "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
             "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
             "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}},
    "status": {"observedGeneration": 4, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 2,
               "availableReplicas": 2, "unavailableReplicas": 1,
               "conditions": [
                   {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability."},
                   {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                    "message": "ReplicaSet \"web-7d9f8b6c5\" has successfully progressed."}]},
}

REPLICASET: Obj = {
    "metadata": {"name": "web-7d9f8b6c5", "namespace": "shop", "uid": "5e0c2b7a-8f7e-4bb1-9d4e-0e2f1a3b4c5d",
                 "generation": 2, "creationTimestamp": "2024-05-01T09:59:58Z",
                 "labels": {"app": "web", "pod-template-hash": "7d9f8b6c5"},
                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                      "uid": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901", "controller": True,
                                      "blockOwnerDeletion": True}]},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d9f8b6c5"}}},
    "status": {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 2, "availableReplicas": 2,
               "observedGeneration": 2},
}

STATEFULSET: Obj = {
    "metadata": {"name": "db", "namespace": "shop", "uid": "6f708192-a3b4-4c5d-8e6f-708192a3b4c5",
                 "generation": 1, "creationTimestamp": "2024-04-01T00:00:00Z"},
    "spec": {"replicas": 3, "serviceName": "db", "podManagementPolicy": "OrderedReady",
             "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
             "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}},
    "status": {"observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "currentReplicas": 3,
               "updatedReplicas": 3, "availableReplicas": 3, "currentRevision": "db-5c9f7d8b4",
               "updateRevision": "db-5c9f7d8b4", "collisionCount": 0},
}

DAEMONSET: Obj = {
    "metadata": {"name": "kubesight-agent", "namespace": "monitoring", "uid": "8192a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7",
                 "generation": 3, "creationTimestamp": "2024-04-01T00:00:00Z"},
    "spec": {"updateStrategy": {"type": "RollingUpdate"}},
    "status": {"currentNumberScheduled": 2, "numberMisscheduled": 0, "desiredNumberScheduled": 2,
               "numberReady": 1, "observedGeneration": 3, "updatedNumberScheduled": 2, "numberAvailable": 1,
               "numberUnavailable": 1},
}

RUNNING_JOB: Obj = {
    "metadata": {"name": "report-28591200", "namespace": "shop", "uid": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                 "generation": 1, "creationTimestamp": "2024-05-02T09:00:00Z",
                 "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "report",
                                      "uid": "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9", "controller": True,
                                      "blockOwnerDeletion": True}]},
    "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
             "suspend": False},
    "status": {"startTime": "2024-05-02T09:00:00Z", "active": 1, "ready": 0, "failed": 3,
               "uncountedTerminatedPods": {}, "terminating": 0},
}

FAILED_JOB: Obj = {
    "metadata": {"name": "cleanup-1", "namespace": "shop", "uid": "2d3e4f5a-6b7c-4d8e-9fa0-b1c2d3e4f5a6",
                 "creationTimestamp": "2024-05-02T08:15:30Z"},
    "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 6, "activeDeadlineSeconds": 600},
    "status": {"startTime": "2024-05-02T08:15:30Z", "failed": 7,
               "conditions": [
                   {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit"},
                   {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                    "lastTransitionTime": "2024-05-02T08:25:00Z"}]},
}

CRONJOB: Obj = {
    "metadata": {"name": "report", "namespace": "shop", "uid": "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9",
                 "generation": 1, "creationTimestamp": "2024-04-01T00:00:00Z"},
    "spec": {"schedule": "0 * * * *", "concurrencyPolicy": "Forbid", "suspend": False,
             "startingDeadlineSeconds": 200, "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
             "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}},
    "status": {"active": [{"kind": "Job", "namespace": "shop", "name": "report-28591200",
                           "uid": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "apiVersion": "batch/v1"}],
               "lastScheduleTime": "2024-05-02T09:00:00Z", "lastSuccessfulTime": "2024-05-02T08:20:41Z"},
}

NAMESPACES: list[Obj] = [
    {"metadata": {"name": "shop", "uid": "a0b1c2d3-e4f5-4a6b-8c7d-e8f9a0b1c2d3",
                  "creationTimestamp": "2024-04-01T00:00:00Z", "labels": {"kubernetes.io/metadata.name": "shop"}},
     "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}},
    {"metadata": {"name": "old", "uid": "b1c2d3e4-f5a6-4b7c-8d9e-f0a1b2c3d4e5",
                  "creationTimestamp": "2024-05-02T08:15:30Z", "deletionTimestamp": "2024-05-02T09:05:00Z"},
     "spec": {"finalizers": ["kubernetes"]},
     "status": {"phase": "Terminating", "conditions": [
         {"type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain",
          "message": "Some resources are remaining: pods. has 1 resource instances"}]}},
]

PVC: Obj = {
    "metadata": {"name": "data-db-0", "namespace": "shop", "uid": "c2d3e4f5-a6b7-4c8d-9e0f-a1b2c3d4e5f6",
                 "creationTimestamp": "2024-04-01T00:00:00Z",
                 "annotations": {"pv.kubernetes.io/bind-completed": "yes"},
                 "finalizers": ["kubernetes.io/pvc-protection"]},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}},
             "volumeName": "pvc-c2d3e4f5-a6b7-4c8d-9e0f-a1b2c3d4e5f6", "storageClassName": "gp3",
             "volumeMode": "Filesystem"},
    "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "20Gi"}},
}

PVS: list[Obj] = [
    {"metadata": {"name": "pvc-c2d3e4f5-a6b7-4c8d-9e0f-a1b2c3d4e5f6", "uid": "e4f5a6b7-c8d9-4e0f-a1b2-c3d4e5f6a7b8",
                  "creationTimestamp": "2024-04-01T00:00:00Z"},
     "spec": {"capacity": {"storage": "20Gi"},
              "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0a1b2c3d4e5f60718", "fsType": "ext4"},
              "accessModes": ["ReadWriteOnce"],
              "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "data-db-0",
                           "uid": "c2d3e4f5-a6b7-4c8d-9e0f-a1b2c3d4e5f6", "apiVersion": "v1"},
              "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "gp3", "volumeMode": "Filesystem"},
     "status": {"phase": "Bound"}},
    {"metadata": {"name": "nfs-share", "uid": "f5a6b7c8-d9e0-4f1a-b2c3-d4e5f6a7b8c9",
                  "creationTimestamp": "2024-05-02T08:15:30Z"},
     "spec": {"capacity": {"storage": "100Gi"}, "nfs": {"server": "nfs.example.com", "path": "/exports/share"},
              "accessModes": ["ReadWriteMany", "ReadOnlyMany"], "persistentVolumeReclaimPolicy": "Retain"},
     "status": {"phase": "Available"}},
]

HPA: Obj = {
    "metadata": {"name": "web", "namespace": "shop", "uid": "a6b7c8d9-e0f1-4a2b-8c3d-e4f5a6b7c8d9", "generation": 2,
                 "creationTimestamp": "2024-04-01T00:00:00Z"},
    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
             "minReplicas": 3, "maxReplicas": 10,
             "behavior": {"scaleUp": {"stabilizationWindowSeconds": 0, "tolerance": "50m",
                                      "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]},
                          "scaleDown": {"stabilizationWindowSeconds": 300,
                                        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}},
             "metrics": [
                 {"type": "Resource", "resource": {"name": "cpu",
                                                   "target": {"type": "Utilization", "averageUtilization": 70}}},
                 {"type": "Pods", "pods": {"metric": {"name": "http_requests_per_second"},
                                           "target": {"type": "AverageValue", "averageValue": "100"}}},
             ]},
    "status": {"currentReplicas": 3, "desiredReplicas": 3, "lastScaleTime": "2024-05-01T10:00:00Z",
               "currentMetrics": [
                   {"type": "Resource", "resource": {"name": "cpu",
                                                     "current": {"averageValue": "137m", "averageUtilization": 55}}},
                   {"type": "Pods", "pods": {"metric": {"name": "http_requests_per_second"},
                                             "current": {"averageValue": "83500m"}}},
               ],
               "conditions": [
                   {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"},
                   {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"},
                   {"type": "ScalingLimited", "status": "True", "reason": "TooFewReplicas"},
               ]},
}

QUOTA: Obj = {
    "metadata": {"name": "compute", "namespace": "shop", "uid": "b7c8d9e0-f1a2-4b3c-9d4e-f5a6b7c8d9e0",
                 "creationTimestamp": "2024-04-01T00:00:00Z"},
    "spec": {"hard": {"pods": "50", "requests.cpu": "8", "requests.memory": "16Gi"}},
    "status": {"hard": {"pods": "50", "requests.cpu": "8", "requests.memory": "16Gi"},
               "used": {"pods": "4", "requests.cpu": "1850m", "requests.memory": "2624Mi"}},
}

SERVICES: list[Obj] = [
    {"metadata": {"name": "web", "namespace": "shop", "uid": "c8d9e0f1-a2b3-4c4d-8e5f-a6b7c8d9e0f1",
                  "creationTimestamp": "2024-04-01T00:00:00Z", "labels": {"app": "web"}},
     "spec": {"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}],
              "selector": {"app": "web"}, "clusterIP": "10.96.12.34", "clusterIPs": ["10.96.12.34"],
              "type": "ClusterIP", "sessionAffinity": "None", "ipFamilies": ["IPv4"],
              "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
     "status": {"loadBalancer": {}}},
    {"metadata": {"name": "web-public", "namespace": "shop", "uid": "d9e0f1a2-b3c4-4d5e-9f6a-b7c8d9e0f1a2",
                  "creationTimestamp": "2024-05-01T10:00:00Z"},
     "spec": {"ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 8443, "nodePort": 31443}],
              "selector": {"app": "web"}, "clusterIP": "10.96.200.7", "type": "LoadBalancer",
              "externalIPs": ["203.0.113.10"], "externalTrafficPolicy": "Local", "healthCheckNodePort": 32000},
     "status": {"loadBalancer": {"ingress": [{"hostname": "a1b2c3.elb.eu-west-1.amazonaws.com"}]}}},
]

ENDPOINTS: Obj = {
    "metadata": {"name": "web", "namespace": "shop", "uid": "e0f1a2b3-c4d5-4e6f-8a7b-c8d9e0f1a2b3",
                 "creationTimestamp": "2024-04-01T00:00:00Z", "labels": {"app": "web"}},
    "subsets": [{
        "addresses": [{"ip": "10.244.1.7", "nodeName": "node-a",
                       "targetRef": {"kind": "Pod", "namespace": "shop", "name": "web-7d9f8b6c5-x2k4p"}}],
        "notReadyAddresses": [{"ip": "10.244.2.9", "nodeName": "node-b",
                               "targetRef": {"kind": "Pod", "namespace": "shop", "name": "web-7d9f8b6c5-zz9"}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }],
}

PDB: Obj = {
    "metadata": {"name": "web", "namespace": "shop", "uid": "f1a2b3c4-d5e6-4f7a-8b9c-d0e1f2a3b4c5",
                 "generation": 1, "creationTimestamp": "2024-04-01T00:00:00Z"},
    "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
    "status": {"observedGeneration": 1, "disruptionsAllowed": 0, "currentHealthy": 2, "desiredHealthy": 2,
               "expectedPods": 3,
               "conditions": [{"type": "DisruptionAllowed", "status": "False", "reason": "InsufficientPods"}]},
}

CLUSTER: dict[str, list[Obj]] = {
    "pods": [RUNNING_POD, CRASHLOOP_POD, EVICTED_POD, PENDING_POD],
    "nodes": [NODE_A, NODE_B],
    "deployments": [DEPLOYMENT],
    "replicasets": [REPLICASET],
    "statefulsets": [STATEFULSET],
    "daemonsets": [DAEMONSET],
    "jobs": [RUNNING_JOB, FAILED_JOB],
    "cronjobs": [CRONJOB],
    "namespaces": NAMESPACES,
    "persistentvolumeclaims": [PVC],
    "persistentvolumes": PVS,
    "horizontalpodautoscalers": [HPA],
    "resourcequotas": [QUOTA],
    "poddisruptionbudgets": [PDB],
    "services": SERVICES,
    "endpoints": [ENDPOINTS],
}
