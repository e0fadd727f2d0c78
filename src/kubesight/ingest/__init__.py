"""See DESIGN.md: the ingest layer."""
