"""See DESIGN.md: the web layer."""
