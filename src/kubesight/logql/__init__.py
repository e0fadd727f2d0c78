"""See DESIGN.md: the logql layer."""
