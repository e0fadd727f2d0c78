"""See DESIGN.md: the scrape layer."""
