"""Syntax errors worded and positioned as Prometheus words them.

The table is the spec: each query promql-parser rejects, with the message
Prometheus answers after ``invalid parameter "query": ``. The messages were
recorded from the real Prometheus (Debian's 2.42, /api/v1/query) and are
re-checked against it by the peer test below. Where Prometheus 3.x words an
error differently, the table holds the 3.x message and
``PROMETHEUS_2_42`` the one the Debian package answers (docs/promql.md,
compatibility notes).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import promql_parser
import pytest

from kubesight.promql.engine import parse
from kubesight.promql.errors import BadDataError
from kubesight.promql.syntax_errors import locate
from tests.peers import prometheus as run_prometheus

CASES: list[tuple[str, str]] = [
    ('sum(rate(x[5m])', '1:16: parse error: unclosed left parenthesis'),
    ('foo{', '1:5: parse error: unexpected end of input inside braces'),
    ('1 +', '1:4: parse error: unexpected end of input'),
    ('up[5m', '1:6: parse error: unclosed left bracket'),
    ('sum by (a b) (x)', '1:11: parse error: unexpected identifier "b" in grouping opts, expected "," or ")"'),
    ('x +* y', '1:4: parse error: unexpected <op:*>'),
    ('rate(x)', '1:6: parse error: expected type range vector in call to function "rate", got instant vector'),
    ('foo bar', '1:5: parse error: unexpected identifier "bar"'),
    ('{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'),
    ('x[5x]', '1:3: parse error: bad number or duration syntax: "5"'),
    ('sum(x) by', '1:10: parse error: unexpected end of input in grouping opts, expected "("'),
    ('count_values(x)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1'),
    ('x offset', '1:9: parse error: unexpected end of input in offset, expected number, duration, step(), or range()'),
    ('a{b=~"("}', '1:3: parse error: error parsing regexp: missing closing ): `^(?:()$`'),
    ('abs(x, y)', '1:1: parse error: expected 1 argument(s) in call to "abs", got 2'),
    (')', "1:2: parse error: unexpected right parenthesis ')'"),
    ('"abc', '1:1: parse error: unterminated quoted string'),
    ("'abc", '1:1: parse error: unterminated quoted string'),
    ('`abc', '1:1: parse error: unterminated raw string'),
    ('foo{a="b', '1:7: parse error: unterminated quoted string'),
    ('foo{a="\\q"}', "1:7: parse error: unknown escape sequence U+0071 'q'"),
    ('"\\x4"', '1:1: parse error: illegal character U+0022 \'"\' in escape sequence'),
    ('"\\u12"', '1:1: parse error: illegal character U+0022 \'"\' in escape sequence'),
    ('"\\xZZ"', "1:1: parse error: illegal character U+005A 'Z' in escape sequence"),
    ('"\\400"', '1:1: parse error: escape sequence is an invalid Unicode code point'),
    ('"\\ud800"', '1:1: parse error: escape sequence is an invalid Unicode code point'),
    ('"ab\ncd"', '1:1: parse error: unterminated quoted string'),
    ('1.5.5', '1:4: parse error: unexpected number ".5"'),
    ('0x', '1:1: parse error: error parsing number: strconv.ParseFloat: parsing "0x": invalid syntax'),
    ('5mm', '1:1: parse error: bad number or duration syntax: "5mm"'),
    ('1e', '1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e": invalid syntax'),
    ('x[-5m]', '1:3: parse error: duration must be greater than 0'),
    ('x[5m:1m:2m]', "1:8: parse error: unexpected colon ':'"),
    ('x[[5m]]', "1:3: parse error: unexpected character in duration expression: '['"),
    ('x]', "1:2: parse error: unexpected right bracket ']'"),
    ('$x', "1:1: parse error: unexpected character: '$'"),
    ('x ; y', "1:3: parse error: unexpected character: ';'"),
    ('x=~y', "1:2: parse error: unexpected character after '=': '~'"),
    ('x!y', "1:2: parse error: unexpected character after '!': 'y'"),
    ('foo{a!b="c"}', "1:6: parse error: unexpected character after '!' inside braces: 'b'"),
    ('foo{a=1}', "1:7: parse error: unexpected character inside braces: '1'"),
    ('foo{{a="b"}}', "1:5: parse error: unexpected left brace '{'"),
    ('foo{a="b"', '1:10: parse error: unexpected end of input inside braces'),
    ('foo{a="b",,}', '1:11: parse error: unexpected "," in label matching, expected identifier or "}"'),
    ('foo{a}', '1:6: parse error: unexpected "}" in label matching, expected label matching operator'),
    ('foo{a=}', '1:7: parse error: unexpected "}" in label matching, expected string'),
    ('foo{a="b" c="d"}', '1:11: parse error: unexpected identifier "c" in label matching, expected "," or "}"'),
    ('foo{,}', '1:5: parse error: unexpected "," in label matching, expected identifier or "}"'),
    ('{a=""}', '1:1: parse error: vector selector must contain at least one non-empty matcher'),
    ('{a=~".*"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'),
    ('{a!="x"}', '1:1: parse error: vector selector must contain at least one non-empty matcher'),
    ('foo{__name__="bar"}', '1:1: parse error: metric name must not be set twice: "foo" or "bar"'),
    ('foo{a=~"*"}', '1:5: parse error: error parsing regexp: missing argument to repetition operator: `*`'),
    ('foo{a=~"[a"}', '1:5: parse error: error parsing regexp: missing closing ]: `[a)$`'),
    ('foo{a=~"a)"}', '1:5: parse error: error parsing regexp: unexpected ): `^(?:a))$`'),
    ('sum x', '1:5: parse error: unexpected identifier "x"'),
    ('sum()', '1:1: parse error: no arguments for aggregate expression provided'),
    ('sum(x, y)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2'),
    ('topk(x)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1'),
    ('topk(3, x, y)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 3'),
    ('sum(x) by (', '1:12: parse error: unclosed left parenthesis'),
    ('sum(x) by (a,', '1:14: parse error: unclosed left parenthesis'),
    ('sum by (1) (x)', '1:9: parse error: unexpected number "1" in grouping opts, expected label'),
    ('sum by (a,,b) (x)', '1:11: parse error: unexpected "," in grouping opts, expected label'),
    ('sum without x', '1:13: parse error: unexpected identifier "x" in grouping opts, expected "("'),
    ('sum(x) without (a) (y)', '1:20: parse error: unexpected "("'),
    ('sum by (a)', '1:11: parse error: unexpected end of input in aggregation'),
    ('sum by (a) x', '1:12: parse error: unexpected identifier "x" in aggregation'),
    ('topk("a", x)', '1:6: parse error: expected type scalar in aggregation parameter, got string'),
    ('count_values(3, x)', '1:14: parse error: expected type string in aggregation parameter, got scalar'),
    ('sum(1 +)', '1:8: parse error: unexpected ")" in aggregation'),
    ('sum(x y)', '1:7: parse error: unexpected identifier "y" in aggregation'),
    ('sum(rate(x y))', '1:12: parse error: unexpected identifier "y" in aggregation'),
    ('sum(x[5m])', '1:5: parse error: expected type instant vector in aggregation expression, got range vector'),
    ('quantile(x, 0.5)', '1:13: parse error: expected type instant vector in aggregation expression, got scalar'),
    ('sum by (foo:bar) (x)', '1:9: parse error: unexpected metric identifier "foo:bar" in grouping opts, expected label'),
    ('1 == 1', '1:3: parse error: comparisons between scalars must use BOOL modifier'),
    ('1 + bool 2', '1:3: parse error: bool modifier can only be used on comparison operators'),
    ('x + bool y', '1:3: parse error: bool modifier can only be used on comparison operators'),
    ('x and 1', '1:1: parse error: set operator "and" not allowed in binary scalar expression'),
    ('1 and x', '1:1: parse error: set operator "and" not allowed in binary scalar expression'),
    ('x and on(a) group_left y', '1:1: parse error: no grouping allowed for "and" operation'),
    ('x + on(a) group_left(a) y', '1:3: parse error: label "a" must not occur in ON and GROUP clause at once'),
    ('x + on(a) 1', '1:1: parse error: vector matching only allowed between instant vectors'),
    ('x + on (a', '1:10: parse error: unclosed left parenthesis'),
    ('x + on a', '1:8: parse error: unexpected identifier "a" in grouping opts, expected "("'),
    ('x + ignoring(a) group_left(b', '1:29: parse error: unclosed left parenthesis'),
    ('x[5m] + y', '1:1: parse error: binary expression must contain only scalar and instant vector types'),
    ('x + y[5m]', '1:5: parse error: binary expression must contain only scalar and instant vector types'),
    ('"a" + 1', '1:1: parse error: binary expression must contain only scalar and instant vector types'),
    ('x + ', '1:5: parse error: unexpected end of input'),
    ('* x', '1:1: parse error: unexpected <op:*>'),
    ('x +', '1:4: parse error: unexpected end of input'),
    ('x and', '1:6: parse error: unexpected end of input'),
    ('x or or y', '1:9: parse error: unexpected identifier "y"'),
    ('1 < bool', '1:9: parse error: unexpected end of input'),
    ('-"a"', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'),
    ('-x[5m]', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"'),
    ('x == bool on(a) y[1m]', '1:17: parse error: binary expression must contain only scalar and instant vector types'),
    ('x offset 5m offset 1m', '1:1: parse error: offset may not be set multiple times'),
    ('rate(x offset 5m[5m])', '1:17: parse error: no offset modifiers allowed before range'),
    ('1 offset 5m', '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'),
    ('x offset -', '1:11: parse error: unexpected end of input in offset, expected number, duration, step(), or range()'),
    ('sum(x) offset 5m', '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery'),
    ('x @', '1:4: parse error: unexpected end of input in @, expected timestamp'),
    ('x @ "a"', '1:5: parse error: unexpected string "\\"a\\"" in @, expected timestamp'),
    ('x @ start(', '1:11: parse error: unclosed left parenthesis'),
    ('x @ start', '1:10: parse error: unexpected end of input in @, expected timestamp'),
    ('x @ 100 @ 200', '1:1: parse error: @ <timestamp> may not be set multiple times'),
    ('x @ 100[5m]', '1:8: parse error: no @ modifiers allowed before range'),
    ('1 @ 100', '1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery'),
    ('x @ Inf', '1:1: parse error: timestamp out of bounds for @ modifier: +Inf'),
    ('x @ NaN', '1:1: parse error: timestamp out of bounds for @ modifier: NaN'),
    ('x @ -Inf', '1:1: parse error: timestamp out of bounds for @ modifier: -Inf'),
    ('rate(x[5m]) @ 100', '1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery'),
    ('x[5m:', '1:6: parse error: unclosed left bracket'),
    ('x[5m:1m', '1:8: parse error: unclosed left bracket'),
    ('x[5m 1m]', '1:6: parse error: unexpected duration "1m" in subquery or range, expected ":" or "]"'),
    ('x[5m:1m 2m]', '1:9: parse error: unexpected duration "2m" in subquery selector, expected "]"'),
    ('rate(x)[5m]', '1:8: parse error: ranges only allowed for vector selectors'),
    ('rate(x[5m])[5m:1m:]', "1:18: parse error: unexpected colon ':'"),
    ('x[5m][5m]', '1:6: parse error: ranges only allowed for vector selectors'),
    ('x[5m:1m][1m]', '1:9: parse error: ranges only allowed for vector selectors'),
    ('x[0s]', '1:3: parse error: duration must be greater than 0'),
    ('x[5m:0s]', '1:6: parse error: duration must be greater than 0'),
    ('x[1h30]', '1:3: parse error: bad number or duration syntax: "1h30"'),
    ('x[5hs]', '1:3: parse error: not a valid duration string: "5hs"'),
    ('x[1m1h]', '1:3: parse error: not a valid duration string: "1m1h"'),
    ('x[]', '1:3: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), or range()'),
    ('x[:]', '1:4: parse error: unexpected colon before duration in duration expression'),
    ('x[5m', '1:5: parse error: unclosed left bracket'),
    ('(x)[5m]', '1:4: parse error: ranges only allowed for vector selectors'),
    ('"a"[5m:1m]', '1:1: parse error: subquery is only allowed on instant vector, got string instead'),
    ('foo()', '1:1: parse error: unknown function with name "foo"'),
    ('foo(x)', '1:1: parse error: unknown function with name "foo"'),
    ('rate()', '1:1: parse error: expected 1 argument(s) in call to "rate", got 0'),
    ('rate(x[5m],)', '1:11: parse error: trailing commas not allowed in function call args'),
    ('rate(x[5m], y)', '1:1: parse error: expected 1 argument(s) in call to "rate", got 2'),
    ('round()', '1:1: parse error: expected at least 1 argument(s) in call to "round", got 0'),
    ('round(x, 1, 2)', '1:1: parse error: expected at most 2 argument(s) in call to "round", got 3'),
    ('label_join(x)', '1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 1'),
    ('label_replace(x, "a", "b", "c", 1)', '1:33: parse error: expected type string in call to function "label_replace", got scalar'),
    ('vector(x)', '1:8: parse error: expected type scalar in call to function "vector", got instant vector'),
    ('time(1)', '1:1: parse error: expected 0 argument(s) in call to "time", got 1'),
    ('abs(1)', '1:5: parse error: expected type instant vector in call to function "abs", got scalar'),
    ('histogram_quantile(x, y)', '1:20: parse error: expected type scalar in call to function "histogram_quantile", got instant vector'),
    ('clamp(x, 1)', '1:1: parse error: expected 3 argument(s) in call to "clamp", got 2'),
    ('rate(,)', '1:6: parse error: unexpected ","'),
    ('rate(x[5m]', '1:11: parse error: unclosed left parenthesis'),
    ('day_of_month(x, y)', '1:1: parse error: expected at most 1 argument(s) in call to "day_of_month", got 2'),
    ('scalar(x)[5m:1m]', '1:1: parse error: subquery is only allowed on instant vector, got scalar instead'),
    ('abs("a")', '1:5: parse error: expected type instant vector in call to function "abs", got string'),
    ('count_over_time(1[5m:1m])', '1:17: parse error: subquery is only allowed on instant vector, got scalar instead'),
    ('absent(nonexistent{job="myjob"}[5m])', '1:8: parse error: expected type instant vector in call to function "absent", got range vector'),
    ('sum(\n  rate(x[5m])\n', '3:1: parse error: unclosed left parenthesis'),
    ('x\n+\n)', "3:2: parse error: unexpected right parenthesis ')'"),
    ('foo{\n  a="b",\n  c\n}', '4:1: parse error: unexpected "}" in label matching, expected label matching operator'),
    ('x +\n  # comment\n  * y', '3:3: parse error: unexpected <op:*>'),
    ('rate(\n x\n)', '2:2: parse error: expected type range vector in call to function "rate", got instant vector'),
    ('# only a comment', '1:1: parse error: no expression found in input'),
    ('', '1:1: parse error: no expression found in input'),
    ('   ', '1:1: parse error: no expression found in input'),
    ('x # c\n y', '2:2: parse error: unexpected identifier "y"'),
    ('sum by (a)\n(x) by (b)', '2:5: parse error: unexpected <by>'),
    ('\n\n{}', '3:1: parse error: vector selector must contain at least one non-empty matcher'),
    ('offset{a="b"} +', '1:16: parse error: unexpected end of input'),
    ('by +', '1:5: parse error: unexpected end of input'),
    ('x + on(a) group_left', '1:21: parse error: unexpected end of input in grouping opts, expected "("'),
    ('x + on(a) group_right(b) y +', '1:29: parse error: unexpected end of input'),
    ('x + ignoring(a) group_left(a', '1:29: parse error: unclosed left parenthesis'),
    ('x + bool', '1:9: parse error: unexpected end of input'),
    ('x == bool', '1:10: parse error: unexpected end of input'),
    ('sum(x) by (a) by (b)', '1:15: parse error: unexpected <by>'),
    ('sum without (a) (x) without (b)', '1:21: parse error: unexpected <without>'),
    ('avg by (a) (x, y)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2'),
    ('sum(x) by (a b)', '1:14: parse error: unexpected identifier "b" in grouping opts, expected "," or ")"'),
    ('topk(3)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1'),
    ('x @ start() @ end()', '1:1: parse error: @ <timestamp> may not be set multiple times'),
    ('x @ end(', '1:9: parse error: unclosed left parenthesis'),
    ('x @ +', '1:6: parse error: unexpected end of input in @, expected timestamp'),
    ('x @ 1e999', '1:5: parse error: error parsing number: strconv.ParseFloat: parsing "1e999": value out of range'),
    ('x offset 5m @ 100[1m]', '1:18: parse error: no offset modifiers allowed before range'),
    ('x[5m] offset 1m offset 2m', '1:1: parse error: offset may not be set multiple times'),
    ('0xg', '1:1: parse error: bad number or duration syntax: "0x"'),
    ('1.5e+', '1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1.5e+": invalid syntax'),
    ('.5.5', '1:3: parse error: unexpected number ".5"'),
    ('3 x', '1:3: parse error: unexpected identifier "x"'),
    ('x 3', '1:3: parse error: unexpected number "3"'),
    ('"a" "b"', '1:5: parse error: unexpected string "\\"b\\""'),
    ('x{a="é"} +', '1:12: parse error: unexpected end of input'),
    ('é', "1:1: parse error: unexpected character: 'é'"),
    ('foo{a="b"}é', "1:11: parse error: unexpected character: 'é'"),
    ('"é" +', '1:7: parse error: unexpected end of input'),
    ('x\t+\t', '1:5: parse error: unexpected end of input'),
    ('x\r\n+', '2:2: parse error: unexpected end of input'),
    ('rate(x[5m] y)', '1:12: parse error: unexpected identifier "y"'),
    ('rate(x[5m]))', "1:13: parse error: unexpected right parenthesis ')'"),
    ('(x', '1:3: parse error: unclosed left parenthesis'),
    ('(x))', "1:5: parse error: unexpected right parenthesis ')'"),
    ('((x)', '1:5: parse error: unclosed left parenthesis'),
    ('()', '1:2: parse error: unexpected ")"'),
    ('(,)', '1:2: parse error: unexpected ","'),
    ('x[5m]]', "1:6: parse error: unexpected right bracket ']'"),
    ('[5m]', '1:1: parse error: unexpected "["'),
    ('x[5m] [5m]', '1:7: parse error: ranges only allowed for vector selectors'),
    ('rate(x[5m][1m:])', '1:6: parse error: subquery is only allowed on instant vector, got matrix instead'),
    ('x[5m:1m] offset', '1:16: parse error: unexpected end of input in offset, expected number, duration, step(), or range()'),
    ('count_values("a", x, y)', '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 3'),
    ('quantile("a", x)', '1:10: parse error: expected type scalar in aggregation parameter, got string'),
    ('sum(x) + on(a) group_left 1', '1:1: parse error: vector matching only allowed between instant vectors'),
    ('x and bool y', '1:3: parse error: bool modifier can only be used on comparison operators'),
    ('x or on(a) group_right y', '1:1: parse error: no grouping allowed for "or" operation'),
    ('1 or 2', '1:1: parse error: set operator "or" not allowed in binary scalar expression'),
    ('x unless 1', '1:1: parse error: set operator "unless" not allowed in binary scalar expression'),
    ('x + "a"', '1:5: parse error: binary expression must contain only scalar and instant vector types'),
    ('-rate(x)', '1:7: parse error: expected type range vector in call to function "rate", got instant vector'),
    ('-(x[5m])', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"'),
    ('abs(x)[5m]', '1:7: parse error: ranges only allowed for vector selectors'),
    ('x @ 1 offset', '1:13: parse error: unexpected end of input in offset, expected number, duration, step(), or range()'),
    ('label_replace(x, 1, "a", "b", "c")', '1:18: parse error: expected type string in call to function "label_replace", got scalar'),
    ('histogram_quantile(0.9)', '1:1: parse error: expected 2 argument(s) in call to "histogram_quantile", got 1'),
    ('foo{a=~"x", b}', '1:14: parse error: unexpected "}" in label matching, expected label matching operator'),
    ('foo{a="b"} {c="d"}', '1:12: parse error: unexpected "{"'),
    ('foo{a="\\u00e9"', '1:15: parse error: unexpected end of input inside braces'),
    ("foo{a='b\\'}", '1:7: parse error: unterminated quoted string'),
    ('foo{a=`b}', '1:7: parse error: unterminated raw string'),
    ('sum(\n  x\n) by (a\n  b)', '4:3: parse error: unexpected identifier "b" in grouping opts, expected "," or ")"'),
    ('x +\n\n  foo bar', '3:7: parse error: unexpected identifier "bar"'),
    ('rate(\n  x[5m]\n) + on(a)\n  group_left(b c) y', '4:16: parse error: unexpected identifier "c" in grouping opts, expected "," or ")"'),
    ('\tfoo{\n\ta=1}', "2:4: parse error: unexpected character inside braces: '1'"),

    ('holt_winters(x[5m], 0.5, 0.5)', '1:1: parse error: unknown function with name "holt_winters"'),
    ('foo{a=~"a\\\\"}', '1:5: parse error: error parsing regexp: missing closing ): `^(?:a\\)$`'),
    ('label_join(x, "a", "b", 1)', '1:25: parse error: expected type string in call to function "label_join", got scalar'),
    ('foo{a="b"}[5m:1m:2m]', "1:17: parse error: unexpected colon ':'"),
    ('x[ab]', "1:3: parse error: unexpected character in duration expression: 'a'"),
    ('x[5m:x]', "1:6: parse error: unexpected character: 'x', expected ':'"),
    ('x[5m+1m]', '1:3: parse error: experimental duration expression is not enabled'),
    ('x[sx]', "1:3: parse error: unexpected character in duration expression: 's'"),
    ('{!', "1:2: parse error: unexpected character after '!' inside braces: '\ufffd'"),
    ('x !', "1:3: parse error: unexpected character after '!': '\ufffd'"),
    ('x !a', "1:3: parse error: unexpected character after '!': 'a'"),
    ('{a!b}', "1:3: parse error: unexpected character after '!' inside braces: 'b'"),
    ('(a)label_replace', '1:4: parse error: unexpected identifier "label_replace"'),
    ('time()start()', '1:7: parse error: unexpected "start"'),
    ('@', '1:1: parse error: unexpected <op:@>'),
    ('x:y +', '1:6: parse error: unexpected end of input'),
    ('x[0s', '1:5: parse error: unclosed left bracket'),
    ('x[5m+', '1:6: parse error: unclosed left bracket'),
    ('x[step()]', '1:3: parse error: experimental duration expression is not enabled'),
    ('topk  Infwithoutxsum', '1:7: parse error: unexpected identifier "Infwithoutxsum"'),
    ('x{a="b"} "a long string literal"', '1:10: parse error: unexpected string "\\"a long st"...'),
    ('x 1234567890123', '1:3: parse error: unexpected number "1234567890"...'),
    ('by limitk', '1:4: parse error: unexpected <aggr:limitk>'),
    # Accepted by promql-parser, refused by Prometheus 3.x: info()'s second
    # argument must be a label selector; ranges and steps must be positive.
    ('info(up, target_info)', '1:10: parse error: expected label selectors only, got vector selector instead'),
    ('info(up, sum(x))', '1:10: parse error: expected label selectors only'),
    ('info(up, ({a="b"}))', '1:10: parse error: expected label selectors only'),
    ('info(up, 1)', '1:1: parse error: expected type instant vector in call to function "info", got scalar'),
    ('info(up, x[5m])', '1:1: parse error: expected type instant vector in call to function "info", got range vector'),
    ('x[0:1m]', '1:3: parse error: duration must be greater than 0'),
    ('x[5m:0]', '1:6: parse error: duration must be greater than 0'),
    ('rate(x[0])', '1:8: parse error: duration must be greater than 0'),
    # 3.x syntax behind feature flags kubesight leaves off, refused as 3.x refuses it.
    ('x anchored', '1:1: parse error: anchored modifier is experimental and not enabled'),
    ('rate(x[5m] smoothed)', '1:6: parse error: smoothed modifier is experimental and not enabled'),
    ('x + fill(0) y', '1:1: parse error: binop fill modifiers are experimental and not enabled'),
    ('a - on(b) group_left fill_left(1) fill_right(2) c',
     '1:1: parse error: binop fill modifiers are experimental and not enabled'),
    ('x offset step()', '1:10: parse error: experimental duration expression is not enabled'),
    ('x offset -range()', '1:10: parse error: experimental duration expression is not enabled'),
    # 3.x's experimental functions are known to the locator (kubesight enables them).
    ('histogram_quantiles(x, "q", 0.5) +', '1:35: parse error: unexpected end of input'),
    ('histogram_quantiles(x, "q")', '1:1: parse error: expected at least 3 argument(s) in call to "histogram_quantiles", got 2'),
    ('start(1)', '1:1: parse error: expected 0 argument(s) in call to "start", got 1'),
    ('min_of(x, 1)', '1:8: parse error: expected type scalar in call to function "min_of", got instant vector'),
    ('start_timestamp(x) +', '1:21: parse error: unexpected end of input'),
    # Accepted by promql-parser, refused by Prometheus: @ beyond int64 seconds.
    ('x @ 1e20', '1:1: parse error: timestamp out of bounds for @ modifier: 100000000000000000000.000000'),
    ('rate(x[5m] @ -1e19)', '1:6: parse error: timestamp out of bounds for @ modifier: -10000000000000000000.000000'),
    # Durations past int64 nanoseconds (promql-parser keeps them, or fails to convert them).
    ('x[293y]', '1:3: parse error: duration out of range'),
    ('x offset 293y', '1:10: parse error: duration out of range'),
    ('rate(x[999999999y])', '1:8: parse error: duration out of range'),
    ('x[5m:999999999y]', '1:6: parse error: duration out of range'),
    # Number literals that overflow (promql-parser reads them as Inf, or panics).
    ('1e400', '1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1e400": value out of range'),
    ('x + -1e309', '1:6: parse error: error parsing number: strconv.ParseFloat: parsing "1e309": value out of range'),
    ('x offset 1e400', '1:10: parse error: error parsing number: strconv.ParseFloat: parsing "1e400": value out of range'),
    ('x offset 1e10', '1:10: parse error: duration out of range'),
    # Accepted by promql-parser (an extension), refused by Prometheus.
    ('up{job="a" or job="b"}', '1:12: parse error: unexpected identifier "or" in label matching, expected "," or "}"'),
    ('rate({a="b" or c="d"}[5m])', '1:13: parse error: unexpected identifier "or" in label matching, expected "," or "}"'),
]

# Queries Prometheus 3.x accepts and promql-parser alone refuses.
ACCEPTED_3X = [
    'x offset 0s',
    'x offset -0ms',
    'rate(x[5m] offset 0s)',
    'max_over_time(x[5m:1m] offset 0m0s)',
    'x @ 100 offset 0s',
    'info(up, {k=~".*"})',
    'info(up, {})',
    'info(up, {__name__!="target_info"})',
    'info(rate(x[5m]), {__name__!~".+_info", k=~".*",})',
    'anchored',
    'sum by (a, smoothed) (rate(anchored{a="b"}[5m]))',
    'x + on(anchored) smoothed',
]

# Queries whose 2.42 message differs from 3.x's (the table follows 3.x);
# None: 2.42 accepts the query.
PROMETHEUS_2_42: dict[str, str | None] = {
    # 3.0 removed holt_winters (renamed double_exponential_smoothing).
    "holt_winters(x[5m], 0.5, 0.5)": None,
    # 3.x lexes what follows "[" as a duration expression (numbers allowed,
    # step()/range()/arithmetic behind a feature flag) and names those in
    # what it expects after "offset" and "[".
    'x[5x]': '1:3: parse error: bad duration syntax: "5"',
    'x offset': '1:9: parse error: unexpected end of input in offset, expected duration',
    'x[-5m]': '1:3: parse error: missing unit character in duration',
    'x[[5m]]': '1:3: parse error: missing unit character in duration',
    'x offset -': '1:11: parse error: unexpected end of input in offset, expected duration',
    'x[1h30]': '1:3: parse error: bad duration syntax: "1h30"',
    'x[]': '1:3: parse error: missing unit character in duration',
    'x[:]': '1:3: parse error: missing unit character in duration',
    'x[5m:1m] offset': '1:16: parse error: unexpected end of input in offset, expected duration',
    'x @ 1 offset': '1:13: parse error: unexpected end of input in offset, expected duration',
    'x[ab]': '1:3: parse error: bad duration syntax: ""',
    'x[5m:x]': "1:6: parse error: unexpected colon 'x'",
    'x[5m+1m]': '1:5: parse error: unexpected <op:+> in subquery or range, expected ":" or "]"',
    'x[sx]': '1:3: parse error: bad duration syntax: "sx"',
    '@': '1:1: parse error: unexpected "<Item 57385>" <op:@>',
    'x[0s': '1:3: parse error: duration must be greater than 0',
    'x[5m+': '1:5: parse error: unexpected <op:+> in subquery or range, expected ":" or "]"',
    'x[step()]': '1:3: parse error: bad duration syntax: "st"',
    # limitk and limit_ratio are aggregation keywords since 3.0.
    'by limitk': '1:4: parse error: unexpected identifier "limitk"',
    # info() is a 3.x function; 2.42 needs durations in brackets.
    'info(up, target_info)': '1:1: parse error: unknown function with name "info"',
    'info(up, sum(x))': '1:1: parse error: unknown function with name "info"',
    'info(up, ({a="b"}))': '1:1: parse error: unknown function with name "info"',
    'info(up, 1)': '1:1: parse error: unknown function with name "info"',
    'info(up, x[5m])': '1:1: parse error: unknown function with name "info"',
    'x[0:1m]': '1:3: parse error: missing unit character in duration',
    'x[5m:0]': '1:6: parse error: unexpected number "0" in subquery selector, expected duration or "]"',
    'x offset 1e400': '1:10: parse error: unexpected number "1e400" in offset, expected duration',
    'x offset 1e10': '1:10: parse error: unexpected number "1e10" in offset, expected duration',
    'rate(x[0])': '1:8: parse error: missing unit character in duration',
    # anchored, smoothed, fill* and step/range are 3.x keywords.
    'x anchored': '1:3: parse error: unexpected identifier "anchored"',
    'rate(x[5m] smoothed)': '1:12: parse error: unexpected identifier "smoothed"',
    'x + fill(0) y': '1:5: parse error: unknown function with name "fill"',
    'a - on(b) group_left fill_left(1) fill_right(2) c': '1:22: parse error: unknown function with name "fill_left"',
    'x offset step()': '1:10: parse error: unexpected identifier "step" in offset, expected duration',
    'x offset -range()': '1:11: parse error: unexpected identifier "range" in offset, expected duration',
    # Functions 2.42 does not have.
    'histogram_quantiles(x, "q", 0.5) +': '1:1: parse error: unknown function with name "histogram_quantiles"',
    'histogram_quantiles(x, "q")': '1:1: parse error: unknown function with name "histogram_quantiles"',
    'start(1)': '1:6: parse error: unexpected "("',
    'min_of(x, 1)': '1:1: parse error: unknown function with name "min_of"',
    'start_timestamp(x) +': '1:1: parse error: unknown function with name "start_timestamp"',
}

PREFIX = 'invalid parameter "query": '


def test_table_is_big_enough_and_unique() -> None:
    queries = [q for q, _ in CASES]
    assert len(queries) >= 60
    assert len(set(queries)) == len(queries)


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[repr(q) for q, _ in CASES])
def test_message_and_position(query: str, expected: str) -> None:
    with pytest.raises(BadDataError) as info:
        parse(query)
    assert str(info.value) == PREFIX + expected


def _rejected(query: str) -> str:
    try:
        promql_parser.parse(query)
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"promql-parser accepted {query!r}")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The locator finds nothing wrong (promql-parser is stricter here):
        # Go's wording of this regexp error ("invalid repeat count") is not
        # reproduced, so promql-parser's words are kept, without a position.
        ("foo{a=~\"a{2,1}\"}", "parse error: illegal regex for a{2,1}"),
    ],
)
def test_fallback_keeps_promql_parser_message(query: str, expected: str) -> None:
    message = locate(query, _rejected(query))
    assert message == expected


def test_fallback_positions_end_of_input_errors() -> None:
    # A query the locator accepts, with a message that can only mean its end.
    assert locate("x", "unexpected end of input inside braces") == (
        "1:2: parse error: unexpected end of input inside braces"
    )
    assert locate("x\n", "unclosed left parenthesis") == "2:1: parse error: unclosed left parenthesis"
    assert locate("x", "invalid promql query") == "parse error: invalid promql query"


@pytest.mark.parametrize("query", ACCEPTED_3X)
def test_accepted_as_prometheus_3_accepts(query: str) -> None:
    with pytest.raises(ValueError):
        promql_parser.parse(query)  # the reason for the respelling in syntax/rewrite.py
    parse(query)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("prom-syntax")
    # 1h: nothing is scraped during the test; only the query parser is used.
    with run_prometheus(root, "global: {scrape_interval: 1h}\n", "--log.level=warn") as url:
        yield url


@pytest.mark.peer
def test_same_messages_as_prometheus(prometheus: str) -> None:
    differ: list[str] = []
    with httpx.Client(base_url=prometheus, timeout=30) as client:
        for query, expected in CASES:
            body = client.post("/api/v1/query", data={"query": query, "time": "1000"}).json()
            theirs = body.get("error", "<no error>")
            try:
                parse(query)
                ours = "<no error>"
            except BadDataError as exc:
                ours = str(exc)
            old = PROMETHEUS_2_42.get(query, expected)
            want = "<no error>" if old is None else PREFIX + old
            if theirs != want:
                differ.append(f"{query!r}: Prometheus {theirs!r}, table {want!r}")
            if ours != PREFIX + expected:
                differ.append(f"{query!r}: kubesight {ours!r}, table {PREFIX + expected!r}")
    print(f"{len(CASES)} syntax errors compared with Prometheus, {len(differ)} differ")
    assert not differ, "\n".join(differ)
