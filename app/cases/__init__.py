"""The case desk: intake, workflow, deadlines, documents, materials, ratings, the ledger."""
