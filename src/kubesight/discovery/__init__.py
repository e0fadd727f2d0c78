"""Service discovery: static, file, HTTP and Kubernetes, producing target groups."""

from kubesight.discovery.config import build_discoverers
from kubesight.discovery.targetgroup import Discoverer, SendGroups, TargetGroup

__all__ = ["Discoverer", "SendGroups", "TargetGroup", "build_discoverers"]
