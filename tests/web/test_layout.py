"""The page shell: module preloads, and every relative import in the static JS resolves."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from kubesight.web.layout import NAV, module_graph, page

STATIC = Path(str(resources.files("kubesight.web") / "static"))
PAGES = sorted(p.stem for p in (STATIC / "js" / "pages").glob("*.js"))


def test_every_relative_import_names_a_file() -> None:
    spec = re.compile(r"""(?:import|export)\s*(?:[\w*{}\s,$]*?\s*from\s*)?["'](\.{1,2}/[^"']+)["']""")
    missing = [f"{js.relative_to(STATIC)}: {s}" for js in STATIC.rglob("js/**/*.js")
               for s in spec.findall(js.read_text()) if not (js.parent / s).resolve().is_file()]
    assert not missing


def test_preloads_are_the_whole_import_graph() -> None:
    graph = module_graph("js/pages/dashboard.js")
    assert graph[0] == "js/core.js"
    assert {"js/chart.js", "js/units.js", "js/timepicker.js", "js/dashboard/panels.js"} <= set(graph)
    assert len(graph) == len(set(graph)) and "js/pages/dashboard.js" not in graph
    for name in PAGES:
        g = module_graph(f"js/pages/{name}.js")
        assert "js/core.js" in g, name
        assert all((STATIC / d).is_file() for d in g), name
    html = page("Dashboards", "/dashboards", "dashboard")
    assert html.count('rel="modulepreload"') == len(graph)


def test_navigation_marks_where_you_are() -> None:
    html = page("Targets", "/targets", "targets")
    assert '<a href="/targets" class="active" aria-current="page">' in html
    assert '<summary class="active">Status</summary>' in html  # the folded menu says you are in it
    assert all(f'href="{n.path}"' in html for n in NAV)
    # page data cannot close its script element
    assert "</script><script>" not in page("x", "/", "setup", {"s": "</script><script>alert(1)"})
