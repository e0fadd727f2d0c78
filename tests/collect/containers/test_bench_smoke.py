"""bench/collect_containers.py: its fixture node is what it claims, and the script runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.collect_containers import fixture, main

from kubesight.collect.containers import ContainerCollector, PodIndex
from tests.collect.containers.helpers import ids, matching


@pytest.mark.parametrize("version", [2, 1])
def test_fixture_node(tmp_path: Path, version: int) -> None:
    root, proc, pods = fixture(tmp_path, 4, 2, version)
    c = ContainerCollector(PodIndex(pods), cgroup_root=str(root), proc=str(proc),
                           sys_root=str(tmp_path / "sys"))
    fams = c.collect()
    # root, 3 QoS, system.slice, 30 services, 4 pods, 4 x (2 containers + sandbox)
    assert c.reported == 1 + 3 + 1 + 30 + 4 + 12
    assert len(ids(fams, "container_network_receive_bytes_total")) == 1 + 4  # root + sandboxes
    named = {dict(lb).get("container") for lb in matching(fams, "container_memory_usage_bytes")}
    assert named == {None, "c1", "c2"}
    assert matching(fams, "container_cpu_cfs_periods_total")  # quotas set
    assert not [lb for lb in matching(fams, "kubesight_container_collector_errors_total")]


def test_script_runs(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--pods", "2", "--containers", "1", "--repeat", "1", "--no-peer"])
    out = capsys.readouterr().out
    assert "| fixture v2: 2 pods x 1 containers | 41 |" in out
    assert "| fixture v1: 2 pods x 1 containers | 41 |" in out
