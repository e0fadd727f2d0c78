"""Inhibition: a firing source alert mutes target alerts that share its ``equal`` labels.

An alert that matches both sides of a rule is never muted by another alert
that also matches both sides, so a rule cannot make a set of alerts mute each
other (Alertmanager's "two-sided match" exclusion). Labels absent on both
sides count as equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kubesight.notify.alertstore import StoredAlert
from kubesight.notify.config import InhibitRule
from kubesight.notify.labels import matches_all


class Inhibitor:
    def __init__(self, rules: Iterable[InhibitRule]) -> None:
        self.rules = tuple(rules)
        self._version = -1
        # Per rule: source alerts by their values of the rule's ``equal`` labels, so a
        # target finds its candidate sources in one lookup however many alerts there are.
        self._sources: list[dict[tuple[str, ...], list[StoredAlert]]] = [{} for _ in self.rules]

    def refresh(self, alerts: Iterable[StoredAlert], version: int) -> None:
        """Index the source alerts of each rule; cheap to call when nothing changed."""
        if version == self._version:
            return
        snapshot = list(alerts)
        index: list[dict[tuple[str, ...], list[StoredAlert]]] = []
        for r in self.rules:
            by_equal: dict[tuple[str, ...], list[StoredAlert]] = {}
            for a in snapshot:
                if matches_all(r.source_matchers, a.labels):
                    by_equal.setdefault(tuple(a.labels.get(n, "") for n in r.equal), []).append(a)
            index.append(by_equal)
        self._sources = index
        self._version = version

    def mutes(self, labels: Mapping[str, str], now: float) -> list[str]:
        """Fingerprints of the alerts inhibiting ``labels`` (the first source found)."""
        for rule, by_equal in zip(self.rules, self._sources, strict=True):
            if not by_equal or not matches_all(rule.target_matchers, labels):
                continue
            two_sided = matches_all(rule.source_matchers, labels)
            for src in by_equal.get(tuple(labels.get(n, "") for n in rule.equal), ()):
                if src.resolved(now):
                    continue
                if two_sided and matches_all(rule.target_matchers, src.labels):
                    continue
                return [src.fp_hex]  # Alertmanager records one inhibiting alert
        return []
