"""The ``kubesight`` command: maps flags onto the config tree, nothing else."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from kubesight import __version__
from kubesight.errors import KubesightError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kubesight",
        description="The whole Kubernetes monitoring stack in one program.",
    )
    p.add_argument("--version", action="version", version=f"kubesight {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("server", help="run the all-in-one server (APIs, store, UI)")
    s.add_argument("--config", type=Path, help="YAML config file (prometheus.yml keys accepted)")
    s.add_argument("--data-dir", type=Path, help="where data lives (default ./kubesight-data)")
    s.add_argument("--listen", help="HOST:PORT to serve on (default 127.0.0.1:9595)")
    s.add_argument("--retention", help="keep data this long, e.g. 15d, 12h (default 15d)")
    s.add_argument("--retention-size", help="and at most this much disk, e.g. 10GB (default: no limit)")
    s.add_argument("--storage.wal-fsync", dest="wal_fsync", action="store_true", default=None,
                   help="fsync the WAL on every write (survives power loss, costs throughput)")
    s.add_argument("--query.max-samples", dest="max_samples", type=int,
                   help="most samples a query may load (default 50000000)")
    s.add_argument("--query.timeout", dest="query_timeout", help="query time limit (default 2m)")
    s.add_argument("--query.lookback-delta", dest="lookback_delta", help="default 5m")
    s.add_argument("--kubernetes", dest="kubernetes", action="store_true", default=None,
                   help="watch a Kubernetes API (default: only when running inside a cluster)")
    s.add_argument("--kubernetes.api-server", dest="k8s_api_server", help="API server URL (default in-cluster)")
    s.add_argument("--kubernetes.kubeconfig", dest="k8s_kubeconfig", help="kubeconfig file")
    s.add_argument("--kubernetes.monitors", dest="k8s_monitors", action="store_true", default=None,
                   help="scrape what ServiceMonitor/PodMonitor objects select (Prometheus Operator style)")
    c = s.add_argument_group("built-in collectors (node_exporter's flags where they exist)")
    for name, job in (("host", "node"), ("containers", "cadvisor"), ("kube-state", "kube-state-metrics")):
        c.add_argument(f"--collectors.{name}", dest=f"col_{name.replace('-', '_')}",
                       action=argparse.BooleanOptionalAction, default=None,
                       help=f"collect {job} series in-process (host, containers: on; kube-state: with --kubernetes)")
    c.add_argument("--path.rootfs", dest="rootfs", help="host root filesystem (/host in a DaemonSet)")
    c.add_argument("--path.procfs", dest="procfs", help="procfs mountpoint (default /proc)")
    c.add_argument("--path.sysfs", dest="sysfs", help="sysfs mountpoint (default /sys)")
    c.add_argument("--collector.textfile.directory", dest="textfile_directory",
                   help="directory of *.prom files for the textfile collector")
    from kubesight.collect.host.options import COLLECTORS

    for name in COLLECTORS:
        c.add_argument(f"--collector.{name}", dest=f"hc_{name}", action=argparse.BooleanOptionalAction,
                       default=None, help=argparse.SUPPRESS)
    s.add_argument("--web.external-url", dest="external_url",
                   help="the URL kubesight is reached at (alerts link to it; default http://LISTEN)")
    r = s.add_argument_group("rules and alerting")
    r.add_argument("--alertmanager.config.file", dest="am_config_file",
                   help="alertmanager.yml for the built-in Alertmanager (instead of the alertmanager: key)")
    r.add_argument("--rules.defaults", dest="rules_defaults", action=argparse.BooleanOptionalAction,
                   default=None, help="evaluate the default rules kubesight ships (default: on)")
    s.add_argument("--dashboards.dir", dest="dashboards_dir", action="append", metavar="DIR",
                   help="a directory of Grafana dashboard *.json files to show, read-only (repeatable)")
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    ck = sub.add_parser("check", help="check rule files, configs and alertmanager.yml (as promtool/amtool)")
    cks = ck.add_subparsers(dest="what", required=True)
    cr = cks.add_parser("rules", help="check Prometheus rule files")
    cr.add_argument("files", nargs="+", type=Path, metavar="FILE")
    cc = cks.add_parser("config", help="check a kubesight/Prometheus config file and the rule files it names")
    cc.add_argument("file", type=Path, metavar="FILE")
    ca = cks.add_parser("alertmanager", help="check an alertmanager.yml (as amtool check-config)")
    ca.add_argument("files", nargs="+", type=Path, metavar="FILE")

    t = sub.add_parser("top", help="CPU and memory of nodes or pods, as kubectl top (through a server)")
    t.add_argument("what", choices=["nodes", "node", "no", "pods", "pod", "po"])
    t.add_argument("--url", default="http://127.0.0.1:9595", help="the kubesight server (default %(default)s)")
    t.add_argument("-n", "--namespace", help="pods of this namespace (default: default)")
    t.add_argument("-A", "--all-namespaces", action="store_true", help="pods of every namespace")
    t.add_argument("--sort-by", choices=["cpu", "memory"], help="busiest first by cpu or memory")
    t.add_argument("--window", default="1m", help="CPU is the rate over this window (default %(default)s)")
    t.add_argument("--limit", type=int, default=20,
                   help="outside Kubernetes: how many cgroups to show (0: all; default %(default)s)")
    return p


def _collector_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``--collector.X``/``--no-collector.X`` (node_exporter's) and the path flags, as config."""
    hc = {k[3:]: v for k, v in vars(args).items() if k.startswith("hc_") and v is not None}
    host: dict[str, Any] = {
        "enabled": args.col_host,
        "rootfs": args.rootfs,
        "procfs": args.procfs,
        "sysfs": args.sysfs,
        "textfile_directory": args.textfile_directory,
    }
    on, off = sorted(k for k, v in hc.items() if v), sorted(k for k, v in hc.items() if not v)
    if on:
        host["enable"] = on
    if off:
        host["disable"] = off
    return {
        "host": host,
        "containers": {"enabled": args.col_containers},
        "kube_state": {"enabled": args.col_kube_state},
    }


def _check(args: argparse.Namespace) -> int:
    """promtool's ``check rules`` / ``check config`` and amtool's ``check-config``: errors, exit 1."""
    failed = False
    if args.what == "rules":
        from kubesight.rules import check_rules, load_rule_files

        for f in args.files:
            print(f"Checking {f}")
            errors = check_rules([f])
            if errors:
                failed = True
                print("  FAILED:")
                for e in errors:
                    print(f"{e}")
            else:
                n = sum(len(g.rules) for g in load_rule_files([f]))
                print(f"  SUCCESS: {n} rules found")
            print()
    elif args.what == "config":
        from kubesight.collect.setup import check_options
        from kubesight.config import load_config
        from kubesight.errors import ConfigError
        from kubesight.rules import check_config
        from kubesight.server import alertmanager_config, parse_alert_relabel, scrape_configs

        print(f"Checking {args.file}")
        errors = check_config(args.file, parse_alert_relabel)
        try:
            cfg = load_config(args.file)
            scrape_configs(cfg)
            check_options(cfg)
            alertmanager_config(cfg)
        except ConfigError as exc:
            errors.insert(0, str(exc))
        if errors:
            failed = True
            print("  FAILED:")
            for e in errors:
                print(e)
        else:
            print(" SUCCESS: the config is valid")
    else:
        from kubesight.notify import check_config as check_am

        for f in args.files:
            print(f"Checking '{f}'")
            errors = check_am(f)
            if errors:
                failed = True
                print("  FAILED:")
                for e in errors:
                    print(e)
            else:
                print("  SUCCESS")
            print()
    return 1 if failed else 0


def _top(args: argparse.Namespace) -> int:
    from kubesight import top

    query = top.http_query(args.url)
    try:
        if args.what in ("nodes", "node", "no"):
            rows = top.nodes(query, args.window)
            if not rows:
                print("error: metrics not available yet (no node series of job=\"node\")", file=sys.stderr)
                return 1
            print(top.format_nodes(top.sort_rows(rows, args.sort_by)), end="")
            return 0
        ns = None if args.all_namespaces else (args.namespace or "default")
        rows, are_pods = top.pods(query, ns, args.window, args.limit)
    except top.TopError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not rows:
        where = "any namespace" if ns is None else f"{ns} namespace"
        print(f"No resources found in {where}.", file=sys.stderr)
        return 0
    print(top.format_pods(top.sort_rows(rows, args.sort_by), ns is None, are_pods), end="")
    return 0


def _flag_values(p: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """``kubesight server``'s flags by the names typed on the command line, as /api/v1/status/flags
    lists Prometheus' (``storage.tsdb.retention.time``, not the dest): "" where the config file decides."""
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    out: dict[str, str] = {}
    for a in sub.choices["server"]._actions:
        names = [o for o in a.option_strings if o.startswith("--") and not o.startswith("--no-")]
        if not names or a.dest == "help":
            continue
        v = getattr(args, a.dest, None)
        if isinstance(v, bool):
            text = "true" if v else "false"
        elif isinstance(v, list):
            text = ",".join(map(str, v))
        else:
            text = "" if v is None else str(v)
        out[names[0][2:]] = text
    return dict(sorted(out.items()))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check":
        return _check(args)
    if args.command == "top":
        return _top(args)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every request at INFO: one line per scrape is noise, not news.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.command == "server":
        from kubesight.config import load_config
        from kubesight.server import run

        overrides: dict[str, Any] = {
            "server": {"data_dir": args.data_dir, "listen": args.listen, "external_url": args.external_url},
            "storage": {
                "retention": args.retention,
                "retention_size": args.retention_size,
                "wal_fsync": args.wal_fsync,
            },
            "kubernetes": {
                "enabled": args.kubernetes,
                "api_server": args.k8s_api_server,
                "kubeconfig": args.k8s_kubeconfig,
                "monitors": args.k8s_monitors,
            },
            "collectors": _collector_overrides(args),
            "default_rules": {"enabled": args.rules_defaults},
            "query": {
                "max_samples": args.max_samples,
                "timeout": args.query_timeout,
                "lookback_delta": args.lookback_delta,
            },
        }
        if args.dashboards_dir:
            # Paths on the command line are relative to where the command runs.
            overrides["dashboards"] = {"dirs": [str(Path(d).resolve()) for d in args.dashboards_dir]}
        if args.am_config_file is not None:
            # A path given on the command line is relative to where the command runs.
            overrides["alertmanager_config_file"] = str(Path(args.am_config_file).resolve())
        flags = _flag_values(_parser(), args)
        try:
            cfg = load_config(args.config, overrides)
            run(cfg, flags, reload_config=lambda: load_config(args.config, overrides))
        except KubesightError as exc:
            print(f"kubesight: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
