"""All database access of the case desk (every function takes the scope first)."""
