"""File storage: one interface, a local-folder and an S3 backend, upload checks, downloads.

Domains use ``services.accept_upload`` in their form handlers, keep the returned file id on
their own rows, and serve files through ``routes.file_response`` (DESIGN.md rule 10).
"""
