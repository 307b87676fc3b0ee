#!/usr/bin/env bash
# Copy the private store (comments with emails) to a dated archive.
#
# Usage: scripts/backup.sh [DATA_DIR] [BACKUP_DIR]
# Safe while the server runs: every store file is replaced atomically, so
# each file in the archive is whole. Keep archives somewhere private, away
# from the site's repository.
set -euo pipefail
data_dir="${1:-data}"
backup_dir="${2:-backups}"
if [ ! -f "$data_dir/meta.json" ]; then
  echo "No Townsquare store in '$data_dir' (meta.json is missing)." >&2
  exit 1
fi
mkdir -p "$backup_dir"
umask 077
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
archive="$backup_dir/townsquare-$stamp.tar.gz"
# Never overwrite an earlier archive taken in the same second.
n=1
while [ -e "$archive" ]; do
  archive="$backup_dir/townsquare-$stamp-$n.tar.gz"
  n=$((n + 1))
done
tar --exclude='*.tmp' --exclude='.lock' --exclude='publish.lock' --exclude='build-cache' \
  -czf "$archive" -C "$(dirname "$data_dir")" "$(basename "$data_dir")"
echo "Backed up $data_dir to $archive"
