"""What discovery produces: target groups, and the interface every mechanism implements.

As in Prometheus, a discoverer sends *target groups*: a set of targets (each
a label set with at least ``__address__``, plus ``__meta_*`` labels) sharing
group-level labels, identified by a ``source`` string unique within that
discoverer. Sending a group whose ``targets`` is empty means the group is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class TargetGroup:
    source: str
    targets: tuple[dict[str, str], ...] = ()
    labels: dict[str, str] = field(default_factory=dict)


SendGroups = Callable[[list[TargetGroup]], None]


class Discoverer(Protocol):
    async def run(self, send: SendGroups) -> None:
        """Discover until cancelled.

        Calls ``send`` with every group that is new or changed (all of them on
        the first successful discovery); a group with no targets is removed.
        A failure is logged and retried on the mechanism's own schedule; it
        never raises out of ``run`` except on cancellation.
        """
        ...
