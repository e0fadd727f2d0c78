"""See DESIGN.md: the collect layer."""
