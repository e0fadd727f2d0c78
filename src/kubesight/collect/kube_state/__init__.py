"""Kubernetes object state, as kube-state-metrics v2.x exposes it (see docs/collect-kube-state.md).

Public surface::

    KubeStateCollector(access, KubeStateOptions(...))   # start()/stop(), collect() -> list[Family]
    KubeStateOptions                                      # resources, namespaces, allowlists
    KINDS                                                 # the resources it knows
    parse_allowlist("pods=[app,team],nodes=[*]")          # the command-line form
    AllowlistError
"""

from kubesight.collect.kube_state._values import AllowlistError, parse_allowlist
from kubesight.collect.kube_state.collector import KINDS, KubeStateCollector, KubeStateOptions

__all__ = ["KINDS", "AllowlistError", "KubeStateCollector", "KubeStateOptions", "parse_allowlist"]
