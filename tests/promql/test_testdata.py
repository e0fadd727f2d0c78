"""Runs every eval of tests/promql/testdata/*.test against MemoryStore."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.promql.runner import run_file

DATA = Path(__file__).parent / "testdata"
FILES = sorted(DATA.glob("*.test"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_file(path: Path) -> None:
    results = run_file(path)
    assert results, f"{path.name} has no eval"
    failures = [f"{path.name}:{line}: {expr}\n    {msg}" for line, expr, msg in results if msg]
    assert not failures, f"{len(failures)}/{len(results)} evals failed:\n" + "\n".join(failures)
