"""kubesight: the whole Kubernetes monitoring stack in one Python package."""

__version__ = "0.1.0"
