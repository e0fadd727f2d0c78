"""See DESIGN.md: the ship layer."""
