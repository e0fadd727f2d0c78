"""static_configs: the groups written in the config, sent once."""

from __future__ import annotations

import asyncio

from kubesight.discovery.targetgroup import SendGroups, TargetGroup


class StaticDiscoverer:
    def __init__(self, groups: list[TargetGroup]) -> None:
        self.groups = groups

    async def run(self, send: SendGroups) -> None:
        send(list(self.groups))
        # Nothing ever changes; staying alive keeps the provider's groups, as in Prometheus.
        await asyncio.Event().wait()
