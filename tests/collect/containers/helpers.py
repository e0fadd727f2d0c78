"""Looking samples up in a collection's families."""

from __future__ import annotations

from kubesight.collect.family import Family


def value(fams: list[Family], name: str, **labels: str) -> float:
    """The one sample of ``name`` whose labels include ``labels`` (KeyError if none, or several)."""
    found = matching(fams, name, **labels)
    if len(found) != 1:
        raise KeyError(f"{name}{labels}: {len(found)} samples: {found}")
    return next(iter(found.values()))


def matching(fams: list[Family], name: str, **labels: str) -> dict[tuple[tuple[str, str], ...], float]:
    want = set(labels.items())
    fam = next((f for f in fams if f.name == name), None)
    if fam is None:
        return {}
    return {lb: v for lb, v in fam.samples if want <= set(lb)}


def label_sets(fams: list[Family], name: str, id: str) -> list[dict[str, str]]:
    return [dict(lb) for lb in matching(fams, name, id=id)]


def ids(fams: list[Family], name: str) -> set[str]:
    return {dict(lb)["id"] for lb in matching(fams, name)}
