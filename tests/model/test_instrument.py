from __future__ import annotations

from kubesight.model.instrument import Registry


def test_exposition_text_exact() -> None:
    r = Registry()
    c = r.counter("reqs_total", "Requests.", ["code"])
    c.inc(2, "200")
    c.inc(1, "500")
    h = r.histogram("lat_seconds", "Latency.", ["h"], buckets=(0.1, 1.0))
    h.observe(0.05, "/x")
    h.observe(0.5, "/x")
    h.observe(5, "/x")
    r.gauge("g", "A gauge.", lambda: 1.5)
    assert r.render() == (
        "# HELP reqs_total Requests.\n# TYPE reqs_total counter\n"
        'reqs_total{code="200"} 2\nreqs_total{code="500"} 1\n'
        "# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n"
        'lat_seconds_bucket{h="/x",le="0.1"} 1\nlat_seconds_bucket{h="/x",le="1"} 2\n'
        'lat_seconds_bucket{h="/x",le="+Inf"} 3\nlat_seconds_sum{h="/x"} 5.55\nlat_seconds_count{h="/x"} 3\n'
        "# HELP g A gauge.\n# TYPE g gauge\ng 1.5\n"
    )
