"""All database access of the reports domain."""
