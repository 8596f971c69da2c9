"""supervision (issue 7)."""
