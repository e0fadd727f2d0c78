"""An alert as it travels from rule evaluation to notification.

The same shape Prometheus posts to Alertmanager's ``/api/v2/alerts`` (and
Alertmanager keeps): a label set that identifies the alert, annotations, when
it started, when it ends (a firing alert is resent with ``ends_at`` a few
intervals ahead; a resolved one carries the time it resolved) and the URL of
the rule that made it. ``rules/`` produces these, ``notify/`` consumes them,
and the sender to an external Alertmanager encodes them; neither imports the
other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kubesight.model.labels import Labels

ALERT_NAME = "alertname"


@dataclass(frozen=True)
class Alert:
    labels: Labels
    annotations: Labels = ()
    starts_at: float = 0.0  # Unix seconds; 0 means "unset" (the receiver fills in now)
    ends_at: float = 0.0  # Unix seconds; 0 means "unset"
    generator_url: str = ""
    updated_at: float = field(default=0.0, compare=False)  # when the receiver last saw it

    @property
    def name(self) -> str:
        return dict(self.labels).get(ALERT_NAME, "")

    def resolved_at(self, now: float) -> bool:
        """Whether the alert counts as resolved at ``now`` (ends_at set and passed)."""
        return self.ends_at != 0.0 and self.ends_at <= now


class AlertSink(Protocol):
    """Where evaluated alerts go: an Alertmanager client or the built-in notifier."""

    def send(self, alerts: Sequence[Alert]) -> None:
        """Hand over alerts without blocking (queue them); never raises for a slow peer."""
        ...
