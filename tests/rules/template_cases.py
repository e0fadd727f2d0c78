"""Templates with the text Go's text/template gives for them.

Each case runs on Prometheus' alert template data (``$labels``, ``$value``...)
so that tests/wire/test_gotemplate_peer.py can check every expectation against
the real Go implementation through ``promtool test rules``, while
tests/wire/test_gotemplate.py checks kubesight's engine against the same text.
An expectation starting with ``ERROR:`` is the error Go reports; execution
errors count columns from the start of Prometheus' text, which puts 112
characters of ``{{$labels := .Labels}}``... definitions before the template.
"""

from __future__ import annotations

LABELS = {"instance": "node-1:9100", "job": "node", "severity": "warning", "empty_ok": "x"}
VALUE = 1234567.0

CASES: list[tuple[str, str]] = [
    # printing values
    ("{{ $value }}", "1.234567e+06"),
    ("{{ 100000.0 }} {{ 1e6 }} {{ 0.5 }} {{ 0.0001 }} {{ 0.00001 }} {{ 3 }} {{ -2 }}",
     "100000 1e+06 0.5 0.0001 1e-05 3 -2"),
    ("{{ 0x1F }} {{ 0o17 }} {{ 1_000 }} {{ 'a' }} {{ 1.5e3 }}", "31 15 1000 97 1500"),
    ("{{ true }} {{ false }} {{ \"s\" }} {{ `raw\\n` }}", "true false s raw\\n"),
    ('{{ "tab\\tq\\"\\u00e9\\x41" }}', 'tab\tq"éA'),
    ("{{ $labels.job }}|{{ $labels.nope }}|{{ .Labels.instance }}", "node||node-1:9100"),
    ("{{ $labels }}", "map[empty_ok:x instance:node-1:9100 job:node severity:warning]"),
    # trim markers and comments
    ("a  {{- 1 -}}  b", "a1b"),
    ("a {{/* comment */}} b", "a  b"),
    ("a {{- /* comment */ -}} b", "ab"),
    ("x\n  {{- $labels.job }}\n", "xnode\n"),
    ("{{ -1 }}", "-1"),
    # pipelines and variables
    ('{{ $labels.job | printf "%s!" | printf "[%s]" }}', "[node!]"),
    ("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"),
    ("{{ $x := $labels.job }}{{ if true }}{{ $x := 5 }}{{ $x }}{{ end }}{{ $x }}", "5node"),
    ("{{ (printf \"%d\" 3) }}", "3"),
    # if / else if / with / range
    ('{{ if eq $labels.job "node" }}yes{{ else }}no{{ end }}', "yes"),
    ('{{ if eq $labels.job "a" "b" "node" }}one of{{ end }}', "one of"),
    ('{{ if ne $labels.job "node" }}a{{ else if eq $labels.severity "warning" }}b{{ else }}c{{ end }}', "b"),
    ("{{ if gt $value 1000.0 }}big{{ end }}", "big"),
    ("{{ if lt 1 2 }}lt{{ end }} {{ if le 2 2 }}le{{ end }} {{ if ge \"b\" \"a\" }}ge{{ end }}", "lt le ge"),
    ("{{ if and $labels.job $labels.nope }}a{{ else }}b{{ end }}", "b"),
    ("{{ or $labels.nope \"default\" }} {{ and 1 0 }} {{ not \"\" }}", "default 0 true"),
    ("{{ with $labels.job }}job={{ . }}{{ end }}{{ with $labels.nope }}x{{ else }}none{{ end }}", "job=nodenone"),
    ("{{ with $j := $labels.job }}{{ $j }}{{ end }}", "node"),
    ("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
     "empty_ok=x;instance=node-1:9100;job=node;severity=warning;"),
    ("{{ range $labels }}{{ . }},{{ end }}", "x,node-1:9100,node,warning,"),
    ("{{ range $v := $labels }}{{ $v }},{{ end }}", "x,node-1:9100,node,warning,"),
    ("{{ range $k, $v := $labels }}{{ if eq $k \"job\" }}{{ break }}{{ end }}{{ $k }} {{ end }}", "empty_ok instance "),
    ("{{ range $k, $v := $labels }}{{ if eq $k \"job\" }}{{ continue }}{{ end }}{{ $k }} {{ end }}",
     "empty_ok instance severity "),
    ("{{ range $externalLabels }}x{{ else }}no external labels{{ end }}", "no external labels"),
    # define / template / block
    ('{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" $labels.job }}{{ template "t" }}', "[node][<no value>]"),
    ('{{ block "b" $labels.severity }}<{{ . }}>{{ end }}', "<warning>"),
    # builtins
    ('{{ index $labels "job" }}|{{ index $labels "nope" }}', "node|"),
    ('{{ len "héllo" }}', "6"),
    ('{{ print 1 2 "a" 3 "b" "c" }}', "1 2a3bc"),
    ('{{ println "a" 1 }}', "a 1\n"),
    ('{{ html "<a href=\\"x\\">&\'" }}', "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"),
    ('{{ js "a=b<c>\'\\"\\\\&\\n" }}', "a\\u003Db\\u003Cc\\u003E\\'\\\"\\\\\\u0026\\u000A"),
    ('{{ urlquery "a b&c=d/é" }}', "a+b%26c%3Dd%2F%C3%A9"),
    ('{{ slice "abcdef" 1 3 }}', "bc"),
    # printf verbs
    ('{{ printf "%5.2f|%-5d|%05d|%x|%X|%o|%b|%c" 3.14159 42 42 255 255 8 5 65 }}', " 3.14|42   |00042|ff|FF|10|101|A"),
    ('{{ printf "%s|%q|%v|%10s|%-10s|%.2s" "a" "b\\n" "c" "right" "left" "trunc" }}',
     'a|"b\\n"|c|     right|left      |tr'),
    ('{{ printf "%g|%e|%.3g|%G|%.1e|%8.3f|%+d|%+.1f" 1e21 123456.789 3.14159 1e-7 12345.0 3.14159 5 2.0 }}',
     "1e+21|1.234568e+05|3.14|1E-07|1.2e+04|   3.142|+5|+2.0"),
    ('{{ printf "%v %v %v %v" 1.0 0.1 100.0 1e100 }}', "1 0.1 100 1e+100"),
    ('{{ printf "%d" "x" }}|{{ printf "%d" }}|{{ printf "x" 1 }}|{{ printf "%s" 1 }}',
     "%!d(string=x)|%!d(MISSING)|x%!(EXTRA int=1)|%!s(int=1)"),
    ('{{ printf "%t %v %d%%" true false 50 }}', "true false 50%"),
    ('{{ printf "%x %X" "hi" "hi" }}', "6869 6869"),
    ('{{ printf "%6.2f%%" 12.3456 }}', " 12.35%"),
    ('{{ printf "%T %T %T %T" 1 1.0 "s" true }}', "int float64 string bool"),
    ('{{ printf "%q" 65 }}', "'A'"),
    ('{{ printf "%*d|%-*d|" 4 7 3 8 }}', "   7|8  |"),
    # execution errors, worded and positioned as Go does
    ("{{ if gt $value 0 }}yes{{ end }}",
     'ERROR:template: __alert_T:1:118: executing "__alert_T" at <gt $value 0>: error calling gt: incompatible types for comparison'),
    ('{{ index $labels "job" "x" }}',
     'ERROR:template: __alert_T:1:115: executing "__alert_T" at <index $labels "job" "x">: error calling index: cannot index slice/array with type string'),
    ('{{ len 3 }}', 'ERROR:template: __alert_T:1:115: executing "__alert_T" at <len 3>: error calling len: len of type int'),
    ('{{ template "nope" }}', 'ERROR:template: __alert_T:1:124: executing "__alert_T" at <{{template "nope"}}>: template "nope" not defined'),
    ('x\n{{ $labels.job.x }}', "ERROR:template: __alert_T:2:10: executing \"__alert_T\" at <$labels.job.x>: can't evaluate field x in type string"),
    ('{{ 1 2 }}', 'ERROR:template: __alert_T:1:115: executing "__alert_T" at <1>: can\'t give argument to non-function 1'),
    ('{{ range 1.5 }}{{ end }}', "ERROR:template: __alert_T:1:121: executing \"__alert_T\" at <1.5>: range can't iterate over 1.5"),
    # parse errors
    ("{{ nosuch }}", 'ERROR:template: __alert_T:1: function "nosuch" not defined'),
    ("{{ if true }}", "ERROR:template: __alert_T:1: unexpected EOF"),
    ("a\n{{ end }}", "ERROR:template: __alert_T:2: unexpected {{end}}"),
    ("{{ $undefined }}", 'ERROR:template: __alert_T:1: undefined variable "$undefined"'),
    ("{{ 1 | 2 }}", "ERROR:template: __alert_T:1: non executable command in pipeline stage 2"),
    ("{{ if }}{{ end }}", "ERROR:template: __alert_T:1: missing value for if"),
    ("{{ .a", "ERROR:template: __alert_T:1: unclosed action"),
    ("{{ \"abc }}", "ERROR:template: __alert_T:1: unterminated quoted string"),
    ("{{ /* x */ }}", "ERROR:template: __alert_T:1: unexpected \"/\" in command"),
    ("{{ break }}", "ERROR:template: __alert_T:1: {{break}} outside {{range}}"),
    ("{{ (1 }}", "ERROR:template: __alert_T:1: unclosed left paren"),
    ("{{ 1) }}", 'ERROR:template: __alert_T:1: unexpected ")" in command'),
    ("{{ $x := 1 }}{{ $x }} {{ $x := 2 }}{{ $x }}", "1 2"),
    ("{{ $x := 1 }}{{ range $labels }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"),
    ("a\n  {{- if true -}}\n  b\n  {{- else -}}\n  c\n  {{- end -}}\n  d", "abd"),
    ('{{ define "a" }}A{{ template "b" . }}{{ end }}{{ define "b" }}B{{ . }}{{ end }}{{ template "a" 1 }}', "AB1"),
    ('{{ printf "%v|%6.2v|%-8v|%08.3f|%+.2e|%x" 3.14159 2.5 "ab" -3.14159 12345.678 -255 }}',
     "3.14159|   2.5|ab      |-003.142|+1.23e+04|-ff"),
    ('{{ printf "%s %d" }} {{ printf "%z" 1 }} {{ printf "%" }} {{ printf "%d %d" 1 }}',
     "%!s(MISSING) %!d(MISSING) %!z(int=1) %!(NOVERB) 1 %!d(MISSING)"),
    ('{{ print 1.0 2.5 1e21 1e-7 }} {{ print true nil }}', "1 2.5 1e+21 1e-07 true <nil>"),
    ('{{ printf "%d" 3.0 }} {{ printf "%s" true }} {{ printf "%x" 3.5 }}', "%!d(float64=3) %!s(bool=true) 0x1.cp+01"),
    ('{{ printf "%05s|%.0f|%.0f|%.0f" "ab" 0.5 1.5 2.5 }}', "000ab|0|2|2"),
    ("{{ not 1 2 }}", 'ERROR:template: __alert_T:1:115: executing "__alert_T" at <not>: wrong number of args for '
     "not: want 1 got 2"),
    ("{{ 1e400 }}", 'ERROR:template: __alert_T:1: illegal number syntax: "1e400"'),
    ("{{ 9223372036854775808 }}", 'ERROR:template: __alert_T:1:115: executing "__alert_T" at '
     "<9223372036854775808>: 9223372036854775808 overflows int"),
    ('{{ eq "a" 1 }}', 'ERROR:template: __alert_T:1:115: executing "__alert_T" at <eq "a" 1>: error calling eq: '
     "incompatible types for comparison"),
]
