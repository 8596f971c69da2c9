#!/bin/sh
# Nightly backup (run by bianmin-backup.service): a new directory $BACKUP_DIR/YYYY-MM-DD-HHMM
# holding the database snapshot, every stored file and manifest.json, then the retention
# rule (14 daily, 8 weekly, 12 monthly). Environment: BACKUP_DIR (required), APP_DIR
# (default /srv/bianmin/app), the app's settings (DATABASE_URL, MAINTENANCE_DATABASE_URL,
# STORAGE_URL, VAR_DIR, ID_HASH_KEY …) and, optionally, BACKUP_OFFSITE: a command run with
# the new directory as $1 after a good backup (e.g. an rsync to another machine).
#
# Exit status: that of `python -m app backup` — 0 complete; 3 written, but some stored files
# were already missing or corrupt in the store (listed; the backup is still usable, so the
# old ones are pruned); 1 or 2 failed — nothing is pruned, every older backup stays.
set -eu

: "${BACKUP_DIR:?BACKUP_DIR is not set}"
APP_DIR=${APP_DIR:-/srv/bianmin/app}
PYTHON=${PYTHON:-$APP_DIR/.venv/bin/python}

cd "$APP_DIR"
mkdir -p "$BACKUP_DIR"
dest="$BACKUP_DIR/$(date +%F-%H%M)"

status=0
"$PYTHON" -m app backup "$dest" || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
    echo "backup failed (status $status): nothing pruned; $dest is incomplete" >&2
    exit "$status"
fi

"$PYTHON" -m app backup --prune "$BACKUP_DIR"

if [ -n "${BACKUP_OFFSITE:-}" ]; then
    sh -c "$BACKUP_OFFSITE" bianmin-backup-offsite "$dest"
fi
exit "$status"
