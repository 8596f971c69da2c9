"""circulars (issue 7)."""
