#!/bin/sh
# Put a backup made by backup.sh back in place of the live database.
#
#   systemctl stop pickup pickup-outbox
#   deploy/restore.sh BACKUP [DATABASE]
#   systemctl start pickup pickup-outbox     # init-db applies any newer migrations
#
# Checks the backup first, keeps the database it replaces (with its -wal and -shm files)
# as DATABASE.before-restore-<time>, and refuses while the web service is running.
set -eu

[ $# -ge 1 ] || { echo "usage: restore.sh BACKUP [DATABASE]" >&2; exit 2; }
BACKUP=$1
DATABASE=${2:-/var/lib/pickup/pickup.sqlite3}

[ -f "$BACKUP" ] || { echo "restore.sh: no backup at $BACKUP" >&2; exit 1; }
if command -v systemctl >/dev/null 2>&1 &&
    systemctl is-active --quiet pickup.service pickup-outbox.service 2>/dev/null; then
    echo "restore.sh: stop pickup and pickup-outbox first (systemctl stop pickup pickup-outbox)" >&2
    exit 1
fi

umask 077
# Checked as the copy about to go in place, so sqlite3 leaves nothing beside the backup.
incoming="$DATABASE.restoring"
trap 'rm -f "$incoming" "$incoming-wal" "$incoming-shm"' EXIT
cp "$BACKUP" "$incoming"
# A badly damaged file makes sqlite3 itself fail: that is a failed check too.
check=$(sqlite3 "$incoming" "PRAGMA integrity_check" 2>&1) || true
if [ "$check" != "ok" ]; then
    echo "restore.sh: the backup failed integrity_check, nothing changed: $check" >&2
    exit 1
fi

if [ -e "$DATABASE" ]; then
    # Run as root, the copy would be root's: give it the owner the service writes as.
    chown --reference="$DATABASE" "$incoming" 2>/dev/null || true
    kept="$DATABASE.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
    for suffix in "" -wal -shm; do
        if [ -e "$DATABASE$suffix" ]; then mv "$DATABASE$suffix" "$kept$suffix"; fi
    done
    echo "restore.sh: the replaced database is kept as $kept"
fi
mv "$incoming" "$DATABASE"
echo "restore.sh: restored $BACKUP to $DATABASE"
