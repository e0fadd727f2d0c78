"""See DESIGN.md: the checks layer."""
