"""All database access of the staff area (work logs, assessment)."""
