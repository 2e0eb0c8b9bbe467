#!/bin/sh
# Nightly backup of the pickup database on PostgreSQL (run by pickup-pg-backup.timer).
#
#   deploy/pg-backup.sh [URL] [BACKUP_DIR] [KEEP]
#
# URL defaults to PICKUP_DB (the unit reads /etc/pickup/env); keep the password out of it
# and in the pickup user's ~/.pgpass, since a URL on the command line is visible in ps.
# pg_dump reads one consistent snapshot while every node keeps writing; the dump (custom
# format, compressed) is checked by listing it with pg_restore, moved into place only when
# whole, and the newest KEEP are kept. Prints the new file.
# Restore into a new, empty database: createdb -O pickup pickup_restored &&
#   pg_restore --no-owner --exit-on-error -d postgresql://pickup@db/pickup_restored FILE
set -eu

URL=${1:-${PICKUP_DB:-}}
BACKUP_DIR=${2:-/var/lib/pickup/backups}
KEEP=${3:-14}

case $KEEP in
'' | *[!0-9]*) echo "pg-backup.sh: KEEP must be a whole number, got '$KEEP'" >&2; exit 2 ;;
esac
[ "$KEEP" -ge 1 ] || { echo "pg-backup.sh: KEEP must be at least 1" >&2; exit 2; }
case $URL in
postgresql://* | postgres://*) ;;
'') echo "pg-backup.sh: give the database's URL (or set PICKUP_DB)" >&2; exit 2 ;;
*) echo "pg-backup.sh: not a postgresql:// URL; for a SQLite file use deploy/backup.sh" >&2; exit 2 ;;
esac
command -v pg_dump >/dev/null || { echo "pg-backup.sh: needs pg_dump (apt-get install postgresql-client)" >&2; exit 1; }

umask 077  # backups hold phone numbers and voucher codes
mkdir -p "$BACKUP_DIR"
name="pickup-$(date -u +%Y%m%dT%H%M%S%NZ).pgdump"
partial="$BACKUP_DIR/.$name.partial"
trap 'rm -f "$partial"' EXIT

# --no-owner/--no-acl: the dump restores into a database owned by whoever restores it.
if ! pg_dump --format=custom --no-owner --no-acl --file="$partial" --dbname="$URL"; then
    echo "pg-backup.sh: pg_dump failed, kept nothing" >&2
    exit 1
fi
if ! pg_restore --list "$partial" >/dev/null; then
    echo "pg-backup.sh: the dump cannot be read back, kept nothing" >&2
    exit 1
fi
mv "$partial" "$BACKUP_DIR/$name"

# Rotation: names sort by time, newest last; remove all but the newest KEEP.
ls -1 "$BACKUP_DIR" | grep -E '^pickup-[0-9]{8}T[0-9]+Z\.pgdump$' | sort | head -n "-$KEEP" |
    while read -r old; do rm -f "$BACKUP_DIR/$old"; done
echo "$BACKUP_DIR/$name"
