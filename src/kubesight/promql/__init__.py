"""See DESIGN.md: the promql layer."""
