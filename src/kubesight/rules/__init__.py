"""See DESIGN.md: the rules layer."""
