#!/usr/bin/env bash
# make restore FILE=path.dump: restore a dump made by scripts/backup.sh into DATABASE_URL (the embedded
# server when unset), or into RESTORE_DATABASE_URL when set (e.g. a fresh database to inspect a backup).
# Existing objects in the target are dropped and recreated from the dump; it runs in ONE transaction, so
# a failed restore leaves the target as it was. Stop web, worker and beat first (`make run` / Ctrl-C):
# they would otherwise write to tables being replaced (the restore waits for their locks).
source "$(dirname "$0")/backup_lib.sh"

file="${1:-${FILE:-}}"
if [[ -z "$file" || ! -f "$file" ]]; then
  echo "usage: make restore FILE=path/to/backup.dump   (file not found: '${file}')" >&2
  exit 2
fi
target="${RESTORE_DATABASE_URL:-$DATABASE_URL}"
DATABASE_URL="$target"
bin="$(pick_pg_bin)"
"$bin/pg_restore" --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname="$target" "$file"
echo "restored $file"
