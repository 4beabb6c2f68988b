#!/bin/sh
# Back up SupportDesk: the database (pg_dump, custom format) and the attachments folder, side by side
# under one UTC timestamp, then drop backups older than BACKUP_KEEP_DAYS (default 14).
# Usage: DATABASE_URL=postgresql://... ATTACHMENTS_DIR=/var/lib/supportdesk/attachments backup.sh [DEST]
# Installed on the VM as a daily systemd timer (deploy/systemd/supportdesk-backup.timer).
set -eu

dest="${1:-/var/backups/supportdesk}"
keep_days="${BACKUP_KEEP_DAYS:-14}"
# SQLAlchemy's driver suffix means nothing to pg_dump.
url="$(printf '%s' "${DATABASE_URL:?DATABASE_URL is required}" | sed 's/^postgresql+psycopg:/postgresql:/')"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

umask 077
mkdir -p "$dest"
# Write under a temporary name and rename when complete, so a half-written dump never looks finished.
pg_dump --format=custom --compress=6 --no-owner --no-privileges --dbname="$url" \
    --file="$dest/supportdesk-$stamp.dump.partial"
mv "$dest/supportdesk-$stamp.dump.partial" "$dest/supportdesk-$stamp.dump"

if [ -n "${ATTACHMENTS_DIR:-}" ] && [ -d "$ATTACHMENTS_DIR" ]; then
    tar -C "$ATTACHMENTS_DIR" -czf "$dest/attachments-$stamp.tar.gz.partial" .
    mv "$dest/attachments-$stamp.tar.gz.partial" "$dest/attachments-$stamp.tar.gz"
fi

find "$dest" -maxdepth 1 \( -name 'supportdesk-*.dump' -o -name 'attachments-*.tar.gz' \) \
    -mtime +"$keep_days" -delete
echo "$dest/supportdesk-$stamp.dump"
