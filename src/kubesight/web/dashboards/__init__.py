"""Grafana dashboards in kubesight: one normalized shape, a library, a Grafana-style API.

- :mod:`.model` turns any Grafana dashboard JSON (``panels`` + ``gridPos`` of
  schemaVersion 16 and later, or the older ``rows[].panels[].span``) into the
  one shape the browser renders (docs/dashboards.md), converting legacy panels
  (``graph``, ``singlestat``, ``table-old``) as Grafana migrates them and
  marking what it cannot render instead of dropping it.
- :mod:`.library` lists and stores dashboards: built-in ones shipped in the
  package, read-only directories from the config, and imported ones kept under
  the data directory.
- :mod:`.api` serves them on Grafana's own paths (``/api/search``,
  ``/api/dashboards/...``) so Grafana tooling can push dashboards to kubesight,
  plus the normalized shape for the UI.

Errors::

    DecodeError                       (kubesight.errors)
    └── DashboardError                not a dashboard, or a dashboard-level field of the wrong type
    KubesightError
    └── LibraryError                  the library refused (names the uid and why)
        ├── DashboardNotFoundError
        ├── DashboardConflictError    uid or title taken, or a stale version (Grafana's 412s)
        └── DashboardReadOnlyError    built-in or config-directory dashboards cannot change
"""

from kubesight.web.dashboards.library import (
    DashboardConflictError,
    DashboardLibrary,
    DashboardNotFoundError,
    DashboardReadOnlyError,
    LibraryError,
)
from kubesight.web.dashboards.model import MAX_DASHBOARD_BYTES, DashboardError, load_json, normalize

__all__ = [
    "MAX_DASHBOARD_BYTES",
    "DashboardConflictError",
    "DashboardError",
    "DashboardLibrary",
    "DashboardNotFoundError",
    "DashboardReadOnlyError",
    "LibraryError",
    "load_json",
    "normalize",
]
