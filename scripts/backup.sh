#!/usr/bin/env bash
# Copy the private store (comments with emails) to a dated archive.
#
# Usage: scripts/backup.sh [DATA_DIR] [BACKUP_DIR]
# Safe while the server runs: every store file is replaced atomically, so
# each file in the archive is whole. Keep archives somewhere private.
set -euo pipefail
data_dir="${1:-data}"
backup_dir="${2:-backups}"
if [ ! -f "$data_dir/meta.json" ]; then
  echo "No Townsquare store in '$data_dir' (meta.json is missing)." >&2
  exit 1
fi
mkdir -p "$backup_dir"
archive="$backup_dir/townsquare-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"
tar --exclude='*.tmp' --exclude='.lock' --exclude='publish.lock' \
  -czf "$archive" -C "$(dirname "$data_dir")" "$(basename "$data_dir")"
chmod 600 "$archive"
echo "Backed up $data_dir to $archive"
