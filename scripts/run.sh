#!/usr/bin/env bash
# Starts the whole application in the foreground: web + websockets, worker, beat. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export PYTHONUNBUFFERED=1
# Links in emails point at the port this run serves on, unless SITE_URL says otherwise.
export SITE_URL="${SITE_URL:-http://${WEB_HOST:-127.0.0.1}:${WEB_PORT:-8000}}"

started_embedded=0
# Stop the embedded servers at the end only if this run started them.
python -m config.embedded status || started_embedded=1
# Start embedded services once and hand the same URLs to every process.
eval "$(python -m config.embedded env)"

cleanup() {
  if [[ $started_embedded == 1 && "${VQ_KEEP_SERVICES:-0}" != 1 ]]; then
    env -u DATABASE_URL -u REDIS_URL python -m config.embedded down || true
  fi
}
trap cleanup EXIT

python manage.py migrate --noinput
python -m core.catalogs -q
python manage.py collectstatic --noinput --verbosity 0
python manage.py seed_demo
honcho start -f Procfile
