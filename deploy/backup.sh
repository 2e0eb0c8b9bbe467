#!/bin/sh
# Nightly backup of the pickup database (run by pickup-backup.timer).
#
#   deploy/backup.sh [DATABASE] [BACKUP_DIR] [KEEP]
#
# Takes a consistent copy with sqlite3's .backup while the service keeps running (WAL lets
# writers go on), checks it with PRAGMA integrity_check, moves it into place only when it
# is whole, and keeps the newest KEEP copies (one a night: KEEP days). Prints the new file.
set -eu

DATABASE=${1:-/var/lib/pickup/pickup.sqlite3}
BACKUP_DIR=${2:-/var/lib/pickup/backups}
KEEP=${3:-14}

case $KEEP in
'' | *[!0-9]*) echo "backup.sh: KEEP must be a whole number, got '$KEEP'" >&2; exit 2 ;;
esac
[ "$KEEP" -ge 1 ] || { echo "backup.sh: KEEP must be at least 1" >&2; exit 2; }
[ -f "$DATABASE" ] || { echo "backup.sh: no database at $DATABASE" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "backup.sh: needs sqlite3 (apt-get install sqlite3)" >&2; exit 1; }

umask 077  # backups hold phone numbers and voucher codes
mkdir -p "$BACKUP_DIR"
name="pickup-$(date -u +%Y%m%dT%H%M%S%NZ).sqlite3"
partial="$BACKUP_DIR/.$name.partial"
trap 'rm -f "$partial" "$partial-wal" "$partial-shm"' EXIT

# .timeout: wait for a busy writer instead of failing; .backup copies one consistent snapshot.
sqlite3 "$DATABASE" ".timeout 30000" ".backup '$partial'"
check=$(sqlite3 "$partial" "PRAGMA integrity_check" 2>&1) || true
if [ "$check" != "ok" ]; then
    echo "backup.sh: the copy failed integrity_check, kept nothing: $check" >&2
    exit 1
fi
mv "$partial" "$BACKUP_DIR/$name"

# Rotation: names sort by time, newest last; remove all but the newest KEEP.
ls -1 "$BACKUP_DIR" | grep -E '^pickup-[0-9]{8}T[0-9]+Z\.sqlite3$' | sort | head -n "-$KEEP" |
    while read -r old; do rm -f "$BACKUP_DIR/$old"; done
echo "$BACKUP_DIR/$name"
