"""staff (issue 7)."""
