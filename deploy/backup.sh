#!/bin/sh
# Back up SupportDesk: the database (pg_dump, custom format) and the attachments folder.
#   With RESTIC_REPOSITORY set (sftp:backup@host:/srv/restic/desk, s3:https://..., see restic's docs)
#   and RESTIC_PASSWORD_FILE: the dump and the attachments go into that restic repository, off this
#   machine, deduplicated and encrypted; snapshots are then thinned to BACKUP_KEEP_DAILY daily (14),
#   BACKUP_KEEP_WEEKLY weekly (8) and BACKUP_KEEP_MONTHLY monthly (12). DEST keeps the latest dump.
#   Without it: a dump and a tarball of the attachments side by side in DEST under one UTC timestamp,
#   older than BACKUP_KEEP_DAYS (14) removed.
# Usage: DATABASE_URL=postgresql://... ATTACHMENTS_DIR=/var/lib/supportdesk/attachments backup.sh [DEST]
# On a server: supportdesk-backup.timer runs it every night; a failure starts supportdesk-alert@.service.
set -eu

dest="${1:-/var/backups/supportdesk}"
keep_days="${BACKUP_KEEP_DAYS:-14}"
# SQLAlchemy's driver suffix means nothing to pg_dump.
url="$(printf '%s' "${DATABASE_URL:?DATABASE_URL is required}" | sed 's/^postgresql+psycopg:/postgresql:/')"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

umask 077
mkdir -p "$dest"
# Files are written under a temporary name and renamed when complete, so a half-written one never looks
# finished; whatever way this script ends, no temporary file stays behind.
trap 'rm -f "$dest"/*.partial' EXIT
trap 'exit 1' INT TERM HUP

restic_() {
    # RESTIC_SFTP_COMMAND: how to reach an SFTP repository (ssh with this server's own key and pinned
    # host key), e.g. "ssh -i /etc/supportdesk/backup_ed25519 -o UserKnownHostsFile=... backup@host -s sftp".
    if [ -n "${RESTIC_SFTP_COMMAND:-}" ]; then
        restic -o "sftp.command=$RESTIC_SFTP_COMMAND" "$@"
    else
        restic "$@"
    fi
}

if [ -n "${RESTIC_REPOSITORY:-}" ]; then
    pg_dump --format=custom --compress=0 --no-owner --no-privileges --dbname="$url" \
        --file="$dest/supportdesk.dump.partial"  # uncompressed: restic compresses and deduplicates
    mv "$dest/supportdesk.dump.partial" "$dest/supportdesk.dump"
    set -- "$dest/supportdesk.dump"
    if [ -n "${ATTACHMENTS_DIR:-}" ] && [ -d "$ATTACHMENTS_DIR" ]; then
        set -- "$@" "$ATTACHMENTS_DIR"
    fi
    restic_ backup --quiet --tag supportdesk --host "${BACKUP_HOST_NAME:-supportdesk}" "$@"
    restic_ forget --quiet --tag supportdesk --prune --keep-daily "${BACKUP_KEEP_DAILY:-14}" \
        --keep-weekly "${BACKUP_KEEP_WEEKLY:-8}" --keep-monthly "${BACKUP_KEEP_MONTHLY:-12}"
    restic_ snapshots --latest 1 --tag supportdesk --compact | sed -n 3p
    exit 0
fi

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
