"""Prometheus-faithful reading of PromQL text: lexer, grammar locator, checks.

Used for what promql-parser does not give: Prometheus' positioned syntax
errors (:mod:`kubesight.promql.syntax_errors`) and token positions for
annotations (:mod:`kubesight.promql.positions`).
"""
