"""documents (issue 7)."""
