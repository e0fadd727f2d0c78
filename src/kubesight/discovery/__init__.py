"""See DESIGN.md: the discovery layer."""
