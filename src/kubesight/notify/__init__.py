"""See DESIGN.md: the notify layer."""
