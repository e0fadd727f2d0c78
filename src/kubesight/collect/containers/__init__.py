"""cAdvisor-compatible container metrics from the cgroup tree (v2, v1 or hybrid).

    collector = ContainerCollector(PodIndex(pods))   # or ContainerCollector() outside Kubernetes
    families = collector.collect()

See docs/collect-containers.md.
"""

from kubesight.collect.containers.collector import ContainerCollector, block_devices
from kubesight.collect.containers.hierarchy import Hierarchy, NoCgroupsError, detect
from kubesight.collect.containers.layout import CgroupRef, classify
from kubesight.collect.containers.options import ContainerOptions
from kubesight.collect.containers.resolve import (
    DockerResolver,
    Identity,
    NameResolver,
    PodIndex,
    PodSummary,
    Resolver,
    default_resolver,
    pod_informer,
    summarize,
)

__all__ = [
    "CgroupRef",
    "ContainerCollector",
    "ContainerOptions",
    "DockerResolver",
    "Hierarchy",
    "Identity",
    "NameResolver",
    "NoCgroupsError",
    "PodIndex",
    "PodSummary",
    "Resolver",
    "block_devices",
    "classify",
    "default_resolver",
    "detect",
    "pod_informer",
    "summarize",
]
