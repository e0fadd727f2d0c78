"""See DESIGN.md: the wire layer."""
