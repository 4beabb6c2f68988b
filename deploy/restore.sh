#!/bin/sh
# Restore a SupportDesk backup made by backup.sh into the database at DATABASE_URL (replacing what is
# there) and, when given, the attachments (a tarball from a local backup, or a folder restored from
# restic) into ATTACHMENTS_DIR. Stop the app first; run the migrations after (the backup may be older
# than the release).
# Usage: DATABASE_URL=postgresql://... ATTACHMENTS_DIR=... restore.sh DUMP [ATTACHMENTS.tar.gz|FOLDER]
set -eu

dump="${1:?usage: restore.sh DUMP [ATTACHMENTS.tar.gz|FOLDER]}"
attachments="${2:-}"
url="$(printf '%s' "${DATABASE_URL:?DATABASE_URL is required}" | sed 's/^postgresql+psycopg:/postgresql:/')"

pg_restore --list "$dump" >/dev/null  # refuse an unreadable file before touching the database
# One transaction: a restore that fails half-way leaves the database as it was.
pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
    --dbname="$url" "$dump"

if [ -n "$attachments" ]; then
    : "${ATTACHMENTS_DIR:?ATTACHMENTS_DIR is required to restore attachments}"
    mkdir -p "$ATTACHMENTS_DIR"
    if [ -d "$attachments" ]; then
        cp -a "$attachments/." "$ATTACHMENTS_DIR/"
    else
        tar -C "$ATTACHMENTS_DIR" -xzf "$attachments"
    fi
fi
echo "restored $dump"
