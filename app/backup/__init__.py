"""Backups and restores: a consistent database snapshot plus every stored file, checked.

``python -m app backup DEST`` writes ``DEST/database.sqlite3`` (SQLite online backup) or
``DEST/database.dump`` (``pg_dump --format=custom`` as the maintenance role), then copies
every file the snapshot's ``stored_file`` rows name into ``DEST/files/<key>`` verifying each
SHA-256, and writes ``DEST/manifest.json`` last: a directory without one is incomplete.
``python -m app restore SRC`` checks everything first, then fills an empty store and an empty
database and compares the row counts.  ``infra/backup/`` has the nightly timer and the drill.
"""
