# Shared by scripts/backup.sh and scripts/restore.sh (sourced, not run).
# Resolves DATABASE_URL (the embedded server when unset, started if needed) and picks PostgreSQL client
# binaries that can talk to that server: PG_BIN when set; else the system's when DATABASE_URL was set
# (the embedded server's otherwise), falling back to the other one when the first is missing or older
# than the server (pg_dump refuses a newer server).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/.venv/bin:$PATH"

database_url_was_set=0
[[ -n "${DATABASE_URL:-}" ]] && database_url_was_set=1
if [[ $database_url_was_set == 0 ]]; then
  # Like scripts/test.sh: stop the embedded servers at the end only if this command started them.
  started_embedded=0
  python -m config.embedded status || started_embedded=1
  eval "$(python -m config.embedded env)"
  stop_embedded() {
    if [[ $started_embedded == 1 && "${VQ_KEEP_SERVICES:-0}" != 1 ]]; then
      env -u DATABASE_URL -u REDIS_URL python -m config.embedded down >/dev/null || true
    fi
  }
  trap stop_embedded EXIT
fi

embedded_bin() {
  python - <<'PY'
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
import pgserver

print(Path(pgserver.__file__).parent / "pginstall" / "bin")
PY
}

system_bin() {
  local dump
  dump="$(command -v pg_dump 2>/dev/null || true)"
  [[ -n "$dump" ]] && dirname "$(readlink -f "$dump")"
  return 0
}

major_of() {  # "pg_dump (PostgreSQL) 16.2" -> 16
  "$1" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)?.*/\1/'
}

pick_pg_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then
    echo "$PG_BIN"
    return
  fi
  local candidates=()
  if [[ $database_url_was_set == 1 ]]; then
    candidates=("$(system_bin)" "$(embedded_bin)")
  else
    candidates=("$(embedded_bin)" "$(system_bin)")
  fi
  local server_major="" dir
  for dir in "${candidates[@]}"; do
    [[ -n "$dir" && -x "$dir/pg_dump" && -x "$dir/psql" ]] || continue
    if [[ -z "$server_major" ]]; then
      server_major="$("$dir/psql" "$DATABASE_URL" -XAtqc "SELECT current_setting('server_version_num')::int / 10000")"
    fi
    if (( $(major_of "$dir/pg_dump") >= server_major )); then
      echo "$dir"
      return
    fi
  done
  echo "no pg_dump/pg_restore at least as new as the server (PostgreSQL $server_major); set PG_BIN" >&2
  exit 1
}
