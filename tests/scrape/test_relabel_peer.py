"""relabel() against a real Prometheus (Debian's 2.42) on the same targets.

Prometheus reads a file_sd list of targets with crafted labels, relabels them
with the configs below, and shows the outcome on /api/v1/targets: for each
target its discoveredLabels (the input to relabeling) and either its labels
(kept) or its presence under droppedTargets. kubesight relabels the same
discoveredLabels with the same configs and must agree on every target.

The configs stay inside what 2.42 and Prometheus 3 do alike (see the
relabel module's docstring): legacy label names, no newlines in values, no
labelmap that maps two labels onto one name, no templated target_label that
expands to an invalid name.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kubesight.errors import ConfigError
from kubesight.model.labels import Labels, labels_from_dict
from kubesight.scrape.relabel import parse_relabel_configs, relabel

pytestmark = pytest.mark.peer

# From Prometheus' BenchmarkRelabel "kubernetes" case (a kube-prometheus-like
# pod job), which ends by keeping one hashmod shard of three.
K8S = r"""
- source_labels: [__meta_kubernetes_pod_container_port_name]
  regex: .*-metrics
  action: keep
- source_labels: [__meta_kubernetes_pod_label_name]
  action: drop
  regex: ""
- source_labels: [__meta_kubernetes_pod_phase]
  regex: Succeeded|Failed
  action: drop
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
  regex: "false"
  action: drop
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scheme]
  target_label: __scheme__
  regex: (https?)
  replacement: $1
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
  target_label: __metrics_path__
  regex: (.+)
- source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
  target_label: __address__
  regex: (.+?)(\:\d+)?;(\d+)
  replacement: $1:$3
- regex: __meta_kubernetes_pod_annotation_prometheus_io_param_(.+)
  replacement: __param_$1
  action: labelmap
- regex: __meta_kubernetes_pod_label_prometheus_io_label_(.+)
  action: labelmap
- source_labels: [__meta_kubernetes_namespace, __meta_kubernetes_pod_label_name]
  separator: /
  target_label: job
- source_labels: [__meta_kubernetes_namespace]
  target_label: namespace
- source_labels: [__meta_kubernetes_pod_name]
  target_label: pod
- source_labels: [__meta_kubernetes_pod_name, __meta_kubernetes_pod_container_port_name]
  separator: ':'
  target_label: container
- target_label: cluster
  replacement: dev-us-central-0
- source_labels: [__meta_kubernetes_namespace]
  regex: hosted-grafana
  action: drop
- source_labels: [__address__]
  target_label: __tmp_hash
  modulus: 3
  action: hashmod
- source_labels: [__tmp_hash]
  regex: ^0$
  action: keep
- regex: __tmp_hash
  action: labeldrop
"""

MISC = r"""
- source_labels: [__meta_env]
  action: uppercase
  target_label: env_up
- source_labels: [__meta_team]
  action: lowercase
  target_label: team_low
- source_labels: [__meta_a]
  target_label: __meta_b
  action: dropequal
- source_labels: [__meta_fqdn]
  regex: (?P<host>[^.]+)\.(?P<dom>.*)
  target_label: where
  replacement: ${dom}/${host}
- source_labels: [__meta_fqdn]
  regex: ([^.]+)\..*
  target_label: quirk
  replacement: $1x
- source_labels: [__meta_team]
  regex: (.*)
  target_label: cost
  replacement: cost$$1-$1
- source_labels: [__meta_fqdn]
  regex: ([a-z]+)[0-9]*\..*
  target_label: t_${1}
  replacement: "yes"
- regex: __meta_(env|team)
  replacement: meta_$1
  action: labelmap
- source_labels: [__meta_env]
  regex: (?i)TEST.*
  action: drop
- source_labels: [idx]
  target_label: shard
  modulus: 7
  action: hashmod
- source_labels: [__meta_team]
  regex: '[[:alpha:]]+|\d+'
  target_label: team_kind
  replacement: simple
- source_labels: [__meta_a, __meta_b]
  regex: \Qx.y\E;(.*)
  target_label: ab
- source_labels: [__meta_a]
  regex: (a|ab)(c|bcd)(d*)
  target_label: leftmost
  replacement: $1-$2-$3
- regex: __.*|idx|env_up|team_low|where|quirk|cost|t_.+|meta_.*|shard|team_kind|ab|leftmost
  action: labelkeep
"""

FILTERS = r"""
- source_labels: [__meta_env]
  regex: (?i)prod|staging
  action: keep
- source_labels: [__meta_team]
  regex: a.*|\d+
  action: drop
- source_labels: [__meta_a]
  target_label: __meta_b
  action: keepequal
"""

JOBS = {"k8s": K8S, "misc": MISC, "filters": FILTERS}


def target_labels(rng: random.Random, i: int) -> dict[str, str]:
    def maybe(name: str, values: list[str], out: dict[str, str]) -> None:
        if rng.random() < 0.8:
            out[name] = rng.choice(values)

    k = "__meta_kubernetes_"
    out = {"idx": str(i)}
    maybe(k + "namespace", ["default", "monitoring", "loki-boltdb-shipper", "default", "hosted-grafana"], out)
    maybe(k + "pod_name", [f"pod-{rng.randrange(1000)}", "promtail-x7", "web-0"], out)
    out[k + "pod_container_port_name"] = rng.choice(["http-metrics", "grpc-metrics", "http-metrics", "web"])
    maybe(k + "pod_label_name", ["promtail", "web", "api"], out)
    maybe(k + "pod_phase", ["Running", "Running", "Running", "Succeeded", "Failed", "Pending"], out)
    maybe(k + "pod_annotation_prometheus_io_scrape", ["true", "true", "true", "false"], out)
    maybe(k + "pod_annotation_prometheus_io_scheme", ["http", "https", "ftp"], out)
    maybe(k + "pod_annotation_prometheus_io_path", ["/metrics", "/x/metrics"], out)
    maybe(k + "pod_annotation_prometheus_io_port", ["9100", "8080", "x"], out)
    maybe(k + "pod_annotation_prometheus_io_param_module", ["http_2xx", "icmp"], out)
    maybe(k + "pod_label_prometheus_io_label_tier", ["frontend", "backend"], out)
    maybe("__meta_env", ["prod", "Prod", "staging", "dev", "test-1", "TEST", "Straße"], out)
    maybe("__meta_team", ["alpha", "beta", "42", "Ärger", "a.b", "Zeta9"], out)
    maybe("__meta_a", ["x.y", "abcd", "same", "q"], out)
    maybe("__meta_b", ["same", "z", "x.y"], out)
    maybe("__meta_fqdn", ["web1.example.com", "db.internal", "nodots", "api22.x.y"], out)
    return out


def write_targets(path: Path, n: int) -> None:
    rng = random.Random(20240601)
    groups = [{"targets": [f"127.0.0.1:{20000 + i}"], "labels": target_labels(rng, i)} for i in range(n)]
    path.write_text(json.dumps(groups))


def require_prometheus() -> str:
    path = shutil.which("prometheus") or ("/usr/bin/prometheus" if os.path.exists("/usr/bin/prometheus") else None)
    if path:
        return path
    msg = "prometheus not installed (apt-get install -y prometheus)"
    if os.environ.get("KUBESIGHT_REQUIRE_PEERS"):
        pytest.fail(msg)
    pytest.skip(msg)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Regexes whose Go (RE2) and Python translations must agree, each applied to
# every value of VALUES by a replace rule writing <$1|$2> into its own label.
# No newlines: 2.42's wrapper had no (?s). Left out: captures in loops whose
# body can match empty, such as (a*)* or (a|)+, where kubesight knowingly
# differs (see the relabel module's docstring and test_relabel.py).
PEER_REGEXES = [
    "(.*)", "(a|ab)(c|bcd)(d*)", "(a+)(b*)", "(a|b)*", "(a|b)*?c?", "(a?)+?b",
    "(?U)(a+)(a*)", "(?U)(a+?)(a*)", r"(.*?)(\d+)", r"(\d+?)(\d*)", r"(\w+)\W(.*)", r"(\s*)(\S*)",
    "(?i)(straße)", "(?i)(k+)", "(?i)(\u03c3+)", "(?i)([a-z]+)", "(?i)([^a-z]+)", "(?i)(s)(.*)",
    "([[:alpha:]]+)([[:digit:]]*)", "([[:^alpha:]]+)", r"\b(\w+)\b", r"(.*)\B(.*)",
    r"(\Qa+b\E)(.*)", "(a{,2})", "(x{0})(.*)", "((?:ab){2,3})(.*)", r"(\x{e9}|\141)(.*)",
    r"([\x00-\x7f]*)(.*)", "(?i:A)(b)", "a(?i)b|(c)", r"(?P<x>[^.]+)\.(.*)", "(^a|b$)(.*)",
    "(^)(.*)", "(.*)($)", "()", "(|a)(.*)", "([a-c-e]+)(.*)", "([]a]+)(.*)", "([^]a]+)(.*)",
    r"(\.)?(.*)", r"([\d-z]+)(.*)", "(?i)([^k]+)", r"(?i)(\W+)", "(?i)(ǅ)", "([^a-z]+)",
]
VALUES = [
    "", "a", "ab", "abcd", "aaa", "aab", "abab", "abc", "x123", "123", "007x", "hello world",
    " \t x", "Straße", "STRASSE", "strasse", "K", "k", "\u212a", "kkK", "σς", "ΣΣ", "Σ", "Ärger",
    "éa", "a+b", "a+bc", "a{,2}", "aa", "...", "a.b.c", "web1.example.com", "abcdefghijklm", "b",
    "c", "B", "aB", "\u0131", "\u0130", "\u017f", "S", "]a]", "-", "a-e", "z9-", "ǆ", "Ǆ", "ǅ", "x\u00a0y",
]
# Go's Regexp.Expand in replacement, on (a)?(?P<name>b)?(c*)(?P<x>x)?(?P<x>.*).
PEER_TEMPLATES = ["[$x]", "$1x", "${1}x", "$$1", "${name}", "$name_", "$0", "$01", "$9", "${", "a$", "$é",
                  "[$1][$2][$3]", "${2}${name}"]


def regex_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {"source_labels": ["__meta_v"], "regex": rx, "target_label": f"r{i}", "replacement": "<$1|$2>"}
        for i, rx in enumerate(PEER_REGEXES)]
    rules += [
        {"source_labels": ["__meta_v"], "regex": "(a)?(?P<name>b)?(c*)(?P<x>x)?(?P<x>.*)",
         "target_label": f"t{i}",
         "replacement": tpl}
        for i, tpl in enumerate(PEER_TEMPLATES)]
    return rules


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    binary = require_prometheus()
    tmp = tmp_path_factory.mktemp("prometheus")
    write_targets(tmp / "targets.json", 1000)
    (tmp / "values.json").write_text(json.dumps([
        {"targets": [f"127.0.0.1:{30000 + i}"], "labels": {"idx": str(i), "__meta_v": v}}
        for i, v in enumerate(VALUES)]))
    jobs = [
        {"job_name": job, "file_sd_configs": [{"files": [str(tmp / "targets.json")]}],
         "relabel_configs": yaml.safe_load(rules)}
        for job, rules in JOBS.items()
    ]
    jobs.append({"job_name": "regex", "file_sd_configs": [{"files": [str(tmp / "values.json")]}],
                 "relabel_configs": regex_rules()})
    # 1h: the targets are closed ports; nobody needs the scrapes.
    config = {"global": {"scrape_interval": "1h", "scrape_timeout": "10s"}, "scrape_configs": jobs}
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    port = free_port()
    log = tmp / "prometheus.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [binary, f"--config.file={tmp / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}", tmp
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    assert proc.returncode in (0, -15), log.read_text()[-2000:]


def fetch_targets(url: str, expected: int) -> dict[str, Any]:
    """/api/v1/targets once discovery has delivered every target of every job."""
    deadline = time.monotonic() + 90
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            data: dict[str, Any] = httpx.get(f"{url}/api/v1/targets", timeout=5).json()["data"]
            last = data
            if len(data["activeTargets"]) + len(data["droppedTargets"]) >= expected:
                return data
        except (httpx.TransportError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    pytest.fail(f"Prometheus listed {len(last.get('activeTargets', []))} active and "
                f"{len(last.get('droppedTargets', []))} dropped targets, expected {expected} in all")


def as_api_labels(out: Labels) -> dict[str, str]:
    # What Prometheus does after relabeling: instance defaults to the address,
    # and labels starting with __ are not the target's labels.
    d = dict(out)
    d.setdefault("instance", d["__address__"])
    return {k: v for k, v in d.items() if not k.startswith("__")}


def discovered(path: Path, job: str) -> dict[str, dict[str, str]]:
    """The labels Prometheus relabels for each target of ``job``, by idx.

    Built here rather than read back: 2.42's relabeling writes into the array
    behind discoveredLabels, so the API shows dropped targets' labels half
    relabeled (fixed in later releases).
    """
    out = {}
    for group in json.loads(path.read_text()):
        d = dict(group["labels"])
        d.update({"__address__": group["targets"][0], "job": job, "__scheme__": "http",
                  "__metrics_path__": "/metrics", "__scrape_interval__": "1h",
                  "__scrape_timeout__": "10s", "__meta_filepath": str(path)})
        out[d["idx"]] = d
    return out


def expected_targets(tmp: Path) -> int:
    return len(json.loads((tmp / "targets.json").read_text())) * len(JOBS) + len(VALUES)


def test_relabel_matches_prometheus(prometheus: tuple[str, Path]) -> None:
    url, tmp = prometheus
    targets_file = tmp / "targets.json"
    n = len(json.loads(targets_file.read_text()))
    data = fetch_targets(url, expected_targets(tmp))
    # Every job's rules keep 'idx', so an active target names its input.
    active: dict[str, dict[str, dict[str, str]]] = {job: {} for job in JOBS}
    for t in data["activeTargets"]:
        if t["scrapePool"] in active:
            active[t["scrapePool"]][t["labels"]["idx"]] = t["labels"]
    dropped = {job: 0 for job in JOBS}
    total_dropped = len(data["droppedTargets"])

    mismatches: list[tuple[object, ...]] = []
    ours_dropped = 0
    for job, rules in JOBS.items():
        configs = parse_relabel_configs(yaml.safe_load(rules), f"job {job!r}", "legacy")
        for idx, given in discovered(targets_file, job).items():
            got = relabel(labels_from_dict(given), configs)
            want = active[job].get(idx)
            if got is None:
                ours_dropped += 1
                dropped[job] += 1
                if want is not None:
                    mismatches.append((job, given, "Prometheus kept", want))
            elif want is None or as_api_labels(got) != want:
                mismatches.append((job, given, "Prometheus", want, "kubesight", as_api_labels(got)))
    assert not mismatches, "\n".join(map(repr, mismatches[:5]))
    assert ours_dropped == total_dropped
    # Both outcomes must be exercised in every job, or the comparison proves little.
    for job in JOBS:
        assert 20 <= dropped[job] <= n - 20, (job, dropped[job])


def test_go_regexes_and_templates_match_prometheus(prometheus: tuple[str, Path]) -> None:
    url, tmp = prometheus
    data = fetch_targets(url, expected_targets(tmp))
    theirs = {t["labels"]["idx"]: t["labels"] for t in data["activeTargets"] if t["scrapePool"] == "regex"}
    assert len(theirs) == len(VALUES)
    configs = parse_relabel_configs(regex_rules(), "job 'regex'", "legacy")
    mismatches = []
    for i, v in enumerate(VALUES):
        given = {"__address__": f"127.0.0.1:{30000 + i}", "idx": str(i), "__meta_v": v, "job": "regex"}
        got = relabel(labels_from_dict(given), configs)
        assert got is not None
        ours = as_api_labels(got)
        want = theirs[str(i)]
        for k in sorted(set(ours) | set(want)):
            if ours.get(k) != want.get(k):
                rule = PEER_REGEXES[int(k[1:])] if k[0] == "r" else PEER_TEMPLATES[int(k[1:])]
                mismatches.append(f"{rule!r} on {v!r}: Prometheus {want.get(k)!r}, kubesight {ours.get(k)!r}")
    assert not mismatches, "\n".join(mismatches)


# Configs for `promtool check config` (2.42) and parse_relabel_configs (legacy
# names) to accept or refuse alike. Left out: what 2.42 and 3.x validate
# differently ($ in lowercase/keepequal targets, (?<name>) groups) and what
# kubesight knowingly refuses (\p{...}, nesting past 100).
ACCEPTANCE: list[dict[str, Any]] = [
    {"action": None},
    {"action": "foo"},
    {"action": "KEEP", "source_labels": ["a"]},
    {"action": "replace"},
    {"action": "replace", "target_label": "a-b"},
    {"action": "replace", "target_label": "a_${1}"},
    {"action": "replace", "target_label": "${1"},
    {"action": "replace", "target_label": "x", "source_labels": [""]},
    {"action": "replace", "target_label": "x", "source_labels": ["a.b"]},
    {"action": "replace", "target_label": "x", "source_labels": "a"},
    {"action": "replace", "target_label": "x", "regexp": "a"},
    {"action": "replace", "target_label": "x", "replacement": 8080},
    {"action": "replace", "target_label": "x", "replacement": [1]},
    {"action": "lowercase"},
    {"action": "lowercase", "target_label": "x", "replacement": "y"},
    {"action": "uppercase", "target_label": "x"},
    {"action": "hashmod", "target_label": "x"},
    {"action": "hashmod", "target_label": "x", "modulus": 0},
    {"action": "hashmod", "target_label": "x", "modulus": -1},
    {"action": "hashmod", "target_label": "x", "modulus": "3"},
    {"action": "hashmod", "target_label": "x", "modulus": 3},
    {"action": "hashmod", "target_label": "a.b", "modulus": 3},
    {"action": "hashmod", "target_label": "x", "modulus": 18446744073709551615},
    {"action": "keepequal", "target_label": "x"},
    {"action": "keepequal", "target_label": "x", "separator": ";"},
    {"action": "keepequal", "target_label": "x", "regex": "(.*)"},
    {"action": "dropequal", "target_label": "x", "separator": ","},
    {"action": "dropequal", "target_label": "x", "replacement": "$1"},
    {"action": "dropequal", "target_label": "x", "replacement": "y"},
    {"action": "dropequal"},
    {"action": "labelmap", "regex": "(.*)"},
    {"action": "labelmap", "regex": "(.*)", "replacement": "x-$1"},
    {"action": "labelmap", "regex": "__meta_(.+)", "replacement": "${1}"},
    {"action": "labeldrop", "regex": "a"},
    {"action": "labeldrop", "regex": "a", "source_labels": []},
    {"action": "labeldrop", "regex": "a", "source_labels": ["a"]},
    {"action": "labelkeep", "regex": "a", "target_label": "b"},
    {"action": "labelkeep", "regex": "__.*|a", "separator": ";", "replacement": "$1"},
    {"action": "labelkeep", "regex": "a", "modulus": 2},
    *({"action": "keep", "source_labels": ["a"], "regex": rx} for rx in [
        "(?=a)", r"(a)\1", "(?P<n>a)(?P=n)", "a*+", "a**", "a{2}{3}", "(?>a)", "(?#c)", "(?x)a",
        r"\Z", r"\C", r"\u0041", r"\8", r"\é", "a{1001}", "(a{100}){11}", "a{3,2}", "(a", "a)",
        "[a", "[z-a]", "[[:foo:]]", "(?P<>a)", "(?P<a-b>a)", "(?P<n>a)(?P<n>b)", "(?i-)a", "*a",
        "a|*", "a\\", "(?)a", "(?i-s:a)", "(?P<1x>a)", "[]a]", "[^]a]", "[a-]", "x{1000}",
        "(?:a{10}){100}", "^*a", r"\_", "a{", "a{x}", r"[\d-z]", "a{,2}", r"\Qa\E", "a)|(b",
        "[[:^alpha:]]", r"\x{10FFFF}", r"\x{110000}", r"\101", r"\0", "(?U)a+",
    ]),
]


@pytest.mark.parametrize("raw", ACCEPTANCE, ids=lambda raw: json.dumps(raw, ensure_ascii=False))
def test_config_acceptance_matches_promtool(raw: dict[str, Any], tmp_path: Path) -> None:
    promtool = require_prometheus().replace("prometheus", "promtool")
    config = {"scrape_configs": [{"job_name": "x", "static_configs": [{"targets": ["127.0.0.1:1"]}],
                                  "relabel_configs": [raw]}]}
    (tmp_path / "p.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    run = subprocess.run([promtool, "check", "config", str(tmp_path / "p.yml")],
                         capture_output=True, text=True, timeout=60)
    theirs = run.returncode == 0
    try:
        parse_relabel_configs([raw], "x", "legacy")
        ours, message = True, ""
    except ConfigError as exc:
        ours, message = False, str(exc).removeprefix("x[0]: ")
    assert ours == theirs, run.stdout + run.stderr
    if not ours and (message.startswith(("relabel ", "'replacement'", '"')) or " action requires" in message):
        # Prometheus' own validation messages are kept word for word.
        assert message in run.stdout + run.stderr
