"""Supervision jobs (filled in by issue 7's supervision work)."""
