"""All database access of the supervision view (电子监察)."""
