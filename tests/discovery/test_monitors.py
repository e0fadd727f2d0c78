"""ServiceMonitor/PodMonitor -> jobs, table-tested against the Prometheus Operator's golden files.

Each expected job is the Operator's golden output (pkg/prometheus/testdata/
*.golden, for the inputs of the matching promcfg_test.go case) written out
here, minus the sharding rules kubesight leaves out (``__tmp_hash`` ... ``$(SHARD)``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubesight.discovery.config import build_discoverers
from kubesight.discovery.monitors import jobs_from_monitors, label_selector_string
from kubesight.scrape.config import GlobalConfig, parse_scrape_config

Obj = dict[str, Any]


def sm(name: str, spec: Obj, ns: str = "default") -> Obj:
    return {"metadata": {"name": name, "namespace": ns}, "spec": spec}


# The relabelings every ServiceMonitor job carries after the selector and port rules
# (TargetLabels.golden, MatchExpressionsServiceMonitor.golden, ...), for role endpoints.
SM_TARGET_LABELS = """
- source_labels: [__meta_kubernetes_endpoint_address_target_kind, __meta_kubernetes_endpoint_address_target_name]
  separator: ;
  regex: Node;(.*)
  replacement: '${1}'
  target_label: node
- source_labels: [__meta_kubernetes_endpoint_address_target_kind, __meta_kubernetes_endpoint_address_target_name]
  separator: ;
  regex: Pod;(.*)
  replacement: '${1}'
  target_label: pod
- {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
- {source_labels: [__meta_kubernetes_service_name], target_label: service}
- {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
- {source_labels: [__meta_kubernetes_pod_container_name], target_label: container}
- {action: drop, source_labels: [__meta_kubernetes_pod_phase], regex: (Failed|Succeeded)}
"""
TMP_JOB = "- {source_labels: [job], target_label: __tmp_prometheus_job_name}\n"
SM_JOB = "- {source_labels: [__meta_kubernetes_service_name], target_label: job, replacement: '${1}'}\n"


def rules(*parts: str) -> list[Obj]:
    out: list[Obj] = []
    for p in parts:
        out += yaml.safe_load(p) or []
    return out


SM_DEFAULT_NS = {"role": "endpoints", "namespaces": {"names": ["default"]}}

CASES: list[tuple[str, list[Obj], list[Obj], list[Obj]]] = [
    ("MatchExpressionsServiceMonitor.golden",
     [sm("test", {"selector": {"matchExpressions": [{"key": "alpha", "operator": "In", "values": ["beta", "gamma"]}]},
                  "endpoints": [{"port": "web", "interval": "30s"}]})], [],
     [{"job_name": "serviceMonitor/default/test/0", "honor_labels": False,
       "kubernetes_sd_configs": [SM_DEFAULT_NS], "scrape_interval": "30s",
       "relabel_configs": rules(TMP_JOB, """
- action: keep
  source_labels: [__meta_kubernetes_service_label_alpha, __meta_kubernetes_service_labelpresent_alpha]
  regex: (beta|gamma);true
- {action: keep, source_labels: [__meta_kubernetes_endpoint_port_name], regex: web}
""", SM_TARGET_LABELS, SM_JOB, "- {target_label: endpoint, replacement: web}")}]),

    ("GenerateRelabelConfig.golden: camelCase rules, capitalised actions, empty replacement",
     [sm("test", {"selector": {"matchLabels": {"foo": "bar"}}, "endpoints": [{
         "port": "https-metrics", "interval": "30s",
         "metricRelabelings": [{"action": "Drop", "regex": "container_fs*", "sourceLabels": ["__name__"]},
                               {"action": "Replace", "replacement": "", "targetLabel": "job"}],
         "relabelings": [{"action": "Uppercase", "sourceLabels": ["instance"], "targetLabel": "instance"},
                         {"action": "Replace", "regex": "(.+)(?::d+)", "replacement": "$1:9537",
                          "sourceLabels": ["__address__"], "targetLabel": "__address__"},
                         {"action": "Replace", "replacement": "crio", "targetLabel": "job"},
                         {"action": "Replace", "replacement": "", "targetLabel": "job"}]}]})], [],
     [{"job_name": "serviceMonitor/default/test/0", "honor_labels": False,
       "kubernetes_sd_configs": [SM_DEFAULT_NS], "scrape_interval": "30s",
       "relabel_configs": rules(TMP_JOB, """
- {action: keep, source_labels: [__meta_kubernetes_service_label_foo, __meta_kubernetes_service_labelpresent_foo], regex: (bar);true}
- {action: keep, source_labels: [__meta_kubernetes_endpoint_port_name], regex: https-metrics}
""", SM_TARGET_LABELS, SM_JOB, """
- {target_label: endpoint, replacement: https-metrics}
- {source_labels: [instance], target_label: instance, action: uppercase}
- {source_labels: [__address__], target_label: __address__, regex: '(.+)(?::d+)', replacement: '$1:9537', action: replace}
- {target_label: job, replacement: crio, action: replace}
- {target_label: job, replacement: '', action: replace}
"""),
       "metric_relabel_configs": rules("""
- {source_labels: [__name__], regex: container_fs*, action: drop}
- {target_label: job, replacement: '', action: replace}
""")}]),

    ("EmptyEndpointPorts.golden: no port, no endpoint label",
     [sm("test", {"selector": {"matchLabels": {"foo": "bar"}}, "endpoints": [{}]})], [],
     [{"job_name": "serviceMonitor/default/test/0", "honor_labels": False,
       "kubernetes_sd_configs": [SM_DEFAULT_NS],
       "relabel_configs": rules(TMP_JOB, """
- {action: keep, source_labels: [__meta_kubernetes_service_label_foo, __meta_kubernetes_service_labelpresent_foo], regex: (bar);true}
""", SM_TARGET_LABELS, SM_JOB)}]),

    ("TestServiceMonitorWithEndpointSliceEnable_Expected.golden",
     [sm("test", {"serviceDiscoveryRole": "EndpointSlice",
                  "selector": {"matchLabels": {"foo": "bar"},
                               "matchExpressions": [{"key": "alpha", "operator": "In", "values": ["beta", "gamma"]}]},
                  "endpoints": [{"port": "web", "interval": "30s"}]})], [],
     [{"job_name": "serviceMonitor/default/test/0", "honor_labels": False,
       "kubernetes_sd_configs": [{"role": "endpointslice", "namespaces": {"names": ["default"]}}],
       "scrape_interval": "30s",
       "relabel_configs": rules(TMP_JOB, """
- {action: keep, source_labels: [__meta_kubernetes_service_label_foo, __meta_kubernetes_service_labelpresent_foo], regex: (bar);true}
- {action: keep, source_labels: [__meta_kubernetes_service_label_alpha, __meta_kubernetes_service_labelpresent_alpha], regex: (beta|gamma);true}
- {action: keep, source_labels: [__meta_kubernetes_endpointslice_port_name], regex: web}
""", SM_TARGET_LABELS.replace("_endpoint_address", "_endpointslice_address"), SM_JOB,
           "- {target_label: endpoint, replacement: web}")}]),

    ("ServiceMonitorObjectWithMatchExpressionSelector.golden: RoleSelector -> SD selectors",
     [sm("defaultServiceMonitor", {"selectorMechanism": "RoleSelector",
                                   "selector": {"matchExpressions": [{"key": "group", "operator": "In",
                                                                      "values": ["group1"]}]},
                                   "endpoints": [{"port": "web", "interval": "30s"}]})], [],
     [{"job_name": "serviceMonitor/default/defaultServiceMonitor/0", "honor_labels": False,
       "kubernetes_sd_configs": [{**SM_DEFAULT_NS, "selectors": [
           {"role": "endpoints", "label": "group in (group1)"},
           {"role": "service", "label": "group in (group1)"}]}],
       "scrape_interval": "30s",
       "relabel_configs": rules(TMP_JOB, """
- {action: keep, source_labels: [__meta_kubernetes_endpoint_port_name], regex: web}
""", SM_TARGET_LABELS, SM_JOB, "- {target_label: endpoint, replacement: web}")}]),

    ("TargetLabels.golden + jobLabel",
     [sm("testservicemonitor1", {"targetLabels": ["example", "env"], "jobLabel": "app.kubernetes.io/name",
                                 "endpoints": [{"port": "web", "interval": "30s"}]})], [],
     [{"job_name": "serviceMonitor/default/testservicemonitor1/0", "honor_labels": False,
       "kubernetes_sd_configs": [SM_DEFAULT_NS], "scrape_interval": "30s",
       "relabel_configs": rules(TMP_JOB, """
- {action: keep, source_labels: [__meta_kubernetes_endpoint_port_name], regex: web}
""", SM_TARGET_LABELS, """
- {source_labels: [__meta_kubernetes_service_label_example], target_label: example, regex: (.+), replacement: '${1}'}
- {source_labels: [__meta_kubernetes_service_label_env], target_label: env, regex: (.+), replacement: '${1}'}
""", SM_JOB, """
- {source_labels: [__meta_kubernetes_service_label_app_kubernetes_io_name], target_label: job, regex: (.+), replacement: '${1}'}
- {target_label: endpoint, replacement: web}
""")}]),

    ("PodTargetLabelsFromPodMonitor.golden",
     [], [{"metadata": {"name": "testpodmonitor1", "namespace": "default"},
           "spec": {"podTargetLabels": ["example", "env"],
                    "podMetricsEndpoints": [{"port": "web", "interval": "30s"}]}}],
     [{"job_name": "podMonitor/default/testpodmonitor1/0", "honor_labels": False,
       "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": ["default"]}}],
       "scrape_interval": "30s",
       "relabel_configs": rules(TMP_JOB, """
- {action: drop, source_labels: [__meta_kubernetes_pod_phase], regex: (Failed|Succeeded)}
- {action: keep, source_labels: [__meta_kubernetes_pod_container_port_name], regex: web}
- {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
- {source_labels: [__meta_kubernetes_pod_container_name], target_label: container}
- {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
- {source_labels: [__meta_kubernetes_pod_label_example], target_label: example, regex: (.+), replacement: '${1}'}
- {source_labels: [__meta_kubernetes_pod_label_env], target_label: env, regex: (.+), replacement: '${1}'}
- {target_label: job, replacement: default/testpodmonitor1}
- {target_label: endpoint, replacement: web}
""")}]),

    ("podMonitorObjectWithPortNumber.golden: portNumber wins the keep, targetPort names the endpoint",
     [], [{"metadata": {"name": "defaultPodMonitor", "namespace": "default"},
           "spec": {"selector": {"matchLabels": {"group": "group1"}},
                    "podMetricsEndpoints": [{"portNumber": 1024, "targetPort": "10240"}]}}],
     [{"job_name": "podMonitor/default/defaultPodMonitor/0", "honor_labels": False,
       "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": ["default"]}}],
       "relabel_configs": rules(TMP_JOB, """
- {action: drop, source_labels: [__meta_kubernetes_pod_phase], regex: (Failed|Succeeded)}
- {action: keep, source_labels: [__meta_kubernetes_pod_label_group, __meta_kubernetes_pod_labelpresent_group], regex: (group1);true}
- {action: keep, source_labels: [__meta_kubernetes_pod_container_port_number], regex: '1024'}
- {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
- {source_labels: [__meta_kubernetes_pod_container_name], target_label: container}
- {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
- {target_label: job, replacement: default/defaultPodMonitor}
- {target_label: endpoint, replacement: '10240'}
""")}]),

    ("PodMonitorObjectWithMatchLabelSelector.golden: RoleSelector",
     [], [{"metadata": {"name": "defaultPodMonitor", "namespace": "default"},
           "spec": {"selectorMechanism": "RoleSelector", "selector": {"matchLabels": {"group": "group1"}},
                    "podMetricsEndpoints": [{"port": "web", "interval": "30s"}]}}],
     [{"job_name": "podMonitor/default/defaultPodMonitor/0", "honor_labels": False,
       "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": ["default"]},
                                  "selectors": [{"role": "pod", "label": "group=group1"}]}],
       "scrape_interval": "30s",
       "relabel_configs": rules(TMP_JOB, """
- {action: drop, source_labels: [__meta_kubernetes_pod_phase], regex: (Failed|Succeeded)}
- {action: keep, source_labels: [__meta_kubernetes_pod_container_port_name], regex: web}
- {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
- {source_labels: [__meta_kubernetes_pod_container_name], target_label: container}
- {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
- {target_label: job, replacement: default/defaultPodMonitor}
- {target_label: endpoint, replacement: web}
""")}]),
]


@pytest.mark.parametrize("name,sms,pms,expected", CASES, ids=[c[0] for c in CASES])
def test_operator_golden(name: str, sms: list[Obj], pms: list[Obj], expected: list[Obj]) -> None:
    assert jobs_from_monitors(sms, pms) == expected


# Every other field, from the ServiceMonitor/PodMonitor API reference.
FULL_SM = sm("full", {
    "namespaceSelector": {"any": True},
    "selector": {"matchExpressions": [
        {"key": "tier", "operator": "NotIn", "values": ["db", "cache"]},
        {"key": "app.kubernetes.io/name", "operator": "Exists"},
        {"key": "legacy", "operator": "DoesNotExist"}]},
    "podTargetLabels": ["team"], "attachMetadata": {"node": True},
    "sampleLimit": 1000, "targetLimit": 10, "labelLimit": 30, "labelNameLengthLimit": 100,
    "labelValueLengthLimit": 200, "keepDroppedTargets": 5, "bodySizeLimit": "10MB",
    "scrapeProtocols": ["OpenMetricsText1.0.0", "PrometheusText0.0.4"],
    "nativeHistogramBucketLimit": 160, "nativeHistogramMinBucketFactor": "1.1",
    "endpoints": [{"targetPort": 8443, "scheme": "HTTPS", "path": "/m", "params": {"x": ["1"]},
                   "interval": "15s", "scrapeTimeout": "5s", "honorLabels": True, "honorTimestamps": False,
                   "filterRunning": False, "followRedirects": False,
                   "tlsConfig": {"insecureSkipVerify": True, "serverName": "svc.local", "caFile": "/etc/ca.crt"},
                   "basicAuth": {"username": {"name": "creds", "key": "user"},
                                 "password": {"name": "creds", "key": "pass"}}}]},
    ns="mon")


def test_every_field_of_an_endpoint() -> None:
    [job] = jobs_from_monitors([FULL_SM], [], api={"api_server": "http://127.0.0.1:1"},
                               secrets={"mon/creds": {"user": "u", "pass": "p"}})
    assert job["job_name"] == "serviceMonitor/mon/full/0"
    assert job["kubernetes_sd_configs"] == [{"role": "endpoints", "api_server": "http://127.0.0.1:1",
                                             "attach_metadata": {"node": True}}]
    assert {k: v for k, v in job.items() if k not in ("kubernetes_sd_configs", "relabel_configs")} == {
        "job_name": "serviceMonitor/mon/full/0", "honor_labels": True, "honor_timestamps": False,
        "scrape_interval": "15s", "scrape_timeout": "5s", "metrics_path": "/m", "params": {"x": ["1"]},
        "scheme": "https", "follow_redirects": False,
        "tls_config": {"insecure_skip_verify": True, "server_name": "svc.local", "ca_file": "/etc/ca.crt"},
        "basic_auth": {"username": "u", "password": "p"},
        "sample_limit": 1000, "target_limit": 10, "label_limit": 30, "label_name_length_limit": 100,
        "label_value_length_limit": 200, "keep_dropped_targets": 5, "body_size_limit": "10MB",
        "scrape_protocols": ["OpenMetricsText1.0.0", "PrometheusText0.0.4"],
        "native_histogram_bucket_limit": 160, "native_histogram_min_bucket_factor": 1.1}
    r = job["relabel_configs"]
    assert r[1:4] == rules("""
- {action: drop, source_labels: [__meta_kubernetes_service_label_tier, __meta_kubernetes_service_labelpresent_tier], regex: (db|cache);true}
- {action: keep, source_labels: [__meta_kubernetes_service_labelpresent_app_kubernetes_io_name], regex: 'true'}
- {action: drop, source_labels: [__meta_kubernetes_service_labelpresent_legacy], regex: 'true'}
""")
    assert r[4] == {"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_number"],
                    "regex": "8443"}
    assert {"action": "drop", "source_labels": ["__meta_kubernetes_pod_phase"],
            "regex": "(Failed|Succeeded)"} not in r  # filterRunning: false
    assert r[-3:] == rules("""
- {source_labels: [__meta_kubernetes_pod_label_team], target_label: team, regex: (.+), replacement: '${1}'}
""", SM_JOB, "- {target_label: endpoint, replacement: '8443'}")


def test_pod_monitor_credentials_and_namespaces() -> None:
    pm = {"metadata": {"name": "p", "namespace": "apps"}, "spec": {
        "namespaceSelector": {"matchNames": ["a", "b"]}, "jobLabel": "app",
        "podMetricsEndpoints": [
            {"port": "metrics", "bearerTokenSecret": {"name": "tok", "key": "t"}},
            {"port": "metrics", "authorization": {"credentials": {"name": "tok", "key": "t"}}}]}}
    jobs = jobs_from_monitors([], [pm], secrets={"apps/tok": {"t": "s3cret"}})
    assert [j["job_name"] for j in jobs] == ["podMonitor/apps/p/0", "podMonitor/apps/p/1"]
    assert jobs[0]["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["a", "b"]}}]
    assert jobs[0]["bearer_token"] == "s3cret"
    assert jobs[1]["authorization"] == {"type": "Bearer", "credentials": "s3cret"}
    assert jobs[0]["relabel_configs"][-3:] == rules("""
- {target_label: job, replacement: apps/p}
- {source_labels: [__meta_kubernetes_pod_label_app], target_label: job, regex: (.+), replacement: '${1}'}
- {target_label: endpoint, replacement: metrics}
""")


def test_order_skips_and_rejections(caplog: pytest.LogCaptureFixture) -> None:
    ok = {"endpoints": [{"port": "web"}]}
    sms = [
        sm("b", ok, ns="z"), sm("a", ok, ns="z"), sm("c", ok, ns="y"),
        # Endpoint 0 uses oauth2 and 1 TLS from a Secret: both skipped, endpoint 2 keeps its index.
        sm("partial", {"endpoints": [{"port": "a", "oauth2": {"clientId": {}}},
                                     {"port": "b", "tlsConfig": {"ca": {"secret": {"name": "x", "key": "ca"}}}},
                                     {"port": "c"}]}),
        sm("nosecret", {"endpoints": [{"port": "web", "bearerTokenSecret": {"name": "gone", "key": "t"}}]}),
        sm("badop", {"selector": {"matchExpressions": [{"key": "a", "operator": "Like"}]}, "endpoints": [{}]}),
        sm("novalues", {"selector": {"matchExpressions": [{"key": "a", "operator": "In"}]}, "endpoints": [{}]}),
        sm("malformed", {"endpoints": "web"}),
        {"metadata": {"name": "broken", "namespace": "default"}, "spec": {"endpoints": [{"relabelings": 3}]}},
    ]
    pms = [{"metadata": {"name": "p", "namespace": "a"}, "spec": {"podMetricsEndpoints": [{"port": "web"}]}}]
    with caplog.at_level(logging.WARNING, "kubesight.discovery.monitors"):
        names = [j["job_name"] for j in jobs_from_monitors(sms, pms)]
    assert names == ["serviceMonitor/default/partial/2", "serviceMonitor/y/c/0",
                     "serviceMonitor/z/a/0", "serviceMonitor/z/b/0", "podMonitor/a/p/0"]
    log = caplog.text
    assert "serviceMonitor default/partial: endpoint 0 skipped: oauth2 is not supported" in log
    assert "endpoint 1 skipped: tlsConfig.ca from a Secret or ConfigMap is not supported" in log
    assert "serviceMonitor default/nosecret rejected, no job generated: bearerTokenSecret: key 't' of secret default/gone not found" in log
    assert "serviceMonitor default/badop rejected" in log and "'Like' is not a valid label selector operator" in log
    assert "serviceMonitor default/novalues rejected, no job generated: selector: a: values must not be empty" in log
    assert "serviceMonitor default/malformed rejected, no job generated: spec.endpoints: expected a list" in log
    assert "serviceMonitor default/broken rejected" in log


def test_validate_rejects_the_whole_monitor(caplog: pytest.LogCaptureFixture) -> None:
    def validate(job: Obj) -> None:
        parse_scrape_config(job, GlobalConfig(), Path("/"))
    bad = sm("bad", {"endpoints": [{"port": "a"}, {"port": "b", "interval": "10s", "scrapeTimeout": "30s"}]})
    good = sm("good", {"endpoints": [{"port": "a"}]})
    with caplog.at_level(logging.ERROR, "kubesight.discovery.monitors"):
        jobs = jobs_from_monitors([bad, good], [], validate=validate)
    assert [j["job_name"] for j in jobs] == ["serviceMonitor/default/good/0"]
    assert "serviceMonitor default/bad rejected" in caplog.text and "greater than scrape_interval" in caplog.text


@pytest.mark.parametrize("selector,expected", [
    ({"matchLabels": {"group": "group1"}}, "group=group1"),
    ({"matchExpressions": [{"key": "group", "operator": "In", "values": ["group1"]}]}, "group in (group1)"),
    ({"matchLabels": {"z": "1"}, "matchExpressions": [
        {"key": "b", "operator": "NotIn", "values": ["y", "x"]}, {"key": "a", "operator": "Exists"},
        {"key": "c", "operator": "DoesNotExist"}]}, "a,b notin (x,y),!c,z=1"),
    ({}, ""),
])
def test_label_selector_string(selector: Obj, expected: str) -> None:
    assert label_selector_string(selector) == expected


def test_generated_jobs_parse_and_build_discoverers() -> None:
    sms = [FULL_SM] + [sm(f"g{i}", spec) for i, (_, s, _, _) in enumerate(CASES) for spec in
                       [m["spec"] for m in s]]
    pms = [m for _, _, p, _ in CASES for m in p]
    jobs = jobs_from_monitors(sms, pms, api={"api_server": "http://127.0.0.1:1"},
                              secrets={"mon/creds": {"user": "u", "pass": "p"}})
    assert len(jobs) == len(sms) + len(pms)
    for job in jobs:
        cfg = parse_scrape_config(job, GlobalConfig(), Path("/"))
        assert cfg.job_name == job["job_name"]
        [(provider, _)] = build_discoverers(cfg.job_name, job, Path("/"))
        assert provider == "kubernetes_sd_configs/0"
