"""All database access for the catalogue, one module per topic."""
