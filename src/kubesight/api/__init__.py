"""See DESIGN.md: the api layer."""
