"""Publishing: look up, push, verify and alias packages; deploy(); release notes."""
