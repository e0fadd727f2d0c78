"""The routing tree: which receivers, with which grouping and timers, get an alert.

Each node inherits its parent's options and overrides what it sets (except
the time intervals, which belong to the node alone, as in Alertmanager). An
alert descends depth-first, left to right; a matching child stops the search
among its siblings unless it has ``continue: true``; a node none of whose
children match is itself the match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kubesight.model.matchers import Matcher
from kubesight.notify.config import (
    DEFAULT_GROUP_INTERVAL,
    DEFAULT_GROUP_WAIT,
    DEFAULT_REPEAT_INTERVAL,
    RouteConfig,
)
from kubesight.notify.labels import matchers_str


@dataclass(frozen=True)
class RouteOpts:
    receiver: str = ""
    group_by: frozenset[str] = frozenset()
    group_by_all: bool = False
    group_wait: float = DEFAULT_GROUP_WAIT
    group_interval: float = DEFAULT_GROUP_INTERVAL
    repeat_interval: float = DEFAULT_REPEAT_INTERVAL
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()


@dataclass(eq=False)
class Route:
    opts: RouteOpts
    matchers: tuple[Matcher, ...]
    continue_: bool
    parent: Route | None = None
    routes: list[Route] = field(default_factory=list)
    _key: str | None = field(default=None, repr=False)  # the tree is fixed once built
    _id: str | None = field(default=None, repr=False)

    @staticmethod
    def build(cfg: RouteConfig, parent: Route | None = None) -> Route:
        base = parent.opts if parent is not None else RouteOpts()
        group_by, by_all = base.group_by, base.group_by_all
        if cfg.group_by is not None:
            group_by, by_all = frozenset(cfg.group_by), cfg.group_by_all
        opts = RouteOpts(
            receiver=cfg.receiver or base.receiver,
            group_by=group_by,
            group_by_all=by_all,
            group_wait=base.group_wait if cfg.group_wait is None else cfg.group_wait,
            group_interval=base.group_interval if cfg.group_interval is None else cfg.group_interval,
            repeat_interval=base.repeat_interval if cfg.repeat_interval is None else cfg.repeat_interval,
            mute_time_intervals=cfg.mute_time_intervals,
            active_time_intervals=cfg.active_time_intervals,
        )
        node = Route(opts, cfg.matchers, cfg.continue_, parent)
        node.routes = [Route.build(c, node) for c in cfg.routes]
        return node

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels.get(m.name, "")) for m in self.matchers)

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes an alert with ``labels`` goes to (empty when this node does not match)."""
        if not self.matches(labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            hits = child.match(labels)
            found.extend(hits)
            if hits and not child.continue_:
                break
        return found or [self]

    def key(self) -> str:
        """Alertmanager's route key: the matchers of every node from the root, ``/``-joined."""
        if self._key is None:
            own = matchers_str(self.matchers)
            self._key = f"{self.parent.key()}/{own}" if self.parent is not None else own
        return self._key

    def id(self) -> str:
        """The key plus the position among siblings: unique, unlike the key."""
        if self._id is None:
            self._id = (self.key() if self.parent is None
                        else f"{self.key()}/{self.parent.routes.index(self)}")
        return self._id

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if self.opts.group_by_all:
            return dict(labels)
        return {k: v for k, v in labels.items() if k in self.opts.group_by and v != ""}

    def walk(self) -> list[Route]:
        out = [self]
        for c in self.routes:
            out.extend(c.walk())
        return out
