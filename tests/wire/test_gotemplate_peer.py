"""Every expectation of tests/rules/template_cases.py is what the real Go text/template gives.

promtool (Debian's prometheus package) expands the templates as alert
annotations; kubesight's engine is held to the same table by
tests/wire/test_gotemplate.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rules.promtool import expand_with_promtool
from tests.rules.template_cases import CASES, LABELS, VALUE
from tests.wire.test_gotemplate import expand_like_prometheus

pytestmark = pytest.mark.peer


def test_cases_are_what_go_gives(tmp_path: Path) -> None:
    got = expand_with_promtool(tmp_path, [t for t, _ in CASES], LABELS, VALUE)
    wrong = [(t, exp, g) for (t, exp), g in zip(CASES, got, strict=True) if g != exp]
    assert not wrong


def test_kubesight_matches_go_on_the_same_templates(tmp_path: Path) -> None:
    """Beyond the table: a few templates whose text nobody wrote down."""
    templates = [
        '{{ range $i, $x := $labels }}{{ if $i }}{{ printf "%-12s|%8.3e" $i $value }}{{ end }}{{ end }}',
        '{{ printf "%v %g %e %f %.0f %08.3f" $value $value $value $value $value $value }}',
        "{{ js $labels }} {{ html $labels.instance $value }} {{ urlquery 1 2 }}",
        '{{ $a := "x" }}{{ range $labels }}{{ $a = printf "%s%s" $a . }}{{ end }}{{ $a }}',
        "{{ print nil }}{{ print $labels.nope 1 }}",
        '{{ if and (gt $value 1e3) (ne $labels.job "") }}both{{ end }}',
        '{{ printf "%q %+q %#q %x % x %#x" "é\\t" "é" "back`tick" "hé" "hé" "hé" }}',
    ]
    go = expand_with_promtool(tmp_path, templates, LABELS, VALUE)
    assert [expand_like_prometheus(t) for t in templates] == go
