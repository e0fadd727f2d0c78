"""The built-in Alertmanager: routing, grouping, silences, inhibition and receivers.

Public surface::

    from kubesight.notify import Notifier, load_config, check_config

    cfg = load_config(inline=tree.get("alertmanager"), file=tree.get("alertmanager_config_file"))
    notifier = Notifier(cfg, data_dir / "alertmanager", registry=registry, external_url=url)
    await notifier.start()          # the timer loop; notifier.send(alerts) is the AlertSink
    routes = kubesight.api.alertmanager.routes(notifier)   # the v2 API (the api layer)
    await notifier.reload(load_config(...))                # on SIGHUP / POST /-/reload
    await notifier.stop()

Errors: :class:`~kubesight.errors.ConfigError` for a bad alertmanager.yml or
template (naming file and field); notifications never raise, they are logged,
retried and counted.
"""

from __future__ import annotations

from typing import Any

from kubesight.errors import ConfigError
from kubesight.notify.config import AlertmanagerConfig, check_config, load_dict, load_file
from kubesight.notify.notifier import Notifier

__all__ = ["AlertmanagerConfig", "Notifier", "check_config", "default_config", "load_config",
           "load_dict", "load_file"]

# With no configuration at all: one receiver that sends nothing, so the API,
# amtool and Prometheus work and alerts are visible, and nobody is paged by surprise.
_DEFAULT: dict[str, Any] = {"route": {"receiver": "default", "group_by": ["alertname"]},
                            "receivers": [{"name": "default"}]}


def default_config() -> AlertmanagerConfig:
    return load_dict(_DEFAULT)


def load_config(inline: Any = None, file: str | None = None) -> AlertmanagerConfig:
    """kubesight's ``alertmanager:`` block or the file named by ``alertmanager_config_file:``."""
    if inline is not None and file:
        raise ConfigError("alertmanager and alertmanager_config_file are both set; use one of them")
    if file:
        return load_file(file)
    if inline is not None:
        return load_dict(inline)
    return default_config()
