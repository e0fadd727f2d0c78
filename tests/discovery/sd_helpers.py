"""Helpers for discovery tests (a plain module, so no conftest name can clash): collect what a discoverer sends, wait with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kubesight.discovery import Discoverer, TargetGroup


class Collector:
    """The groups a provider currently has, as a scrape manager would keep them."""

    def __init__(self) -> None:
        self.groups: dict[str, TargetGroup] = {}
        self.sends: list[list[TargetGroup]] = []

    def __call__(self, groups: list[TargetGroup]) -> None:
        self.sends.append(groups)
        for g in groups:
            if g.targets:
                self.groups[g.source] = g
            else:
                self.groups.pop(g.source, None)


async def wait_for(cond: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.02)


class Running:
    """A discoverer's run() as a task, cancelled on exit."""

    def __init__(self, d: Discoverer) -> None:
        self.d = d
        self.out = Collector()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Collector:
        self.task = asyncio.create_task(self.d.run(self.out))
        return self.out

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        if self.task.done() and self.task.exception() is not None:
            raise AssertionError("run() raised") from self.task.exception()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
