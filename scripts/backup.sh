#!/usr/bin/env bash
# make backup: a consistent dump of the whole database (pg_dump custom format: compressed, one snapshot,
# restorable table by table) into BACKUP_DIR (default $VQ_DATA_DIR/backups/, i.e. .data/backups/), or
# to the path given as $1.
# Uses DATABASE_URL, or the embedded server when unset. Safe while the app runs (pg_dump reads one MVCC
# snapshot and takes no locks that block writers). Prints the file written.
source "$(dirname "$0")/backup_lib.sh"

bin="$(pick_pg_bin)"
file="${1:-}"
if [[ -z "$file" ]]; then
  dir="${BACKUP_DIR:-${VQ_DATA_DIR:-.data}/backups}"
  mkdir -p "$dir"
  database="$("$bin/psql" "$DATABASE_URL" -XAtqc "SELECT current_database()")"
  file="$dir/$database-$(date -u +%Y%m%dT%H%M%SZ).dump"
fi
tmp="$file.partial"
# --no-owner / --no-privileges: the dump restores into any role's database (the restore target's owner
# owns everything), as managed PostgreSQL services require.
"$bin/pg_dump" --format=custom --no-owner --no-privileges --file="$tmp" "$DATABASE_URL"
mv "$tmp" "$file"  # a dump that did not finish never looks like a backup
echo "$file"
