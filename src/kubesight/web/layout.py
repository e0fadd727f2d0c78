"""The page shell every UI page shares: head, navigation, theme and the page's bootstrap data.

Pages are rendered here on the server; each names one ES module under
``static/js/pages/`` that draws its content from the Prometheus-compatible API.
The shell works without JavaScript far enough to show where you are and the
navigation; the module replaces the ``<noscript>`` note.
"""

from __future__ import annotations

import hashlib
import html
import posixpath
import re
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import orjson

from kubesight import __version__


class NavItem(NamedTuple):
    path: str
    title: str
    group: str


NAV: tuple[NavItem, ...] = (
    NavItem("/dashboards", "Dashboards", "main"),
    NavItem("/graph", "Explore", "main"),
    NavItem("/alerts", "Alerts", "main"),
    NavItem("/targets", "Targets", "status"),
    NavItem("/service-discovery", "Service discovery", "status"),
    NavItem("/rules", "Rules", "status"),
    NavItem("/silences", "Silences", "status"),
    NavItem("/tsdb-status", "TSDB status", "status"),
    NavItem("/config", "Configuration", "status"),
    NavItem("/flags", "Flags", "status"),
    NavItem("/setup", "Connect", "status"),
)


@cache
def asset_version() -> str:
    """A hash of every static file: part of asset URLs so a new release is never served stale."""
    h = hashlib.sha256(__version__.encode())
    root = resources.files("kubesight.web") / "static"
    stack = [root]
    while stack:
        d = stack.pop()
        for entry in sorted(d.iterdir(), key=lambda e: e.name):
            if entry.is_dir():
                stack.append(entry)
            else:
                h.update(entry.name.encode())
                h.update(entry.read_bytes())
    return h.hexdigest()[:12]


def static_url(path: str) -> str:
    return f"/static/{asset_version()}/{path}"


# Static imports and re-exports with a relative specifier: `import {a} from "../core.js"`, `import "./x.js"`.
_IMPORT = re.compile(r"""(?:^|[;\n])\s*(?:import|export)\s*(?:[\w*{}\s,$]*?\s*from\s*)?["'](\.{1,2}/[^"']+)["']""")


@cache
def module_graph(entry: str) -> tuple[str, ...]:
    """Every module ``entry`` (a path under static/) imports, directly or not, in the order found.

    The page lists them as ``modulepreload`` links: the browser then fetches the
    whole graph at once instead of one level of imports per round trip.
    """
    root = resources.files("kubesight.web") / "static"
    seen: dict[str, None] = {}
    todo = [entry]
    while todo:
        path = todo.pop(0)
        try:
            text = (root / path).read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            continue
        for spec in _IMPORT.findall(text):
            dep = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
            if dep not in seen and dep != entry:
                seen[dep] = None
                todo.append(dep)
    return tuple(seen)


def _nav(active: str) -> str:
    def item(n: NavItem) -> str:
        cls = ' class="active" aria-current="page"' if n.path == active else ""
        return f'<a href="{n.path}"{cls}>{html.escape(n.title)}</a>'

    main = "".join(item(n) for n in NAV if n.group == "main")
    status = "".join(item(n) for n in NAV if n.group == "status")
    here = ' class="active"' if any(n.path == active for n in NAV if n.group == "status") else ""
    return (
        f'<nav class="ks-nav" aria-label="main">{main}'
        f'<details class="ks-status"><summary{here}>Status</summary><div class="ks-menu">{status}</div></details>'
        f"</nav>"
    )


def page(title: str, active: str, module: str, data: Any = None, *, timepicker: bool = False,
         body: str = "") -> str:
    """One page: ``module`` is the script under static/js/pages/ that renders ``#ks-page``.

    ``data`` is handed to the module as JSON (no second request for what the
    server already knows); ``timepicker`` shows the shared time range and
    refresh controls in the header.
    """
    boot = orjson.dumps(data).decode().replace("</", "<\\/") if data is not None else "null"
    preload = "\n".join(f'<link rel="modulepreload" href="{static_url(d)}">'
                        for d in module_graph(f"js/pages/{module}.js"))
    tools = '<div id="ks-timepicker" class="ks-tools"></div>' if timepicker else '<div class="ks-tools"></div>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(title)} · kubesight</title>
<link rel="icon" href="{static_url('img/icon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="{static_url('vendor/uplot-1.6.32/uPlot.min.css')}">
<link rel="stylesheet" href="{static_url('css/kubesight.css')}">
<script>document.documentElement.dataset.theme=localStorage.getItem("ks-theme")||(matchMedia("(prefers-color-scheme: dark)").matches?"dark":"light")</script>
<script src="{static_url('vendor/uplot-1.6.32/uPlot.iife.min.js')}"></script>
<script type="module" src="{static_url('js/pages/' + module + '.js')}"></script>
{preload}
</head><body>
<header class="ks-header">
<a class="ks-brand" href="/">kubesight</a>
<button class="ks-burger" type="button" aria-label="menu" aria-expanded="false">☰</button>
{_nav(active)}
{tools}
<button id="ks-theme" class="ks-icon-btn" type="button" title="Switch dark/light theme" aria-label="theme">◐</button>
</header>
<main id="ks-page" data-page="{html.escape(module)}" data-version="{__version__}">{body}
<noscript><p class="ks-error">This page needs JavaScript to draw its content.</p></noscript>
</main>
<script type="application/json" id="ks-data">{boot}</script>
</body></html>"""
